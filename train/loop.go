package train

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/graph"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

// Model is a classifier graph ready to train: its gradients already added
// (gorgonia.Grad, or SymDiff through op.MinedMatMul) and, for a converted
// model, its matmul nodes already swapped.
type Model struct {
	Name       string
	Graph      *gorgonia.ExprGraph
	X          *gorgonia.Node // a batch of inputs; its shape's first dimension is the batch size
	Y          *gorgonia.Node // one-hot targets, batch × classes
	Output     *gorgonia.Node // class scores, batch × classes
	Loss       *gorgonia.Node // scalar mean loss of the batch
	Learnables gorgonia.Nodes
}

// Dataset is a labelled data set the loop reads batches from.
type Dataset interface {
	Len() int
	// Fill writes the features of example i into x (len = features) and
	// returns its class.
	Fill(i int, x []float32) (label int)
}

// Options configures Run.
type Options struct {
	Epochs   int
	Solver   gorgonia.Solver   // e.g. NewAdam: gorgonia's Adam, bit for bit, in one pass a tensor
	Miner    *pouw.Miner       // nil for a stock run; used for statistics and steps
	Nbits    uint32            // the miner's difficulty, for the summary
	Proofs   *pouw.ProofWriter // where proofs go, for the summary (may be nil)
	Progress io.Writer         // nil: no progress bars
	Seed     uint64            // shuffling
	// Receipt, if set, records the run (its Start already called): every
	// step's batch and loss, and checkpoints of the learnables at the start,
	// every CheckpointEvery steps (0: after every epoch) and at the end.
	// Run closes it (Abort on a failed run).
	Receipt         *receipt.Writer
	CheckpointEvery int
	// OnEpoch, if set, is called after each epoch's evaluation.
	OnEpoch func(epoch int, s *Summary)
}

// TimePoint is a (seconds since start, value) sample.
type TimePoint struct{ Seconds, Value float64 }

// Run trains m on trainSet for opts.Epochs epochs, evaluating test accuracy
// after each, and returns the run's summary. Examples that do not fill a
// last whole batch are skipped in training and padded in evaluation.
func Run(m *Model, trainSet, testSet Dataset, opts Options) (*Summary, *Timeline, error) {
	if opts.Epochs <= 0 || opts.Solver == nil {
		return nil, nil, errors.New("train: Options needs Epochs > 0 and a Solver")
	}
	batch := m.X.Shape()[0]
	if trainSet.Len() < batch {
		return nil, nil, fmt.Errorf("train: %d training examples, fewer than one batch of %d", trainSet.Len(), batch)
	}

	t, err := NewTrainer(m)
	if err != nil {
		return nil, nil, err
	}
	defer t.Close()

	sum := &Summary{Model: m.Name, Mined: opts.Miner != nil, Epochs: opts.Epochs, Nbits: opts.Nbits}
	if opts.Miner != nil {
		// A mined model with stock products left (layers added after
		// graph.Swap) would train fine and silently mine less.
		if left, err := graph.StockProducts(m.Graph); err == nil && len(left) > 0 {
			for _, n := range left {
				sum.StockProducts = append(sum.StockProducts, n.Name())
			}
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "warning: %d matrix product(s) are stock Gorgonia nodes and will not be mined: %s (call graph.Swap after the graph is complete)\n",
					len(left), strings.Join(sum.StockProducts, ", "))
			}
		}
	}
	tl := &Timeline{}
	if opts.Proofs != nil {
		sum.ProofDir = opts.Proofs.Dir()
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6d6e697374))
	order := make([]int, trainSet.Len())
	for i := range order {
		order[i] = i
	}
	var bar *Progress
	if opts.Progress != nil {
		bar = NewProgress(opts.Progress)
	}
	rc := opts.Receipt
	checkpoint := func() error {
		if rc == nil {
			return nil
		}
		params := make([]receipt.Param, len(m.Learnables))
		for i, l := range m.Learnables {
			v, ok := l.Value().(*tensor.Dense)
			if !ok {
				return fmt.Errorf("train: receipt: %s holds a %T, not a tensor", l.Name(), l.Value())
			}
			params[i] = receipt.Param{Name: l.Name(), Value: v}
		}
		return rc.Checkpoint(params)
	}
	if rc != nil {
		defer func() {
			if rc != nil { // not closed by a finished run
				rc.Abort()
			}
		}()
	}
	if err := checkpoint(); err != nil {
		return sum, tl, err
	}

	start := time.Now()
	step := int64(0)
	steps := trainSet.Len() / batch
	for epoch := 1; epoch <= opts.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		epochStart := time.Now()
		minedAtStart := minedMACs(opts.Miner)
		if bar != nil {
			bar.Start(fmt.Sprintf("epoch %d/%d", epoch, opts.Epochs), steps)
		}
		lossSum := 0.0
		info := StepInfo{}
		for s := range steps {
			step++
			if opts.Miner != nil {
				opts.Miner.SetStep(step)
			}
			if rc != nil {
				rc.BeginStep(step)
			}
			loss, err := t.Step(trainSet, order[s*batch:(s+1)*batch])
			if err != nil {
				return sum, tl, fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
			}
			if rc != nil {
				if err := rc.EndStep(epoch, order[s*batch:(s+1)*batch], loss); err != nil {
					return sum, tl, err
				}
			}
			if err := opts.Solver.Step(gorgonia.NodesToValueGrads(m.Learnables)); err != nil {
				return sum, tl, fmt.Errorf("epoch %d step %d: solver: %w", epoch, s+1, err)
			}
			if rc != nil {
				rc.Updated()
				if opts.CheckpointEvery > 0 && step%int64(opts.CheckpointEvery) == 0 {
					if err := checkpoint(); err != nil {
						return sum, tl, err
					}
				}
			}
			lossSum += loss
			info = StepInfo{Step: s + 1, Loss: lossSum / float64(s+1), MinedMACs: minedMACs(opts.Miner) - minedAtStart, Proofs: proofs(opts.Miner)}
			if bar != nil {
				bar.Update(info)
			}
			tl.Loss = append(tl.Loss, TimePoint{time.Since(start).Seconds(), loss})
			if opts.Miner != nil && (len(tl.Proofs) == 0 || tl.Proofs[len(tl.Proofs)-1].Value != float64(info.Proofs)) {
				tl.Proofs = append(tl.Proofs, TimePoint{time.Since(start).Seconds(), float64(info.Proofs)})
			}
		}
		if bar != nil {
			bar.Finish(info)
		}
		sum.EpochTimes = append(sum.EpochTimes, time.Since(epochStart))
		sum.TrainLoss = append(sum.TrainLoss, lossSum/float64(steps))

		if rc != nil {
			if opts.CheckpointEvery <= 0 || step%int64(opts.CheckpointEvery) != 0 {
				if err := checkpoint(); err != nil {
					return sum, tl, err
				}
			}
			rc.BeginEval()
		}
		acc, err := t.Accuracy(testSet)
		if err != nil {
			return sum, tl, fmt.Errorf("epoch %d: evaluation: %w", epoch, err)
		}
		sum.TestAccuracy = append(sum.TestAccuracy, acc)
		if opts.Miner != nil {
			sum.Stats = opts.Miner.Stats()
		}
		if opts.OnEpoch != nil {
			opts.OnEpoch(epoch, sum)
		}
	}
	if opts.Miner != nil {
		tl.Proofs = append(tl.Proofs, TimePoint{time.Since(start).Seconds(), float64(proofs(opts.Miner))})
	}
	sum.Wall = time.Since(start)
	if rc != nil {
		err := rc.Close(sum.FinalAccuracy())
		rc = nil
		if err != nil {
			return sum, tl, err
		}
	}
	return sum, tl, nil
}

// Timeline is what a run recorded over time, for plots.
type Timeline struct {
	Loss   []TimePoint // loss of every step
	Proofs []TimePoint // proofs found so far, at each change
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// scalar reads a loss value: Gorgonia returns *F32 or *F64 scalars.
func scalar(v gorgonia.Value) (float64, error) {
	switch x := v.(type) {
	case *gorgonia.F32:
		return float64(*x), nil
	case *gorgonia.F64:
		return float64(*x), nil
	case tensor.Tensor:
		f, err := floats(x)
		if err != nil || len(f) != 1 {
			return 0, fmt.Errorf("not a scalar: %v", v)
		}
		return f[0], nil
	}
	return 0, fmt.Errorf("not a float scalar: %T", v)
}

func floats(v gorgonia.Value) ([]float64, error) {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out, nil
	case []float64:
		return d, nil
	}
	return nil, fmt.Errorf("not float data: %T", v.Data())
}

func minedMACs(m *pouw.Miner) uint64 {
	if m == nil {
		return 0
	}
	return m.Stats().MinedMACs
}

func proofs(m *pouw.Miner) int64 {
	if m == nil {
		return 0
	}
	return m.Stats().Proofs
}
