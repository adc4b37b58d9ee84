package op

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Operand indices of a gradient product: inputs x (0) and y (1) of the
// forward product, and its incoming gradient G (2).
const (
	OperandX = 0
	OperandY = 1
	OperandG = 2
)

// GradProduct is one mined gradient product of a forward product: an op of
// the given kind, transposes and role applied to (First, Second), which are
// operand indices (OperandX, OperandY, OperandG).
type GradProduct struct {
	Kind           Kind
	TransA, TransB bool
	Role           Role
	First, Second  int
}

// GradProducts lists the mined gradient products of a forward product of the
// given kind and transposes. For MatMul it is Gorgonia's table (matMulDiff
// in operatorLinAlg.go), with no Transpose node:
//
//	forward   dX (GradA)   dY (GradB)
//	X·Y       G·Yᵀ         Xᵀ·G
//	X·Yᵀ      G·Y          Gᵀ·X
//	Xᵀ·Y      Y·Gᵀ         X·G
//	Xᵀ·Yᵀ     Yᵀ·Gᵀ        Gᵀ·Xᵀ
//
// For MatVec (y = op(A)·x) it is dx = op(A)ᵀ·g alone: dA is an outer product
// (k = 1, nothing to mine). VecDot has none: its gradients are scalings.
func GradProducts(kind Kind, transA, transB bool) []GradProduct {
	switch kind {
	case MatMul:
		x, y, g := OperandX, OperandY, OperandG
		switch {
		case !transA && !transB:
			return []GradProduct{{MatMul, false, true, GradA, g, y}, {MatMul, true, false, GradB, x, g}}
		case !transA && transB:
			return []GradProduct{{MatMul, false, false, GradA, g, y}, {MatMul, true, false, GradB, g, x}}
		case transA && !transB:
			return []GradProduct{{MatMul, false, true, GradA, y, g}, {MatMul, false, false, GradB, x, g}}
		default:
			return []GradProduct{{MatMul, true, true, GradA, y, g}, {MatMul, true, true, GradB, g, x}}
		}
	case MatVec:
		return []GradProduct{{MatVec, !transA, false, GradB, OperandX, OperandG}}
	}
	return nil
}

// gradSpec is a GradProduct with its op built.
type gradSpec struct {
	op            MinedMatMul
	first, second int
}

func (o MinedMatMul) gradSpecs() []gradSpec {
	var specs []gradSpec
	for _, p := range GradProducts(o.kind, o.transA, o.transB) {
		gradOperand := 0
		if p.Second == OperandG {
			gradOperand = 1
		}
		specs = append(specs, gradSpec{o.derived(p.Kind, p.TransA, p.TransB, p.Role, gradOperand), p.First, p.Second})
	}
	return specs
}

// DiffWRT says both inputs are differentiable.
func (o MinedMatMul) DiffWRT(inputs int) []bool { return []bool{true, true} }

// SymDiff returns the gradient nodes of both inputs. For MatMul both are
// MinedMatMul nodes (roles GradA, GradB), so every backward product of a
// TapeMachine is mined; for MatVec the vector's gradient is mined and the
// matrix's is an outer product; VecDot's gradients are scalings.
func (o MinedMatMul) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("op: MinedMatMul SymDiff: want 2 inputs, got %d", len(inputs))
	}
	x, y := inputs[0], inputs[1]
	nodes := [3]*gorgonia.Node{x, y, grad}
	apply := func(s gradSpec) (*gorgonia.Node, error) {
		n, err := gorgonia.ApplyOp(s.op, nodes[s.first], nodes[s.second])
		if err != nil {
			return nil, fmt.Errorf("op: %v gradient of %q: %w", s.op.role, output.Name(), err)
		}
		Attach(n)
		return n, nil
	}
	switch o.kind {
	case MatMul:
		specs := o.gradSpecs()
		dx, err := apply(specs[0])
		if err != nil {
			return nil, err
		}
		dy, err := apply(specs[1])
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dx, dy}, nil
	case MatVec:
		var dx *gorgonia.Node
		var err error
		if o.transA {
			dx, err = gorgonia.OuterProd(y, grad)
		} else {
			dx, err = gorgonia.OuterProd(grad, y)
		}
		if err != nil {
			return nil, fmt.Errorf("op: matrix gradient of %q: %w", output.Name(), err)
		}
		dy, err := apply(o.gradSpecs()[0])
		if err != nil {
			return nil, err
		}
		return gorgonia.Nodes{dx, dy}, nil
	}
	dx, err := gorgonia.HadamardProd(y, grad)
	if err != nil {
		return nil, fmt.Errorf("op: gradient of %q: %w", output.Name(), err)
	}
	dy, err := gorgonia.HadamardProd(x, grad)
	if err != nil {
		return nil, fmt.Errorf("op: gradient of %q: %w", output.Name(), err)
	}
	return gorgonia.Nodes{dx, dy}, nil
}

// DoDiff adds both inputs' gradients to their derivatives, for the
// LispMachine: the same products as SymDiff, mined the same way, with the
// forward node's name in their proofs.
func (o MinedMatMul) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if len(inputs) != 2 {
		return fmt.Errorf("op: MinedMatMul DoDiff: want 2 inputs, got %d", len(inputs))
	}
	g, err := output.Grad()
	if err != nil {
		return o.errorf("no gradient on the output: %w", err)
	}
	vals := [3]gorgonia.Value{inputs[0].Value(), inputs[1].Value(), g}
	derivs := [2]gorgonia.Value{}
	for i, in := range inputs {
		// A node without a derivative (a constant) gets no gradient.
		if d, err := in.Grad(); err == nil {
			derivs[i] = d
		}
	}
	incr := func(target int, s gradSpec) error {
		if derivs[target] == nil {
			return nil
		}
		// The gradient product shares the forward op's site: its proofs name
		// the forward node, and its rounding stream advances every step (the
		// role keeps the three streams of a step apart).
		s.op.site = o.site
		if s.op.site == nil {
			s.op.site = new(site)
		}
		s.op.site.node.CompareAndSwap(nil, output)
		if err := s.op.IncrDo(derivs[target], vals[s.first], vals[s.second]); err != nil {
			if _, ok := err.(gorgonia.Valuer); ok {
				return o.errorf("gradient of input %d is not a tensor", target)
			}
			return err
		}
		return nil
	}
	switch o.kind {
	case MatMul:
		specs := o.gradSpecs()
		if err := incr(OperandX, specs[0]); err != nil {
			return err
		}
		return incr(OperandY, specs[1])
	case MatVec:
		if d, ok := derivs[OperandX].(tensor.Tensor); ok {
			a, b := vals[OperandG], vals[OperandY]
			if o.transA {
				a, b = b, a
			}
			if _, err := tensor.Outer(a.(tensor.Tensor), b.(tensor.Tensor), tensor.WithIncr(d)); err != nil {
				return o.errorf("matrix gradient: %w", err)
			}
		}
		return incr(OperandY, o.gradSpecs()[0])
	}
	for i := range 2 {
		d, ok := derivs[i].(tensor.Tensor)
		if !ok {
			continue
		}
		// d(x·y)/dx = y·g: the other vector scaled by the scalar gradient.
		other, ok := vals[1-i].(tensor.Tensor)
		if !ok {
			return o.errorf("input %d is %T", 1-i, vals[1-i])
		}
		if _, err := tensor.Mul(other, g.Data(), tensor.WithIncr(d)); err != nil {
			return o.errorf("vector gradient: %w", err)
		}
	}
	return nil
}
