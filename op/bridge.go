package op

import (
	"fmt"
	"unsafe"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// minerID distinguishes miners in an op's hash. Go's heap objects do not
// move, and the hash only lives as long as the graph (which holds the miner).
func minerID(m *pouw.Miner) uintptr { return uintptr(unsafe.Pointer(m)) }

// run computes the product of inputs into dst (a fresh tensor when dst is
// nil or unusable), adding to dst instead of overwriting it when incr is set.
func (o MinedMatMul) run(dst gorgonia.Value, incr bool, inputs []gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, o.errorf("want 2 inputs, got %d", len(inputs))
	}
	a, ok := inputs[0].(*tensor.Dense)
	if !ok {
		return nil, o.errorf("left operand is %T, want *tensor.Dense", inputs[0])
	}
	b, ok := inputs[1].(*tensor.Dense)
	if !ok {
		return nil, o.errorf("right operand is %T, want *tensor.Dense", inputs[1])
	}
	if a.Dtype() != b.Dtype() {
		return nil, o.errorf("operands are %v and %v", a.Dtype(), b.Dtype())
	}
	switch a.Dtype() {
	case tensor.Float32:
		return runTyped[float32](o, dst, incr, a, b)
	case tensor.Float64:
		return runTyped[float64](o, dst, incr, a, b)
	}
	return nil, o.errorf("dtype %v: only float32 and float64 are mined", a.Dtype())
}

// operands returns the left operand as an m×k window and the right one as
// its transpose Bᵀ, an n×k window: per-column scales of B are per-row scales
// of Bᵀ, and reading Bᵀ straight from B's memory (whatever its layout) saves
// the copy a transpose would make. A thunked transpose (T()) only swaps the
// strides the window reads, so it is used as it is and never undone here.
func operands[F float32 | float64](o MinedMatMul, a, b *tensor.Dense) (left, bt strided[F], err error) {
	ad, ok1 := a.Data().([]F)
	bd, ok2 := b.Data().([]F)
	if !ok1 || !ok2 {
		return left, bt, fmt.Errorf("operand data is %T and %T", a.Data(), b.Data())
	}
	as, bs := a.Shape(), b.Shape()
	ast, bst := a.Strides(), b.Strides()
	m, k, k2, n, err := o.dims(as, bs)
	if err != nil {
		return left, bt, err
	}
	if k != k2 {
		return left, bt, fmt.Errorf("inner dimensions differ: %v and %v", as, bs)
	}
	if len(ast) != len(as) || len(bst) != len(bs) {
		return left, bt, fmt.Errorf("strides %v, %v do not match shapes %v, %v", ast, bst, as, bs)
	}
	switch o.kind {
	case MatMul, MatVec:
		left = strided[F]{data: ad, rows: m, cols: k, rs: ast[0], cs: ast[1]}
		if o.transA {
			left.rs, left.cs = ast[1], ast[0]
		}
	case VecDot:
		left = strided[F]{data: ad, rows: 1, cols: k, cs: ast[0]}
	}
	switch o.kind {
	case MatMul:
		// Bᵀ[j][p] = op(B)[p][j]: B's own layout when transB, else swapped.
		bt = strided[F]{data: bd, rows: n, cols: k, rs: bst[1], cs: bst[0]}
		if o.transB {
			bt.rs, bt.cs = bst[0], bst[1]
		}
	case MatVec, VecDot:
		bt = strided[F]{data: bd, rows: 1, cols: k, cs: bst[0]}
	}
	return left, bt, nil
}

func runTyped[F float32 | float64](o MinedMatMul, dst gorgonia.Value, incr bool, a, b *tensor.Dense) (gorgonia.Value, error) {
	left, bt, err := operands[F](o, a, b)
	if err != nil {
		return nil, o.errorf("%w", err)
	}
	m, k, n := left.rows, left.cols, bt.rows

	aq := make([]int8, m*k)
	bq := make([]int8, n*k)
	scales := make([]float64, m+n)
	sa, sb := scales[:m], scales[m:]
	ra, rb := o.noises()
	if err := quantRows(left, aq, sa, ra); err != nil {
		return nil, o.errorf("left operand: %w", err)
	}
	if err := quantRows(bt, bq, sb, rb); err != nil {
		return nil, o.errorf("right operand: %w", err)
	}
	prod, err := o.miner.MatMul(pouw.Matrix{Rows: m, Cols: k, Data: aq}, pouw.Matrix{Rows: n, Cols: k, Data: bq},
		pouw.Tag{Role: o.role.String(), Node: o.nodeName()})
	if err != nil {
		return nil, o.errorf("miner: %w", err)
	}
	if len(prod.C) != m*n {
		return nil, o.errorf("miner returned %d entries for a %d×%d product", len(prod.C), m, n)
	}

	if o.kind == VecDot {
		y := float64(float64(prod.C[0]) * float64(sa[0]*sb[0]))
		var v gorgonia.Value
		if _, is32 := any(F(0)).(float32); is32 {
			v = gorgonia.NewF32(float32(y))
		} else {
			v = gorgonia.NewF64(y)
		}
		return v, nil
	}

	shape := tensor.Shape{m, n}
	if o.kind == MatVec {
		shape = tensor.Shape{m}
	}
	out := usable[F](dst, shape)
	if out == nil {
		if incr {
			return nil, o.errorf("cannot increment %T", dst)
		}
		out = tensor.New(tensor.WithShape(shape...), tensor.Of(a.Dtype()))
	}
	dequant(out.Data().([]F), prod.C, sa, sb, incr)
	return out, nil
}

// usable returns dst as a contiguous tensor of shape and dtype F, or nil.
func usable[F float32 | float64](dst gorgonia.Value, shape tensor.Shape) *tensor.Dense {
	t, ok := dst.(*tensor.Dense)
	if !ok || t == nil || t.IsMaterializable() || !t.Shape().Eq(shape) {
		return nil
	}
	if d, ok := t.Data().([]F); !ok || len(d) != shape.TotalSize() {
		return nil
	}
	return t
}

// dequant sets (or, with incr, adds to) y[i][j] = sa[i]·c[i][j]·sb[j]. The
// scale product is exact in float64 for float32 inputs, and the explicit
// conversions round each step so no FMA can change a bit. The assembly
// kernels (kern.deq32, kern.deq64) do the same operations in the same order
// (dequantRef is the oracle in the tests).
func dequant[F float32 | float64](y []F, c []int32, sa, sb []float64, incr bool) {
	if quantUse == implRef {
		dequantRef(y, c, sa, sb, incr)
		return
	}
	n := len(sb)
	for i, s := range sa {
		row, crow := y[i*n:(i+1)*n], c[i*n:(i+1)*n]
		done := 0
		switch r := any(row).(type) {
		case []float32:
			if kern.deq32 != nil {
				done = kern.deq32(r, crow, sb, s, incr)
			}
		case []float64:
			if kern.deq64 != nil {
				done = kern.deq64(r, crow, sb, s, incr)
			}
		}
		dequantRow(row[done:], crow[done:], sb[done:], s, incr)
	}
}

// dequantRow is one row of dequantRef, the loop split on incr.
func dequantRow[F float32 | float64](row []F, crow []int32, sb []float64, s float64, incr bool) {
	crow, sb = crow[:len(row)], sb[:len(row)]
	if incr {
		for j, cij := range crow {
			row[j] += F(float64(float64(cij) * float64(s*sb[j])))
		}
		return
	}
	for j, cij := range crow {
		row[j] = F(float64(float64(cij) * float64(s*sb[j])))
	}
}

// dequantRef is the reference dequantiser.
func dequantRef[F float32 | float64](y []F, c []int32, sa, sb []float64, incr bool) {
	n := len(sb)
	for i, s := range sa {
		row, crow := y[i*n:(i+1)*n], c[i*n:(i+1)*n]
		for j, cij := range crow {
			v := F(float64(float64(cij) * float64(s*sb[j])))
			if incr {
				row[j] += v
			} else {
				row[j] = v
			}
		}
	}
}

// noises returns the stochastic-rounding streams of the two operands for
// this call (nil for operands that round to nearest). The key mixes the
// seed, the node, the op's role and the call count, so every product draws
// fresh numbers and a rerun draws the same ones.
func (o MinedMatMul) noises() (ra, rb *noise) {
	if o.round[0] != Stochastic && o.round[1] != Stochastic {
		return nil, nil
	}
	var node, call uint64
	if o.site != nil {
		call = o.site.calls.Add(1)
		if n := o.site.node.Load(); n != nil {
			node = uint64(n.ID())
		}
	}
	key := mix64(o.seed ^ mix64(node<<8|uint64(o.role)) ^ mix64(call*golden))
	if o.round[0] == Stochastic {
		ra = &noise{key: mix64(key ^ 1)}
	}
	if o.round[1] == Stochastic {
		rb = &noise{key: mix64(key ^ 2)}
	}
	return ra, rb
}
