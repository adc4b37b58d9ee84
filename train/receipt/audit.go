package receipt

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Features reads a dataset's examples, as train.Dataset does.
type Features interface {
	Len() int
	// Fill writes the features of example i into x and returns its class.
	Fill(i int, x []float32) (label int)
}

// AuditOptions configures Audit.
type AuditOptions struct {
	// OpenDataset opens the training set the run declares, after checking
	// that its files are the ones the receipt names (by SHA-256). Nil
	// skips the input check.
	OpenDataset func(d Dataset) (Features, error)
	// Samples is how many steps, spread over the run, have their first
	// layer's input rebuilt from the dataset (0: 5).
	Samples int
}

// Report is what Audit checked.
type Report struct {
	Receipt *Receipt
	// Proofs is the number of proof files that verify and are recorded
	// products of the run.
	Proofs int
	// Checkpoints is the number of checkpoint files that hash to what the
	// receipt says; WeightOperands the product operands re-derived from
	// them and found equal to their recorded roots.
	Checkpoints, WeightOperands int
	// InputSteps is the number of sampled steps whose first-layer inputs
	// were rebuilt from the dataset; InputOperands the operands checked.
	InputSteps, InputOperands int
}

// Audit checks the receipt in dir and the proof files beside it (see the
// package comment). It returns the report and nil, or an error listing
// every check that failed (with the report of what passed).
func Audit(dir string, opts AuditOptions) (*Report, error) {
	r, err := Open(dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Receipt: r}
	var fails []error
	fail := func(format string, args ...any) { fails = append(fails, fmt.Errorf(format, args...)) }
	if r.End == nil {
		fail("the receipt has no end record: the run did not finish")
	}

	a := auditor{r: r, nodes: map[string]ProductNode{}, learnable: map[string]bool{}}
	for _, p := range r.Run.Model.Products {
		a.nodes[p.Name] = p
	}
	for _, l := range r.Run.Model.Learnables {
		a.learnable[l.Name] = true
	}
	fails = append(fails, a.proofs(dir, rep)...)
	fails = append(fails, a.checkpoints(rep)...)
	if opts.OpenDataset != nil {
		fails = append(fails, a.inputs(opts, rep)...)
	}
	if len(fails) > 0 {
		return rep, fmt.Errorf("audit of %s failed:\n%w", dir, errors.Join(fails...))
	}
	return rep, nil
}

type auditor struct {
	r         *Receipt
	nodes     map[string]ProductNode
	learnable map[string]bool
}

// proofs verifies every proof file and matches it to a recorded product by
// its commitment roots and ID; every proof the receipt lists must be there.
func (a *auditor) proofs(dir string, rep *Report) []error {
	var fails []error
	byRoots := map[[2]string]*RecordedProduct{}
	listed := map[string]bool{}
	for i := range a.r.Products {
		p := &a.r.Products[i]
		byRoots[[2]string{p.RootA, p.RootB}] = p
		for _, id := range p.Proofs {
			listed[id] = true
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "proof-*.json"))
	if err != nil {
		return []error{err}
	}
	found := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		proof, err := pouw.ReadProofFile(f)
		if err != nil {
			fails = append(fails, fmt.Errorf("proof %s: %w", name, err))
			continue
		}
		if _, err := proof.Verify(pouw.VerifyOptions{}); err != nil {
			fails = append(fails, fmt.Errorf("proof %s does not verify: %w", name, err))
			continue
		}
		id, err := proof.ID()
		if err != nil {
			fails = append(fails, fmt.Errorf("proof %s: %w", name, err))
			continue
		}
		roots := [2]string{hex.EncodeToString(proof.Plain.A.Proof.Root[:]), hex.EncodeToString(proof.Plain.BT.Proof.Root[:])}
		p, ok := byRoots[roots]
		if !ok {
			fails = append(fails, fmt.Errorf("proof %s: its matrices are not a product recorded in the receipt (roots %.16s…, %.16s…)", name, roots[0], roots[1]))
			continue
		}
		if !slices.Contains(p.Proofs, id) || p.Job.Header != proof.Job.Header {
			fails = append(fails, fmt.Errorf("proof %s: its product (line %d) does not list it, or was mined under another job", name, p.Line))
			continue
		}
		found[id] = true
		rep.Proofs++
	}
	var missing []string
	for id := range listed {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		fails = append(fails, fmt.Errorf("%d proof(s) the receipt lists are missing or invalid in %s: %s", len(missing), dir, strings.Join(missing, ", ")))
	}
	return fails
}

// checkpoints checks every checkpoint file's hash, and re-derives from it
// the operands of the products that read a learnable directly at that
// version of the weights.
func (a *auditor) checkpoints(rep *Report) []error {
	var fails []error
	if len(a.r.Checkpoints) == 0 {
		return []error{errors.New("the receipt names no checkpoint")}
	}
	byWeights := map[int64][]*RecordedProduct{}
	for i := range a.r.Products {
		p := &a.r.Products[i]
		byWeights[p.Weights] = append(byWeights[p.Weights], p)
	}
	for _, c := range a.r.Checkpoints {
		params, err := a.r.LoadCheckpoint(c)
		if err != nil {
			fails = append(fails, err)
			continue
		}
		rep.Checkpoints++
		values := map[string]*tensor.Dense{}
		for _, p := range params {
			values[p.Name] = p.Value
		}
		for _, l := range a.r.Run.Model.Learnables {
			if values[l.Name] == nil || !slices.Equal([]int(values[l.Name].Shape()), l.Shape) {
				fails = append(fails, fmt.Errorf("checkpoint %s: no %s of shape %v", c.File, l.Name, l.Shape))
			}
		}
		for _, p := range byWeights[c.Weights] {
			for side := range 2 {
				in := a.operandInput(p, side)
				if !a.learnable[in] || values[in] == nil {
					continue
				}
				if err := a.checkOperand(p, side, values[in]); err != nil {
					fails = append(fails, fmt.Errorf("checkpoint %s: %w", c.File, err))
					continue
				}
				rep.WeightOperands++
			}
		}
	}
	return fails
}

// operandInput is the name of the node feeding side 0 (A) or 1 (B) of p.
func (a *auditor) operandInput(p *RecordedProduct, side int) string {
	n, ok := a.nodes[p.Node]
	if !ok {
		return ""
	}
	return n.Inputs[side]
}

// checkOperand quantises v as side 0 (A) or 1 (B) of p's node and compares
// its commitment root with the recorded one.
func (a *auditor) checkOperand(p *RecordedProduct, side int, v *tensor.Dense) error {
	n := a.nodes[p.Node]
	var q pouw.Matrix
	var err error
	want := p.RootA
	if side == 0 {
		q, err = op.Int7(v, n.TransA)
	} else {
		q, err = op.Int7(v, !n.TransB)
		want = p.RootB
	}
	if err != nil {
		return fmt.Errorf("product %q at line %d: %w", p.Node, p.Line, err)
	}
	key, err := p.Key()
	if err != nil {
		return err
	}
	root := pouw.CommitmentRoot(&key, int8Bytes(q.Data))
	if hex.EncodeToString(root[:]) != want {
		what := [2]string{"A", "Bᵀ"}[side]
		return fmt.Errorf("product %q at line %d (step %d): %s re-derived from %s has root %.16s…, the receipt says %.16s…",
			p.Node, p.Line, p.Step, what, n.Inputs[side], hex.EncodeToString(root[:]), want)
	}
	return nil
}

// inputs rebuilds, at sampled training steps, the batch of the model's
// input from the dataset and checks the roots of the products reading it.
func (a *auditor) inputs(opts AuditOptions, rep *Report) []error {
	set, err := opts.OpenDataset(a.r.Run.Dataset)
	if err != nil {
		return []error{fmt.Errorf("dataset %s: %w", a.r.Run.Dataset.Name, err)}
	}
	in := a.r.Run.Model.Input
	if len(in.Shape) < 1 || in.Shape[0] <= 0 {
		return []error{fmt.Errorf("input %s has shape %v", in.Name, in.Shape)}
	}
	// The shape comes from the receipt: bound it before allocating.
	const maxInput = 1 << 26
	batch, size := in.Shape[0], 1
	for _, d := range in.Shape {
		if d <= 0 || size > maxInput/d {
			return []error{fmt.Errorf("input %s has shape %v: not a batch of at most %d values", in.Name, in.Shape, maxInput)}
		}
		size *= d
	}
	features := size / batch
	samples := opts.Samples
	if samples <= 0 {
		samples = 5
	}
	steps := a.r.Steps
	var picked []Step
	n := min(samples, len(steps))
	for i := range n {
		j := 0 // spread over the run, the first and the last step included
		if n > 1 {
			j = i * (len(steps) - 1) / (n - 1)
		}
		picked = append(picked, steps[j])
	}
	byStep := map[int64][]*RecordedProduct{}
	for i := range a.r.Products {
		p := &a.r.Products[i]
		if !p.Eval {
			byStep[p.Step] = append(byStep[p.Step], p)
		}
	}
	var fails []error
	for _, s := range picked {
		idx, err := s.Indices()
		if err != nil || len(idx) != batch {
			fails = append(fails, fmt.Errorf("step %d: batch of %d examples, the input holds %d", s.Step, len(idx), batch))
			continue
		}
		x := make([]float32, size)
		for b, i := range idx {
			if i < 0 || i >= set.Len() {
				fails = append(fails, fmt.Errorf("step %d: example %d is outside the dataset's %d", s.Step, i, set.Len()))
				break
			}
			set.Fill(i, x[b*features:(b+1)*features])
		}
		xt := tensor.New(tensor.WithShape(batch, features), tensor.WithBacking(x))
		checked := 0
		for _, p := range byStep[s.Step] {
			for side := range 2 {
				if a.operandInput(p, side) != in.Name || p.Weights != s.Weights {
					continue
				}
				if err := a.checkOperand(p, side, xt); err != nil {
					fails = append(fails, fmt.Errorf("dataset %s, step %d: %w", a.r.Run.Dataset.Name, s.Step, err))
					continue
				}
				checked++
			}
		}
		if checked > 0 {
			rep.InputSteps++
			rep.InputOperands += checked
		}
	}
	return fails
}

func int8Bytes(d []int8) []byte {
	b := make([]byte, len(d))
	for i, v := range d {
		b[i] = byte(v)
	}
	return b
}
