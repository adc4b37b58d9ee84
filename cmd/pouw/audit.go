package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

const auditAbout = `Audit checks the training receipt in DIR (receipt.jsonl, written by a mined
training run next to its proofs) and the proof files beside it, without any
model code:

  - the records are chained by hash: none was changed, removed or reordered;
  - every proof file verifies and is a product the receipt records (its
    commitment roots and ID), and every proof the receipt lists is there;
  - every checkpoint file is the one the receipt names (SHA-256), and the
    weight operands re-quantised from it give the recorded roots;
  - at -samples steps spread over the run, the first layer's input rebuilt
    from the declared dataset and the recorded batch gives the recorded
    root (MNIST from -data, or the copy the Go module cache holds).

What needs the model (replaying whole steps, forward and backward, and the
final test accuracy) is the training program's own -audit. The exit status
is 0 only if every check passed.`

func runAudit(stdout, stderr io.Writer, args []string) int {
	fs := newFlagSet(stderr, "audit", "[-samples N] [-data DIR] DIR", auditAbout)
	samples := fs.Int("samples", 5, "how many steps have their input rebuilt from the dataset")
	dataDir := fs.String("data", "", "directory of the dataset's files (MNIST: default the GoMNIST module's copy)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 || *samples < 0 {
		fmt.Fprintln(stderr, "pouw audit: give one receipt directory")
		fs.Usage()
		return exitUsage
	}
	dir := fs.Arg(0)
	start := time.Now()
	rep, err := receipt.Audit(dir, receipt.AuditOptions{Samples: *samples, OpenDataset: func(d receipt.Dataset) (receipt.Features, error) {
		return openDataset(d, *dataDir)
	}})
	if rep != nil {
		r := rep.Receipt
		fmt.Fprintf(stdout, "receipt      %s: %d records chained, model %q (digest %.16s…), %d steps, %d mined products\n",
			filepath.Join(dir, receipt.FileName), r.Records, r.Run.Model.Name, r.Run.Model.Digest, len(r.Steps), len(r.Products))
		fmt.Fprintf(stdout, "proofs       %d verify and are products of this run\n", rep.Proofs)
		fmt.Fprintf(stdout, "checkpoints  %d match their hashes; %d weight operands re-derived from them\n", rep.Checkpoints, rep.WeightOperands)
		if rep.InputSteps > 0 {
			fmt.Fprintf(stdout, "inputs       %d steps: %d first-layer operands rebuilt from %s\n", rep.InputSteps, rep.InputOperands, r.Run.Dataset.Name)
		} else {
			fmt.Fprintf(stdout, "inputs       not checked: %s feeds no mined product directly (a convolution's patches do; the training program's -audit replays them)\n", r.Run.Model.Input.Name)
		}
		if r.End != nil {
			fmt.Fprintf(stdout, "claimed      %d steps, test accuracy %.2f %% (replayed only by the training program's -audit)\n", r.End.Steps, 100*r.End.TestAccuracy)
		}
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stdout, "FAIL  %s\n", printable(line))
		}
		return exitFail
	}
	fmt.Fprintf(stdout, "OK    in %s\n", time.Since(start).Round(time.Millisecond))
	return exitOK
}

// openDataset opens a receipt's training set, after checking its files'
// hashes. MNIST is the one dataset this tool reads.
func openDataset(d receipt.Dataset, dir string) (receipt.Features, error) {
	if d.Name != "mnist" || d.Transform != mnist.Transform {
		return nil, fmt.Errorf("dataset %q with transform %q: this tool reads mnist (%s)", d.Name, d.Transform, mnist.Transform)
	}
	if dir == "" {
		var err error
		if dir, err = mnist.DefaultDir(); err != nil {
			return nil, err
		}
	}
	if err := receipt.CheckFiles(dir, d.Files); err != nil {
		return nil, err
	}
	set, err := mnist.LoadFiles(filepath.Join(dir, mnist.TrainImages), filepath.Join(dir, mnist.TrainLabels))
	if err != nil {
		return nil, err
	}
	return set.Subset(d.Train), nil
}

// printable escapes control characters and caps a line at 400 bytes: an
// audit's messages quote names from the receipt, which is untrusted input.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 400 {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
