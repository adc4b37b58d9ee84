package op

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Role says which product of training a MinedMatMul computes. It is part of
// the op's hash, so a forward product and a gradient product with the same
// operands stay two nodes, and it names the product in the miner's
// statistics (pouw.Stats.ByRole) and in the meta of its proofs.
type Role uint8

const (
	// Forward is a product of the forward pass.
	Forward Role = iota
	// GradA is the gradient with respect to the left operand of a forward
	// product, e.g. dX = G·Wᵀ.
	GradA
	// GradB is the gradient with respect to the right operand of a forward
	// product, e.g. dW = Xᵀ·G.
	GradB
)

// String returns the role's name as it appears in statistics and proofs:
// "forward", "grad-A" or "grad-B".
func (r Role) String() string {
	switch r {
	case Forward:
		return "forward"
	case GradA:
		return "grad-A"
	case GradB:
		return "grad-B"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Rounding is how a float is mapped to an int7 step.
type Rounding uint8

const (
	// Nearest rounds to the nearest step, ties to even: deterministic and
	// the smallest error per element, but biased for values far below the
	// row's largest magnitude (they all become 0).
	Nearest Rounding = iota
	// Stochastic rounds up with probability equal to the fractional part,
	// from a seeded counter-based generator: unbiased, so the many small
	// entries of a gradient survive on average, and reproducible because
	// the random stream depends only on the seed, the node and the call.
	Stochastic
)

// String names the rounding mode.
func (r Rounding) String() string {
	switch r {
	case Nearest:
		return "nearest"
	case Stochastic:
		return "stochastic"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// Kind is the shape of a product, mirroring the dispatch of gorgonia.Mul.
type Kind uint8

const (
	// MatMul is matrix × matrix → matrix.
	MatMul Kind = iota
	// MatVec is matrix × vector → vector (the vector is a k×1 column).
	MatVec
	// VecDot is vector · vector → scalar (a 1×k by k×1 product).
	VecDot
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case MatMul:
		return "matmul"
	case MatVec:
		return "matvec"
	case VecDot:
		return "vecdot"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MinedMatMul is a Gorgonia op that computes op(A)·op(B) through a
// pouw.Miner: both operands are quantised to int7 (the left one per row,
// the right one per column), the miner computes and mines their exact int32
// product, and the result is dequantised back to the operands' float dtype.
// A product the miner would not mine (see pouw.Miner.Unmined) is computed in
// float as Gorgonia computes it, and counted as unmined with its reason;
// WithQuantiseAll keeps such products on the int7 path too. The choice is
// made per product, at run time, from the actual shapes and job. Transposes are flags, as in
// Gorgonia's own matmul, so the gradients need no Transpose nodes and are
// MinedMatMul nodes too (see SymDiff).
//
// Build nodes with Mul, or convert a graph with graph.Swap; construct the
// op itself with New only to apply it by hand (gorgonia.ApplyOp), and call
// Attach on the node ApplyOp returns so that proofs and errors name it.
type MinedMatMul struct {
	miner          *pouw.Miner
	kind           Kind
	transA, transB bool
	role           Role
	// round[i] is the rounding of input i; the gradient operand of a
	// backward product rounds with cfg.gradRounding.
	round [2]Rounding
	seed  uint64
	// gradRounding is inherited by the gradient ops SymDiff creates.
	gradRounding Rounding
	// quantiseAll sends products the miner would not mine through int7
	// too, instead of float.
	quantiseAll bool
	// site is shared by every copy of the op value: the node it computes
	// (set once the node exists) and the count of its products (the
	// stochastic-rounding stream). It is not part of the hash.
	site *site
}

type site struct {
	node  atomic.Pointer[gorgonia.Node]
	calls atomic.Uint64
}

// Option configures the ops that Mul, New and graph.Swap create.
type Option func(*options)

type options struct {
	gradRounding Rounding
	seed         uint64
	quantiseAll  bool
}

func defaultOptions() options {
	return options{gradRounding: Stochastic, seed: 1}
}

// WithGradRounding sets how the incoming gradient G is rounded in the
// backward products (default Stochastic: unbiased, see Rounding). Forward
// operands always round to nearest.
func WithGradRounding(r Rounding) Option { return func(o *options) { o.gradRounding = r } }

// WithQuantiseAll computes every product through int7, also those the miner
// would not mine (a matrix × vector product, k below the noise rank, no
// job), which otherwise run in float like Gorgonia's own: for a model that
// must see the same int7 arithmetic in every product.
func WithQuantiseAll() Option { return func(o *options) { o.quantiseAll = true } }

// WithSeed sets the seed of the stochastic-rounding streams (default 1).
// Runs with the same seed, graph and inputs produce the same bits.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// New returns a forward MinedMatMul of the given kind and transposes that
// multiplies through miner. transB must be false unless kind is MatMul.
func New(miner *pouw.Miner, kind Kind, transA, transB bool, opts ...Option) (MinedMatMul, error) {
	return newOp(miner, kind, transA, transB, Forward, opts...)
}

// NewRole is New for a product whose role is known, e.g. a gradient product
// built by Gorgonia's own SymDiff that graph.Swap converts: gradOperand (0
// or 1, or -1 for none) is the input holding the incoming gradient G, which
// is rounded as WithGradRounding says.
func NewRole(miner *pouw.Miner, kind Kind, transA, transB bool, role Role, gradOperand int, opts ...Option) (MinedMatMul, error) {
	o, err := newOp(miner, kind, transA, transB, role, opts...)
	if err != nil {
		return o, err
	}
	if gradOperand == 0 || gradOperand == 1 {
		o.round[gradOperand] = o.gradRounding
	}
	return o, nil
}

func newOp(miner *pouw.Miner, kind Kind, transA, transB bool, role Role, opts ...Option) (MinedMatMul, error) {
	if miner == nil {
		return MinedMatMul{}, fmt.Errorf("op: nil miner")
	}
	if kind > VecDot {
		return MinedMatMul{}, fmt.Errorf("op: unknown kind %d", kind)
	}
	if role > GradB {
		return MinedMatMul{}, fmt.Errorf("op: unknown role %d", role)
	}
	if (kind != MatMul && transB) || (kind == VecDot && transA) {
		return MinedMatMul{}, fmt.Errorf("op: %v takes no transpose of a vector", kind)
	}
	cfg := defaultOptions()
	for _, f := range opts {
		f(&cfg)
	}
	return MinedMatMul{
		miner: miner, kind: kind, transA: transA, transB: transB, role: role,
		seed: cfg.seed, gradRounding: cfg.gradRounding, quantiseAll: cfg.quantiseAll, site: new(site),
	}, nil
}

// derived returns a gradient op that keeps o's miner and settings.
func (o MinedMatMul) derived(kind Kind, transA, transB bool, role Role, gradOperand int) MinedMatMul {
	d := MinedMatMul{
		miner: o.miner, kind: kind, transA: transA, transB: transB, role: role,
		seed: o.seed, gradRounding: o.gradRounding, quantiseAll: o.quantiseAll, site: new(site),
	}
	if gradOperand >= 0 {
		d.round[gradOperand] = o.gradRounding
	}
	return d
}

// Attach records n as the node o computes, so that proofs (pouw.Tag.Node),
// errors and the stochastic-rounding stream name it. Mul, SymDiff and
// graph.Swap call it; call it yourself only after gorgonia.ApplyOp with an op
// from New. A node that already has a site keeps it.
func Attach(n *gorgonia.Node) {
	if o, ok := n.Op().(MinedMatMul); ok && o.site != nil {
		o.site.node.CompareAndSwap(nil, n)
	}
}

// Miner returns the miner the op multiplies through.
func (o MinedMatMul) Miner() *pouw.Miner { return o.miner }

// Kind returns the op's kind.
func (o MinedMatMul) Kind() Kind { return o.kind }

// Role returns the op's role.
func (o MinedMatMul) Role() Role { return o.role }

// Trans returns the transpose flags of the left and right operands.
func (o MinedMatMul) Trans() (transA, transB bool) { return o.transA, o.transB }

// Calls returns how many products the op has computed for its node (zero
// for an op not yet attached to a node).
func (o MinedMatMul) Calls() uint64 {
	if o.site == nil {
		return 0
	}
	return o.site.calls.Load()
}

// Rounding returns the rounding of each input.
func (o MinedMatMul) Rounding() [2]Rounding { return o.round }

// nodeName is the name proofs and errors carry: the node's, once attached.
func (o MinedMatMul) nodeName() string {
	if o.site != nil {
		if n := o.site.node.Load(); n != nil {
			return n.Name()
		}
	}
	return ""
}

/* gorgonia.Op */

// Arity is 2.
func (o MinedMatMul) Arity() int { return 2 }

// Type is Matrix a → Matrix a → Matrix a for MatMul, Matrix a → Vector a →
// Vector a for MatVec and Vector a → Vector a → a for VecDot, as for
// Gorgonia's own products: operands of different dtypes fail to unify when
// the node is built.
func (o MinedMatMul) Type() hm.Type {
	a := hm.TypeVariable('a')
	v := gorgonia.TensorType{Dims: 1, Of: a}
	m := gorgonia.TensorType{Dims: 2, Of: a}
	switch o.kind {
	case MatVec:
		return hm.NewFnType(m, v, v)
	case VecDot:
		return hm.NewFnType(v, v, a)
	}
	return hm.NewFnType(m, m, m)
}

// InferShape checks the operands' shapes, so mismatches fail when the node
// is built, and returns the product's.
func (o MinedMatMul) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(ds) != 2 {
		return nil, fmt.Errorf("op: MinedMatMul takes 2 inputs, got %d", len(ds))
	}
	shapes, err := gorgonia.DimSizersToShapes(ds)
	if err != nil {
		return nil, fmt.Errorf("op: %w", err)
	}
	m, k, k2, n, err := o.dims(shapes[0], shapes[1])
	if err != nil {
		return nil, err
	}
	if k != k2 {
		return nil, fmt.Errorf("op: %v: inner dimensions differ: %v%s and %v%s",
			o, shapes[0], tick(o.transA), shapes[1], tick(o.transB))
	}
	switch o.kind {
	case MatVec:
		return tensor.Shape{m}, nil
	case VecDot:
		return tensor.ScalarShape(), nil
	}
	return tensor.Shape{m, n}, nil
}

func tick(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

// dims returns m, k of the left operand and k, n of the right one after the
// transposes.
func (o MinedMatMul) dims(a, b tensor.Shape) (m, k, k2, n int, err error) {
	want := func(s tensor.Shape, d int, what string) error {
		if len(s) != d {
			return fmt.Errorf("op: %v: %s must have %d dimensions, has shape %v", o, what, d, s)
		}
		return nil
	}
	switch o.kind {
	case MatMul:
		if err = want(a, 2, "left operand"); err != nil {
			return
		}
		if err = want(b, 2, "right operand"); err != nil {
			return
		}
		m, k = a[0], a[1]
		if o.transA {
			m, k = k, m
		}
		k2, n = b[0], b[1]
		if o.transB {
			k2, n = n, k2
		}
	case MatVec:
		if err = want(a, 2, "matrix"); err != nil {
			return
		}
		if err = want(b, 1, "vector"); err != nil {
			return
		}
		m, k = a[0], a[1]
		if o.transA {
			m, k = k, m
		}
		k2, n = b[0], 1
	case VecDot:
		if err = want(a, 1, "left vector"); err != nil {
			return
		}
		if err = want(b, 1, "right vector"); err != nil {
			return
		}
		m, k, k2, n = 1, a[0], b[0], 1
	}
	return
}

// Do computes the product through the miner.
func (o MinedMatMul) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return o.run(nil, false, inputs)
}

// ReturnsPtr is true: the result is a fresh or preallocated tensor.
func (o MinedMatMul) ReturnsPtr() bool { return true }

// CallsExtern mirrors Gorgonia's matmul, so a converted graph compiles to
// the same program: matrix results are preallocated by the TapeMachine and
// written through UsePreallocDo; scalar results are not.
func (o MinedMatMul) CallsExtern() bool { return o.kind != VecDot }

// OverwritesInput is -1: inputs are only read (and never left transposed).
func (o MinedMatMul) OverwritesInput() int { return -1 }

// WriteHash encodes every field that changes the result or its accounting:
// kind, transposes, role, roundings, the int7-for-all switch, seed and miner. Gorgonia hash-conses
// nodes by it, so two products differing in any of these stay two nodes.
func (o MinedMatMul) WriteHash(h hash.Hash) {
	h.Write([]byte("op.MinedMatMul"))
	var b [4 + 8 + 8]byte
	b[0], b[1], b[2], b[3] = byte(o.kind), bit(o.transA), bit(o.transB), byte(o.role)
	b[2] |= byte(o.round[0])<<1 | byte(o.round[1])<<3 | byte(o.gradRounding)<<5 | bit(o.quantiseAll)<<7
	binary.LittleEndian.PutUint64(b[4:], o.seed)
	binary.LittleEndian.PutUint64(b[12:], uint64(minerID(o.miner)))
	h.Write(b[:])
}

func bit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// Hashcode is the FNV-1a hash of WriteHash, as Gorgonia's own ops use.
func (o MinedMatMul) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// String is Gorgonia's form for the product ("A × Bᵀ", "Aᵀ × b", "a ⋅ b")
// marked as mined, with the role of a gradient product: "mined A × Bᵀ",
// "mined grad-B Aᵀ × B". A printed graph or program (and the name Gorgonia
// derives for an unnamed node) shows which products are mined.
func (o MinedMatMul) String() string {
	prefix := "mined "
	if o.role != Forward {
		prefix += o.role.String() + " "
	}
	switch o.kind {
	case MatVec:
		return prefix + "A" + tick(o.transA) + " × b"
	case VecDot:
		return prefix + "a ⋅ b"
	}
	return prefix + "A" + tick(o.transA) + " × B" + tick(o.transB)
}

/* optional interfaces */

// IsBinary marks MinedMatMul as a gorgonia.BinaryOp.
func (o MinedMatMul) IsBinary() bool { return true }

// UsePreallocDo writes the product into prealloc when it has the product's
// shape and dtype (a fresh tensor otherwise).
func (o MinedMatMul) UsePreallocDo(prealloc gorgonia.Value, inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return o.run(prealloc, false, inputs)
}

// IncrDo adds the product to incr. A scalar (VecDot) cannot be incremented
// in place: the sum comes back as the error's Value, as Gorgonia expects
// from an IncrDoer.
func (o MinedMatMul) IncrDo(incr gorgonia.Value, inputs ...gorgonia.Value) error {
	if _, ok := incr.(*tensor.Dense); ok && o.kind != VecDot {
		_, err := o.run(incr, true, inputs)
		return err
	}
	v, err := o.run(nil, false, inputs)
	if err != nil {
		return err
	}
	sum, err := addScalar(incr, v)
	if err != nil {
		return o.errorf("increment: %w", err)
	}
	return valueErr{sum}
}

// valueErr hands a result back through IncrDo (gorgonia.Valuer).
type valueErr struct{ v gorgonia.Value }

func (e valueErr) Error() string         { return "op: value returned instead of incremented" }
func (e valueErr) Value() gorgonia.Value { return e.v }

func addScalar(a, b gorgonia.Value) (gorgonia.Value, error) {
	switch x := a.(type) {
	case *gorgonia.F64:
		if y, ok := b.(*gorgonia.F64); ok {
			return gorgonia.NewF64(float64(*x) + float64(*y)), nil
		}
	case *gorgonia.F32:
		if y, ok := b.(*gorgonia.F32); ok {
			return gorgonia.NewF32(float32(*x) + float32(*y)), nil
		}
	}
	return nil, fmt.Errorf("cannot add %T and %T", a, b)
}

func (o MinedMatMul) errorf(format string, args ...any) error {
	return fmt.Errorf("op: node %q (%v %v): %w", o.nodeName(), o.role, o, fmt.Errorf(format, args...))
}

// Interface checks.
var (
	_ gorgonia.Op              = MinedMatMul{}
	_ gorgonia.BinaryOp        = MinedMatMul{}
	_ gorgonia.SDOp            = MinedMatMul{}
	_ gorgonia.ADOp            = MinedMatMul{}
	_ gorgonia.UsePreallocDoer = MinedMatMul{}
	_ gorgonia.IncrDoer        = MinedMatMul{}
)
