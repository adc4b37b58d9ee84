package op

import (
	"fmt"
	"unsafe"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/internal/bufcache"
	"github.com/usefulwork/minedmatmul/op/internal/quant"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Scratch buffers kept between products (a few of each: the largest shapes
// of the model in use).
var (
	int8Bufs    = bufcache.New[int8](8)
	int32Bufs   = bufcache.New[int32](4)
	float64Bufs = bufcache.New[float64](8)
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
//
// Shapes are checked before the data is touched: an empty tensor's Data
// panics (gorgonia.org/tensor indexes its first element), so an operand
// with a zero dimension is an error here, as is a mismatch.
func operands[F float32 | float64](o MinedMatMul, a, b *tensor.Dense) (left, bt quant.View[F], err error) {
	as, bs := a.Shape(), b.Shape()
	m, k, k2, n, err := o.dims(as, bs)
	if err != nil {
		return left, bt, err
	}
	if k != k2 {
		return left, bt, fmt.Errorf("inner dimensions differ: %v%s and %v%s", as, tick(o.transA), bs, tick(o.transB))
	}
	if m <= 0 || k <= 0 || n <= 0 {
		return left, bt, fmt.Errorf("empty operand: %v%s × %v%s multiplies %d×%d by %d×%d", as, tick(o.transA), bs, tick(o.transB), m, k, k2, n)
	}
	ast, bst := a.Strides(), b.Strides()
	if len(ast) != len(as) || len(bst) != len(bs) {
		return left, bt, fmt.Errorf("strides %v, %v do not match shapes %v, %v", ast, bst, as, bs)
	}
	if a.DataSize() == 0 || b.DataSize() == 0 {
		return left, bt, fmt.Errorf("operands of shapes %v and %v hold %d and %d elements", as, bs, a.DataSize(), b.DataSize())
	}
	ad, ok1 := a.Data().([]F)
	bd, ok2 := b.Data().([]F)
	if !ok1 || !ok2 {
		return left, bt, fmt.Errorf("operand data is %T and %T", a.Data(), b.Data())
	}
	switch o.kind {
	case MatMul, MatVec:
		left = quant.View[F]{Data: ad, Rows: m, Cols: k, RowStride: ast[0], ColStride: ast[1]}
		if o.transA {
			left.RowStride, left.ColStride = ast[1], ast[0]
		}
	case VecDot:
		left = quant.View[F]{Data: ad, Rows: 1, Cols: k, ColStride: ast[0]}
	}
	switch o.kind {
	case MatMul:
		// Bᵀ[j][p] = op(B)[p][j]: B's own layout when transB, else swapped.
		bt = quant.View[F]{Data: bd, Rows: n, Cols: k, RowStride: bst[1], ColStride: bst[0]}
		if o.transB {
			bt.RowStride, bt.ColStride = bst[0], bst[1]
		}
	case MatVec, VecDot:
		bt = quant.View[F]{Data: bd, Rows: 1, Cols: k, ColStride: bst[0]}
	}
	return left, bt, nil
}

func runTyped[F float32 | float64](o MinedMatMul, dst gorgonia.Value, incr bool, a, b *tensor.Dense) (gorgonia.Value, error) {
	left, bt, err := operands[F](o, a, b)
	if err != nil {
		return nil, o.errorf("%w", err)
	}
	m, k, n := left.Rows, left.Cols, bt.Rows
	var call uint64 // how many times the node ran before
	if o.site != nil {
		call = o.site.calls.Add(1) - 1
	}
	tag := pouw.Tag{Role: o.role.String(), Node: o.nodeName(), Step: int64(call)}
	if !o.quantiseAll {
		if reason := o.miner.Unmined(m, k, n); reason != nil {
			o.miner.Skipped(m, k, n, tag, reason)
			return runFloat(o, dst, incr, a.Dtype(), left, bt)
		}
	}

	// Scratch comes from caches, not fresh zeroed memory: the quantiser
	// and the kernel set every entry, and a training step multiplies the
	// same shapes again and again.
	aq, bq := int8Bufs.Get(m*k), int8Bufs.Get(n*k)
	defer int8Bufs.Put(aq)
	defer int8Bufs.Put(bq)
	scales := float64Bufs.Get(m + n)
	defer float64Bufs.Put(scales)
	sa, sb := scales[:m], scales[m:]
	cbuf := int32Bufs.Get(m * n)
	defer int32Bufs.Put(cbuf)
	// The stochastic streams follow the training step when the loop
	// records one, so a replay of a step draws the same numbers.
	stream := call
	if step, ok := o.miner.Step(); ok {
		stream = uint64(step)
	}
	ra, rb := o.noises(stream)
	if err := quant.Rows(left, aq, sa, ra); err != nil {
		return nil, o.errorf("left operand: %w", err)
	}
	if err := quant.Rows(bt, bq, sb, rb); err != nil {
		return nil, o.errorf("right operand: %w", err)
	}
	prod, err := o.miner.MatMulInto(cbuf, pouw.Matrix{Rows: m, Cols: k, Data: aq}, pouw.Matrix{Rows: n, Cols: k, Data: bq}, tag)
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

	out, err := output[F](o, dst, incr, a.Dtype(), m, n)
	if err != nil {
		return nil, err
	}
	quant.Dequant(out.Data().([]F), prod.C, sa, sb, incr)
	return out, nil
}

// runFloat computes a product the miner would not mine in float.
func runFloat[F float32 | float64](o MinedMatMul, dst gorgonia.Value, incr bool, dt tensor.Dtype, left, bt quant.View[F]) (gorgonia.Value, error) {
	if err := left.Check(); err != nil {
		return nil, o.errorf("left operand: %w", err)
	}
	if err := bt.Check(); err != nil {
		return nil, o.errorf("right operand: %w", err)
	}
	m, n := left.Rows, bt.Rows
	if o.kind == VecDot {
		var c [1]F
		floatProduct(o.kind, c[:], left, bt, false)
		if err := checkFinite(c[:], 1); err != nil {
			return nil, o.errorf("%w", err)
		}
		if _, is32 := any(F(0)).(float32); is32 {
			return gorgonia.NewF32(float32(c[0])), nil
		}
		return gorgonia.NewF64(float64(c[0])), nil
	}
	out, err := output[F](o, dst, incr, dt, m, n)
	if err != nil {
		return nil, err
	}
	c := out.Data().([]F)
	floatProduct(o.kind, c, left, bt, incr)
	if err := checkFinite(c, n); err != nil {
		return nil, o.errorf("%w", err)
	}
	return out, nil
}

// output is the tensor a matrix or vector product of m×n entries is
// written to: dst when usable, a fresh one otherwise.
func output[F float32 | float64](o MinedMatMul, dst gorgonia.Value, incr bool, dt tensor.Dtype, m, n int) (*tensor.Dense, error) {
	shape := tensor.Shape{m, n}
	if o.kind == MatVec {
		shape = tensor.Shape{m}
	}
	out := usable[F](dst, shape)
	if out == nil {
		if incr {
			return nil, o.errorf("cannot increment %T", dst)
		}
		out = tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	}
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

// noises returns the stochastic-rounding streams of the two operands for
// the node's call-th run (nil for operands that round to nearest). The key
// mixes the seed, the node, the op's role and the call count, so every
// product draws fresh numbers and a rerun draws the same ones.
func (o MinedMatMul) noises(call uint64) (ra, rb *quant.Noise) {
	if o.round[0] != Stochastic && o.round[1] != Stochastic {
		return nil, nil
	}
	var node uint64
	if o.site != nil {
		if n := o.site.node.Load(); n != nil {
			node = uint64(n.ID())
		}
	}
	key := quant.Mix64(o.seed ^ quant.Mix64(node<<8|uint64(o.role)) ^ quant.Mix64((call+1)*quant.Golden))
	if o.round[0] == Stochastic {
		ra = &quant.Noise{Key: quant.Mix64(key ^ 1)}
	}
	if o.round[1] == Stochastic {
		rb = &quant.Noise{Key: quant.Mix64(key ^ 2)}
	}
	return ra, rb
}
