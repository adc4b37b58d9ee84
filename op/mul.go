package op

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Mul is a drop-in replacement for gorgonia.Mul whose products are mined by
// miner, with the same dispatch:
//
//	scalar and anything   → gorgonia.HadamardProd (no product to mine)
//	vector · vector       → a scalar (VecDot)
//	matrix × vector       → a vector (MatVec)
//	vector × matrix       → a vector: bᵀ·a (MatVec with transA, as Gorgonia)
//	matrix × matrix       → a matrix (MatMul)
//
// Operands must be float32 or float64 of the same dtype; shape and dtype
// mismatches are errors here, when the graph is built. Gradients taken by
// gorgonia.Grad (TapeMachine) or computed by the LispMachine are mined too.
// Tensors of three or more dimensions are BatchedMul's.
func Mul(miner *pouw.Miner, a, b *gorgonia.Node, opts ...Option) (*gorgonia.Node, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("op: Mul: nil node")
	}
	if a.IsScalar() || b.IsScalar() {
		return gorgonia.HadamardProd(a, b)
	}
	if err := checkDtypes(a, b); err != nil {
		return nil, err
	}
	switch {
	case a.IsVector() && b.IsVector():
		return apply(miner, VecDot, false, a, b, opts)
	case a.IsVector() && b.IsMatrix():
		return apply(miner, MatVec, true, b, a, opts)
	case a.IsMatrix() && b.IsVector():
		return apply(miner, MatVec, false, a, b, opts)
	case a.IsMatrix() && b.IsMatrix():
		return apply(miner, MatMul, false, a, b, opts)
	}
	return nil, fmt.Errorf("op: Mul of shapes %v and %v: use BatchedMul for tensors of 3 or more dimensions", a.Shape(), b.Shape())
}

// MulT is Mul for two matrices with transposes as flags: op(a)·op(b), where
// op transposes when the flag is set, without a Transpose node.
func MulT(miner *pouw.Miner, a, b *gorgonia.Node, transA, transB bool, opts ...Option) (*gorgonia.Node, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("op: MulT: nil node")
	}
	if err := checkDtypes(a, b); err != nil {
		return nil, err
	}
	if !a.IsMatrix() || !b.IsMatrix() {
		return nil, fmt.Errorf("op: MulT wants two matrices, got shapes %v and %v", a.Shape(), b.Shape())
	}
	o, err := New(miner, MatMul, transA, transB, opts...)
	if err != nil {
		return nil, err
	}
	return applyOp(o, a, b)
}

// BatchedMul multiplies a batch of matrices by one matrix: x of shape
// (b, m, k) times w of shape (k, n) gives (b, m, n), the shape of a dense
// layer applied to a sequence. It reshapes x to (b·m, k), so the whole
// batch is one mined product (larger products fill more tiles), and
// reshapes the result back; gradients flow through the reshapes.
func BatchedMul(miner *pouw.Miner, x, w *gorgonia.Node, opts ...Option) (*gorgonia.Node, error) {
	if x == nil || w == nil {
		return nil, fmt.Errorf("op: BatchedMul: nil node")
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 3 || len(ws) != 2 {
		return nil, fmt.Errorf("op: BatchedMul wants (b, m, k) × (k, n), got %v × %v", xs, ws)
	}
	if xs[2] != ws[0] {
		return nil, fmt.Errorf("op: BatchedMul: inner dimensions differ: %v × %v", xs, ws)
	}
	flat, err := gorgonia.Reshape(x, tensor.Shape{xs[0] * xs[1], xs[2]})
	if err != nil {
		return nil, fmt.Errorf("op: BatchedMul: %w", err)
	}
	y, err := Mul(miner, flat, w, opts...)
	if err != nil {
		return nil, err
	}
	out, err := gorgonia.Reshape(y, tensor.Shape{xs[0], xs[1], ws[1]})
	if err != nil {
		return nil, fmt.Errorf("op: BatchedMul: %w", err)
	}
	return out, nil
}

func checkDtypes(a, b *gorgonia.Node) error {
	da, db := a.Dtype(), b.Dtype()
	if da != db {
		return fmt.Errorf("op: Mul: dtypes differ: %v and %v", da, db)
	}
	if da != tensor.Float32 && da != tensor.Float64 {
		return fmt.Errorf("op: Mul: dtype %v: only float32 and float64 are mined", da)
	}
	return nil
}

func apply(miner *pouw.Miner, kind Kind, transA bool, a, b *gorgonia.Node, opts []Option) (*gorgonia.Node, error) {
	o, err := New(miner, kind, transA, false, opts...)
	if err != nil {
		return nil, err
	}
	return applyOp(o, a, b)
}

func applyOp(o MinedMatMul, a, b *gorgonia.Node) (*gorgonia.Node, error) {
	n, err := gorgonia.ApplyOp(o, a, b)
	if err != nil {
		return nil, fmt.Errorf("op: Mul: %w", err)
	}
	Attach(n)
	return n, nil
}
