package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/train"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

// archivePreviousRun moves what an earlier run left in dir (its receipt,
// checkpoints, proofs and plot) into dir/run-TIME, so that dir holds one
// run: a receipt audits the proofs beside it, and another run's proofs
// there would fail the audit. It returns where they went ("" if nothing
// was there).
func archivePreviousRun(dir string) (string, error) {
	var old []string
	for _, pattern := range []string{receipt.FileName, receipt.CheckpointDir, "proof-*.json", "run.png"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return "", err
		}
		old = append(old, m...)
	}
	if len(old) == 0 {
		return "", nil
	}
	to := filepath.Join(dir, "run-"+time.Now().UTC().Format("20060102-150405"))
	if err := os.Mkdir(to, 0o755); err != nil {
		return "", fmt.Errorf("keeping the previous run: %w", err)
	}
	for _, p := range old {
		if err := os.Rename(p, filepath.Join(to, filepath.Base(p))); err != nil {
			return "", fmt.Errorf("keeping the previous run: %w", err)
		}
	}
	return to, nil
}

// mnistDataset describes the MNIST files of dataDir for a receipt.
func mnistDataset(dataDir string, trainSet, testSet *mnist.Set) (receipt.Dataset, error) {
	d := receipt.Dataset{Name: "mnist", Transform: mnist.Transform, Train: trainSet.Len(), Test: testSet.Len()}
	for _, name := range []string{mnist.TrainImages, mnist.TrainLabels, mnist.TestImages, mnist.TestLabels} {
		f, err := receipt.HashFile(filepath.Join(dataDir, name))
		if err != nil {
			return d, err
		}
		d.Files = append(d.Files, f)
	}
	return d, nil
}

// openMNIST opens the training set a receipt declares from dataDir, after
// checking every file's SHA-256 against the receipt.
func openMNIST(dataDir string, d receipt.Dataset) (train, test *mnist.Set, err error) {
	if d.Name != "mnist" || d.Transform != mnist.Transform {
		return nil, nil, fmt.Errorf("the receipt's dataset is %q with transform %q, not mnist %s", d.Name, d.Transform, mnist.Transform)
	}
	if err := receipt.CheckFiles(dataDir, d.Files); err != nil {
		return nil, nil, err
	}
	if train, test, err = mnist.Load(dataDir); err != nil {
		return nil, nil, err
	}
	return train.Subset(d.Train), test.Subset(d.Test), nil
}

// receiptNote tells the user where the receipt is and how to audit it.
func receiptNote(w io.Writer, rc *receipt.Writer) {
	fmt.Fprintf(w, "receipt: %s\naudit it: go run ./cmd/pouw audit %s    (replay steps: go run ./examples/mnist -audit %s)\n",
		filepath.Join(rc.Dir(), receipt.FileName), rc.Dir(), rc.Dir())
}

var errAudit = errors.New("audit failed")

// the interfaces the replay needs from the training package.
var _ train.Dataset = (*mnist.Set)(nil)
