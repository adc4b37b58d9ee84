package train

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Trainer runs a model's graph one batch at a time, as Run does: a training
// step (forward and backward, the solver left to the caller) or an
// evaluation. A replay of a training receipt uses it to recompute recorded
// steps.
type Trainer struct {
	m                        *Model
	vm, eval                 gorgonia.VM
	batch, features, classes int
	xs, ys                   []float32
	xT, yT                   *tensor.Dense
}

// NewTrainer compiles m's training program (the loss, the output and the
// learnables' gradients) and its evaluation program (the output).
func NewTrainer(m *Model) (*Trainer, error) {
	if m == nil || m.X == nil || m.Y == nil || len(m.X.Shape()) == 0 || len(m.Y.Shape()) != 2 {
		return nil, fmt.Errorf("train: the model needs X (batch × features…) and Y (batch × classes)")
	}
	roots := gorgonia.Nodes{m.Loss, m.Output}
	for _, l := range m.Learnables {
		g := l.Deriv()
		if g == nil {
			return nil, fmt.Errorf("train: %s has no gradient node: call gorgonia.Grad first", l.Name())
		}
		roots = append(roots, g)
	}
	t := &Trainer{m: m, batch: m.X.Shape()[0], classes: m.Y.Shape()[1]}
	t.features = m.X.Shape().TotalSize() / t.batch
	t.xs, t.ys = make([]float32, t.batch*t.features), make([]float32, t.batch*t.classes)
	t.xT = tensor.New(tensor.WithShape(m.X.Shape().Clone()...), tensor.WithBacking(t.xs))
	t.yT = tensor.New(tensor.WithShape(t.batch, t.classes), tensor.WithBacking(t.ys))
	// The exact subgraph leaves out gradients nobody reads, such as the
	// input's: a third of the first layer's work otherwise. Where every
	// learnable's gradient is a node of its own, no dual values are bound:
	// the solver reads (and zeroes) the gradient node's value (Node.Grad),
	// which the compiler keeps live to the program's end, instead of a copy
	// the machine adds it into at every step (a pass over every weight, and
	// a second buffer as large as the weights).
	var opts []gorgonia.VMOpt
	if !ownGradients(m.Learnables) {
		opts = append(opts, gorgonia.BindDualValues(m.Learnables...))
	}
	t.vm = gorgonia.NewTapeMachine(m.Graph.ExactSubgraphRoots(roots...), opts...)
	t.eval = gorgonia.NewTapeMachine(m.Graph.ExactSubgraphRoots(m.Output))
	return t, nil
}

// ownGradients reports whether each learnable's gradient is a node of its
// own that the program computes at every step: not another learnable's too
// (Gorgonia's addition hands both operands the same node, and a solver
// zeroes each gradient after stepping its learnable), not an input and not
// a constant (which outlive the step). Otherwise the learnables need dual
// values, copies of their gradients the machine makes at every step.
func ownGradients(learnables gorgonia.Nodes) bool {
	seen := map[*gorgonia.Node]bool{}
	for _, l := range learnables {
		d := l.Deriv()
		_, constant := d.Op().(interface{ Value() gorgonia.Value })
		if d.Op() == nil || constant || seen[d] {
			return false
		}
		seen[d] = true
	}
	return true
}

// Close releases the programs.
func (t *Trainer) Close() {
	t.vm.Close()
	t.eval.Close()
}

// fill binds the examples idx of set to X and Y; a batch shorter than the
// model's is padded with zeros (and labels −1).
func (t *Trainer) fill(set Dataset, idx []int) ([]int, error) {
	clear(t.ys)
	labels := make([]int, t.batch)
	for b := range t.batch {
		if b >= len(idx) {
			clear(t.xs[b*t.features : (b+1)*t.features])
			labels[b] = -1
			continue
		}
		labels[b] = set.Fill(idx[b], t.xs[b*t.features:(b+1)*t.features])
		if labels[b] < 0 || labels[b] >= t.classes {
			return nil, fmt.Errorf("train: example %d has class %d, outside 0..%d", idx[b], labels[b], t.classes-1)
		}
		t.ys[b*t.classes+labels[b]] = 1
	}
	if err := gorgonia.Let(t.m.X, t.xT); err != nil {
		return nil, err
	}
	if err := gorgonia.Let(t.m.Y, t.yT); err != nil {
		return nil, err
	}
	return labels, nil
}

// Step runs the training program on the examples idx of set (a whole
// batch) and returns the loss; the solver then finds the gradients through
// the learnables (Node.Grad) until the next step.
func (t *Trainer) Step(set Dataset, idx []int) (float64, error) {
	if len(idx) != t.batch {
		return 0, fmt.Errorf("train: a step takes %d examples, got %d", t.batch, len(idx))
	}
	if _, err := t.fill(set, idx); err != nil {
		return 0, err
	}
	t.vm.Reset() // after the solver has read the previous step's gradients
	if err := t.vm.RunAll(); err != nil {
		return 0, err
	}
	loss, err := scalar(t.m.Loss.Value())
	if err != nil {
		return 0, fmt.Errorf("loss: %w", err)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("loss is %v: training diverged", loss)
	}
	return loss, nil
}

// Accuracy evaluates the model on every example of set, in batches (the
// last one padded), and returns the fraction classified right.
func (t *Trainer) Accuracy(set Dataset) (float64, error) {
	if set.Len() == 0 {
		return 0, fmt.Errorf("train: an empty evaluation set")
	}
	correct := 0
	idx := make([]int, 0, t.batch)
	for lo := 0; lo < set.Len(); lo += t.batch {
		idx = idx[:0]
		for i := lo; i < min(lo+t.batch, set.Len()); i++ {
			idx = append(idx, i)
		}
		labels, err := t.fill(set, idx)
		if err != nil {
			return 0, err
		}
		if err := t.eval.RunAll(); err != nil {
			return 0, err
		}
		out, err := floats(t.m.Output.Value())
		if err != nil {
			return 0, err
		}
		for b := range idx {
			if argmax(out[b*t.classes:(b+1)*t.classes]) == labels[b] {
				correct++
			}
		}
		t.eval.Reset()
	}
	return float64(correct) / float64(set.Len()), nil
}
