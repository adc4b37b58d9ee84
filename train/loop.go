package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/graph"
	"github.com/usefulwork/minedmatmul/pouw"
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
	Solver   gorgonia.Solver
	Miner    *pouw.Miner       // nil for a stock run; used for statistics and steps
	Nbits    uint32            // the miner's difficulty, for the summary
	Proofs   *pouw.ProofWriter // where proofs go, for the summary (may be nil)
	Progress io.Writer         // nil: no progress bars
	Seed     uint64            // shuffling
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
	batch, classes := m.X.Shape()[0], m.Y.Shape()[1]
	features := m.X.Shape().TotalSize() / batch
	if trainSet.Len() < batch {
		return nil, nil, fmt.Errorf("train: %d training examples, fewer than one batch of %d", trainSet.Len(), batch)
	}

	roots := gorgonia.Nodes{m.Loss, m.Output}
	for _, l := range m.Learnables {
		g := l.Deriv()
		if g == nil {
			return nil, nil, fmt.Errorf("train: %s has no gradient node: call gorgonia.Grad first", l.Name())
		}
		roots = append(roots, g)
	}
	// The exact subgraph leaves out gradients nobody reads, such as the
	// input's: a third of the first layer's work otherwise.
	vm := gorgonia.NewTapeMachine(m.Graph.ExactSubgraphRoots(roots...), gorgonia.BindDualValues(m.Learnables...))
	defer vm.Close()
	eval := gorgonia.NewTapeMachine(m.Graph.ExactSubgraphRoots(m.Output))
	defer eval.Close()

	xs := make([]float32, batch*features)
	ys := make([]float32, batch*classes)
	xT := tensor.New(tensor.WithShape(m.X.Shape().Clone()...), tensor.WithBacking(xs))
	yT := tensor.New(tensor.WithShape(batch, classes), tensor.WithBacking(ys))
	labels := make([]int, batch)
	fill := func(set Dataset, idx []int) {
		clear(ys)
		for b := range batch {
			if b >= len(idx) { // padding of a last, partial evaluation batch
				clear(xs[b*features : (b+1)*features])
				labels[b] = -1
				continue
			}
			labels[b] = set.Fill(idx[b], xs[b*features:(b+1)*features])
			ys[b*classes+labels[b]] = 1
		}
	}

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
			fill(trainSet, order[s*batch:(s+1)*batch])
			if err := gorgonia.Let(m.X, xT); err != nil {
				return sum, tl, err
			}
			if err := gorgonia.Let(m.Y, yT); err != nil {
				return sum, tl, err
			}
			if err := vm.RunAll(); err != nil {
				return sum, tl, fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
			}
			loss, err := scalar(m.Loss.Value())
			if err != nil {
				return sum, tl, fmt.Errorf("epoch %d step %d: loss: %w", epoch, s+1, err)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return sum, tl, fmt.Errorf("epoch %d step %d: loss is %v: training diverged", epoch, s+1, loss)
			}
			if err := opts.Solver.Step(gorgonia.NodesToValueGrads(m.Learnables)); err != nil {
				return sum, tl, fmt.Errorf("epoch %d step %d: solver: %w", epoch, s+1, err)
			}
			vm.Reset()
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

		acc, err := evaluate(eval, m, testSet, batch, classes, fill, xT)
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
	return sum, tl, nil
}

// Timeline is what a run recorded over time, for plots.
type Timeline struct {
	Loss   []TimePoint // loss of every step
	Proofs []TimePoint // proofs found so far, at each change
}

func evaluate(vm gorgonia.VM, m *Model, set Dataset, batch, classes int, fill func(Dataset, []int), xT *tensor.Dense) (float64, error) {
	correct := 0
	idx := make([]int, 0, batch)
	for lo := 0; lo < set.Len(); lo += batch {
		idx = idx[:0]
		for i := lo; i < min(lo+batch, set.Len()); i++ {
			idx = append(idx, i)
		}
		fill(set, idx)
		if err := gorgonia.Let(m.X, xT); err != nil {
			return 0, err
		}
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		out, err := floats(m.Output.Value())
		if err != nil {
			return 0, err
		}
		for b := range idx {
			if argmax(out[b*classes:(b+1)*classes]) == set.Fill(idx[b], nil) {
				correct++
			}
		}
		vm.Reset()
	}
	return float64(correct) / float64(set.Len()), nil
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
