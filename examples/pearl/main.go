// Command pearl trains a model whose layers are large enough for Pearl's
// mainnet rules and mines against a running pearl-gateway while it trains:
// the gateway's job is mined, every proof found is written to -proofs and
// submitted in the background, and the summary says what share of the
// model's work was eligible and what the gateway did with the proofs.
//
//	go run ./examples/pearl -gateway unix:///tmp/pearlgw.sock
//	go run ./examples/pearl                 # no gateway: a development job, same rules
//
// Pearl admits a product only if its inner dimension k is at least 16 times
// the noise rank (r ≥ 128, so k ≥ 2048; PROTOCOL.md §10). A layer's forward
// product has k = its input width and its weight-gradient product k = the
// batch size, so the model is 2048 → hidden → 10 and the batch 2048: the
// forward product of the first layer and the weight gradients of both are
// mined; the small products (k = hidden, k = 10) run exact and unmined.
// The data are synthetic (labels of a random linear teacher), so the
// program needs no download. See docs/GATEWAY.md for running pearld and
// pearl-gateway.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/pouw/gateway"
	"github.com/usefulwork/minedmatmul/train"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pearl:", err)
		}
		os.Exit(1)
	}
}

// config is everything the flags set.
type config struct {
	gateway, proofDir                  string
	epochs, batch, features, hidden, n int
	lr, macsPerProof                   float64
	poll, drain                        time.Duration
	seed                               uint64
	quiet                              bool
}

const classes = 10

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("pearl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.gateway, "gateway", "", "pearl-gateway `ADDR` (unix:///tmp/pearlgw.sock, tcp://127.0.0.1:8337, …); empty: a development job")
	fs.StringVar(&c.proofDir, "proofs", "proofs", "directory every proof is written to before it is submitted")
	fs.IntVar(&c.epochs, "epochs", 2, "training epochs")
	fs.IntVar(&c.batch, "batch", 2048, "batch size: the k of the weight-gradient products (Pearl needs ≥ 2048)")
	fs.IntVar(&c.features, "features", 2048, "input width: the k of the first layer's forward product")
	fs.IntVar(&c.hidden, "hidden", 256, "hidden width")
	fs.IntVar(&c.n, "examples", 8192, "synthetic training examples (a quarter as many more are held out)")
	fs.Float64Var(&c.lr, "lr", 0.001, "Adam learning rate")
	fs.Float64Var(&c.macsPerProof, "macs-per-proof", 1e10, "without -gateway: difficulty, expected MACs of mined work per proof")
	fs.DurationVar(&c.poll, "poll", time.Second, "how often the gateway is asked for its job")
	fs.DurationVar(&c.drain, "drain", 30*time.Second, "at the end, how long to keep submitting queued proofs")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the data, the weights and the rounding")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bars")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.epochs < 1 || c.batch < 1 || c.features < 1 || c.hidden < 1 || c.n < c.batch {
		return c, errors.New("-epochs, -batch, -features and -hidden must be positive, and -examples at least -batch")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}

	// The job source: the gateway, or a development job under the same
	// rules, so the program shows what would be mined before a node is up.
	var (
		jobs    pouw.JobSource
		gw      *gateway.Client
		onProof func(pouw.Found)
		nbits   uint32
	)
	if c.gateway != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		gw, err = gateway.Dial(ctx, c.gateway, gateway.Options{
			ProofDir:     c.proofDir,
			PollInterval: c.poll,
			Logf:         func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) },
		})
		cancel()
		if err != nil {
			return err
		}
		jobs, onProof = gw, gw.OnProof
		if j, err := gw.CurrentJob(); err == nil {
			nbits = j.Header.Bits
			fmt.Fprintf(stderr, "gateway %s: job with nbits %#08x\n", c.gateway, nbits)
		} else {
			fmt.Fprintf(stderr, "gateway %s: %v (training anyway; mining starts when it has a job)\n", c.gateway, err) // gateway text in err is escaped
		}
	} else {
		nbits = pouw.Pearl.Nbits(c.macsPerProof, 128)
		proofs, err := pouw.NewProofWriter(c.proofDir, nil)
		if err != nil {
			return err
		}
		defer proofs.Close()
		jobs, onProof = pouw.DevJob(nbits), proofs.OnProof
		fmt.Fprintf(stderr, "no -gateway: development job, nbits %#08x, proofs to %s/\n", nbits, c.proofDir)
	}
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: jobs, Profile: pouw.Pearl, OnProof: onProof})
	if err != nil {
		return err
	}

	m, err := newModel(c, miner)
	if err != nil {
		return err
	}
	data := newTeacher(c.features, c.n+c.n/4, c.seed)
	trainSet, testSet := data.split(c.n)
	opts := train.Options{
		Epochs: c.epochs, Seed: c.seed, Miner: miner, Nbits: nbits,
		Solver: train.NewAdam(c.lr, c.batch), // gorgonia.NewAdamSolver's arithmetic, one pass a tensor
	}
	if !c.quiet {
		opts.Progress = stderr
	}
	sum, _, runErr := train.Run(m, trainSet, testSet, opts)

	var closeErr error
	if gw != nil {
		// Training is over; give the queue a bounded time to drain. What is
		// left is on disk for `pouw submit`.
		ctx, cancel := context.WithTimeout(context.Background(), c.drain)
		closeErr = gw.Close(ctx)
		cancel()
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintln(stdout)
	sum.WriteTo(stdout)
	fmt.Fprintf(stdout, "\npearl profile\n%s\n", miner.Stats().WorkShare())
	if gw != nil {
		s := gw.Stats()
		fmt.Fprintf(stdout, "\ngateway %s\n", c.gateway)
		fmt.Fprintf(stdout, "jobs seen         %d, mining paused %s\n", s.JobsSeen, s.PausedTime.Round(time.Millisecond))
		fmt.Fprintf(stdout, "proofs            %d saved to %s, %d submitted, %d accepted, %d failed, %d too large to send, %d dropped, %d retries, %d stale\n",
			s.Saved, c.proofDir, s.Submitted, s.Accepted, s.Failed, s.TooLarge, s.Dropped, s.Retries, s.Stale)
		if closeErr != nil {
			fmt.Fprintf(stdout, "not submitted     %v\n                  send later: go run ./cmd/pouw submit --gateway %s FILE...\n", closeErr, c.gateway)
		}
	}
	return nil
}

// newModel builds features → hidden (ReLU) → 10 with mined products.
func newModel(c config, miner *pouw.Miner) (*train.Model, error) {
	rng := rand.New(rand.NewPCG(c.seed, 1))
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(c.batch, c.features), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(c.batch, classes), gorgonia.WithName("y"))
	w1 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w1"), gorgonia.WithValue(train.HeNormal(rng, c.features, c.features, c.hidden)))
	b1 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithName("b1"), gorgonia.WithShape(c.hidden), gorgonia.WithInit(gorgonia.Zeroes()))
	w2 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w2"), gorgonia.WithValue(train.HeNormal(rng, c.hidden, c.hidden, classes)))
	b2 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithName("b2"), gorgonia.WithShape(classes), gorgonia.WithInit(gorgonia.Zeroes()))

	dense := func(x, w, b *gorgonia.Node) (*gorgonia.Node, error) {
		xw, err := op.Mul(miner, x, w, op.WithSeed(c.seed))
		if err != nil {
			return nil, err
		}
		return gorgonia.BroadcastAdd(xw, b, nil, []byte{0})
	}
	h, err := dense(x, w1, b1)
	if err != nil {
		return nil, fmt.Errorf("layer 1: %w", err)
	}
	if h, err = gorgonia.Rectify(h); err != nil {
		return nil, err
	}
	logits, err := dense(h, w2, b2)
	if err != nil {
		return nil, fmt.Errorf("layer 2: %w", err)
	}
	loss, err := train.CrossEntropy(logits, y)
	if err != nil {
		return nil, err
	}
	learnables := gorgonia.Nodes{w1, b1, w2, b2}
	if _, err := gorgonia.Grad(loss, learnables...); err != nil {
		return nil, fmt.Errorf("gradients: %w", err)
	}
	name := fmt.Sprintf("mlp %d-%d-%d, batch %d, synthetic", c.features, c.hidden, classes, c.batch)
	return &train.Model{Name: name, Graph: g, X: x, Y: y, Output: logits, Loss: loss, Learnables: learnables}, nil
}

// teacher is a synthetic classification task: Gaussian inputs labelled by
// the arg-max of a fixed random linear map, so a model can learn it and
// nothing needs downloading.
type teacher struct {
	features int
	x        []float32 // n × features
	labels   []int
}

func newTeacher(features, n int, seed uint64) *teacher {
	rng := rand.New(rand.NewPCG(seed, 2))
	proj := make([]float64, features*classes)
	for i := range proj {
		proj[i] = rng.NormFloat64()
	}
	t := &teacher{features: features, x: make([]float32, n*features), labels: make([]int, n)}
	for i := range n {
		row := t.x[i*features : (i+1)*features]
		var score [classes]float64
		for j := range row {
			v := rng.NormFloat64()
			row[j] = float32(v)
			for k := range classes {
				score[k] += v * proj[j*classes+k]
			}
		}
		for k := range classes {
			if score[k] > score[t.labels[i]] {
				t.labels[i] = k
			}
		}
	}
	return t
}

// split returns the first n examples for training and the rest for testing.
func (t *teacher) split(n int) (train.Dataset, train.Dataset) {
	return view{t, 0, n}, view{t, n, len(t.labels)}
}

// view is a range of a teacher's examples as a train.Dataset.
type view struct {
	t          *teacher
	start, end int
}

func (v view) Len() int { return v.end - v.start }

func (v view) Fill(i int, x []float32) int {
	i += v.start
	if x != nil {
		copy(x, v.t.x[i*v.t.features:(i+1)*v.t.features])
	}
	return v.t.labels[i]
}
