package graph

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"unsafe"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// GorgoniaVersion is the only Gorgonia release whose internals Swap knows.
const GorgoniaVersion = "v0.9.18"

// ErrUnsupported is returned (wrapped) when the running Gorgonia is not the
// version or layout Swap was written against; the graph is left untouched.
var ErrUnsupported = errors.New("graph: unsupported Gorgonia internals")

// Swap converts every stock matrix-product node of g into an
// op.MinedMatMul that multiplies through miner, in place, and returns how
// many nodes it converted. Call it after the model (and, if you like,
// gorgonia.Grad) is built and before the VM is compiled: a compiled VM keeps
// the ops it was compiled with. Gradients taken after Swap are mined too.
//
// Gradient products that gorgonia.Grad built are recognised by their
// operands (the forward product's inputs and its gradient) and get the roles
// grad-A and grad-B, and the gradient operand's rounding (op.WithGradRounding);
// every other product is a forward one.
//
// On any other Gorgonia version, or if the internals it checks look
// different, Swap returns an error wrapping ErrUnsupported and changes
// nothing. It is not safe to call while a VM runs g.
func Swap(g *gorgonia.ExprGraph, miner *pouw.Miner, opts ...op.Option) (int, error) {
	if g == nil {
		return 0, errors.New("graph: Swap: nil graph")
	}
	if miner == nil {
		return 0, errors.New("graph: Swap: nil miner")
	}
	l, err := internals()
	if err != nil {
		return 0, err
	}
	plan, err := l.plan(g.AllNodes(), miner, opts)
	if err != nil {
		return 0, err
	}
	// Everything is built and checked: only now touch the graph.
	for _, s := range plan {
		l.setOp(s.node, s.op)
		op.Attach(s.node)
	}
	return len(plan), nil
}

// Stock reports whether n is a Gorgonia matrix-product node that Swap would
// convert: what a test asserts is gone after Swap.
func Stock(n *gorgonia.Node) (bool, error) {
	l, err := internals()
	if err != nil {
		return false, err
	}
	_, ok := l.stock(n)
	return ok, nil
}

// stockOp is what Swap reads from a Gorgonia linAlgBinOp.
type stockOp struct {
	kind           op.Kind
	transA, transB bool
}

// layout is what Swap learned about this Gorgonia: where a node keeps its op
// and children, the stock product's type, and its operator codes.
type layout struct {
	opField, childField int
	linAlg              reflect.Type
	codes               map[uint64]op.Kind
}

var (
	layoutOnce sync.Once
	layoutVal  *layout
	layoutErr  error
)

func internals() (*layout, error) {
	layoutOnce.Do(func() {
		layoutVal, layoutErr = probe()
		if layoutErr != nil {
			layoutErr = fmt.Errorf("%w: %v (Swap needs gorgonia.org/gorgonia %s; use op.Mul instead)",
				ErrUnsupported, layoutErr, GorgoniaVersion)
		}
	})
	return layoutVal, layoutErr
}

// probe checks the version in the build information and the layout of
// *gorgonia.Node and linAlgBinOp, then builds a tiny model with every kind of
// stock product and its gradients and checks that Swap's reading of them
// matches what gorgonia.Mul and gorgonia.Grad are documented to build.
func probe() (*layout, error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if err := checkVersion(bi.Deps); err != nil {
			return nil, err
		}
	}
	nt := reflect.TypeOf(gorgonia.Node{})
	l := &layout{opField: -1, childField: -1}
	for i := 0; i < nt.NumField(); i++ {
		f := nt.Field(i)
		switch f.Name {
		case "op":
			if f.Type != reflect.TypeOf((*gorgonia.Op)(nil)).Elem() {
				return nil, fmt.Errorf("Node.op is %v", f.Type)
			}
			l.opField = i
		case "children":
			if f.Type != reflect.TypeOf(gorgonia.Nodes(nil)) {
				return nil, fmt.Errorf("Node.children is %v", f.Type)
			}
			l.childField = i
		}
	}
	if l.opField < 0 || l.childField < 0 {
		return nil, errors.New("Node has no op or children field")
	}

	g := gorgonia.NewGraph()
	dt := tensor.Float64
	a := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(2, 3), gorgonia.WithName("a"))
	b := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(3, 2), gorgonia.WithName("b"))
	u := gorgonia.NewVector(g, dt, gorgonia.WithShape(3), gorgonia.WithName("u"))
	v := gorgonia.NewVector(g, dt, gorgonia.WithShape(3), gorgonia.WithName("v"))
	mm, err := gorgonia.Mul(a, b)
	if err != nil {
		return nil, err
	}
	t := reflect.TypeOf(mm.Op())
	if t.Kind() != reflect.Struct || t.Name() != "linAlgBinOp" || t.PkgPath() != "gorgonia.org/gorgonia" || t.NumField() != 3 ||
		t.Field(0).Type.Kind() != reflect.Uint8 || t.Field(1).Name != "transA" || t.Field(1).Type.Kind() != reflect.Bool ||
		t.Field(2).Name != "transB" || t.Field(2).Type.Kind() != reflect.Bool {
		return nil, fmt.Errorf("gorgonia.Mul builds a %v, not linAlgBinOp{āBinaryOperator, transA, transB bool}", t)
	}
	l.linAlg = t
	code := func(n *gorgonia.Node) uint64 { return reflect.ValueOf(n.Op()).Field(0).Uint() }
	mv, err := gorgonia.Mul(a, u) // a·u: matVec
	if err != nil {
		return nil, err
	}
	vm, err := gorgonia.Mul(v, b) // v·b = bᵀ·v: matVec with transA on (b, v)
	if err != nil {
		return nil, err
	}
	vd, err := gorgonia.Mul(u, v)
	if err != nil {
		return nil, err
	}
	l.codes = map[uint64]op.Kind{code(mm): op.MatMul, code(mv): op.MatVec, code(vd): op.VecDot}
	if len(l.codes) != 3 || code(vm) != code(mv) {
		return nil, errors.New("matrix-product operators are not distinct")
	}
	for _, c := range []struct {
		n        *gorgonia.Node
		want     stockOp
		children gorgonia.Nodes
	}{
		{mm, stockOp{op.MatMul, false, false}, gorgonia.Nodes{a, b}},
		{mv, stockOp{op.MatVec, false, false}, gorgonia.Nodes{a, u}},
		{vm, stockOp{op.MatVec, true, false}, gorgonia.Nodes{b, v}},
		{vd, stockOp{op.VecDot, false, false}, gorgonia.Nodes{u, v}},
	} {
		got, ok := l.stock(c.n)
		if !ok || got != c.want || !sameNodes(l.children(c.n), c.children) {
			return nil, fmt.Errorf("reading %v gives %+v of %v, want %+v of %v", c.n.Op(), got, l.children(c.n), c.want, c.children)
		}
	}
	// The gradients of a·b (and of the transposed products they contain)
	// must be found where the table says.
	cost, err := gorgonia.Sum(mm)
	if err != nil {
		return nil, err
	}
	if _, err := gorgonia.Grad(cost, a, b); err != nil {
		return nil, err
	}
	var grads int
	roles := l.gradRoles(g.AllNodes())
	for _, n := range g.AllNodes() {
		if _, ok := l.stock(n); ok && n != mm && n != mv && n != vm && n != vd {
			if _, ok := roles[n]; !ok {
				return nil, fmt.Errorf("gradient product %v of %v not recognised", n.Op(), l.children(n))
			}
			grads++
		}
	}
	if grads != 2 {
		return nil, fmt.Errorf("gorgonia.Grad of a matmul built %d products, want 2", grads)
	}
	return l, nil
}

// checkVersion accepts the build's Gorgonia only at GorgoniaVersion. A
// replacement by a local directory has no version: the layout probe alone
// decides then.
func checkVersion(deps []*debug.Module) error {
	for _, d := range deps {
		if d.Path != "gorgonia.org/gorgonia" {
			continue
		}
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		if v != "" && v != GorgoniaVersion {
			return fmt.Errorf("gorgonia.org/gorgonia is %s", v)
		}
	}
	return nil
}

func sameNodes(a, b gorgonia.Nodes) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// stock reads n's op if it is a stock product Swap converts.
func (l *layout) stock(n *gorgonia.Node) (stockOp, bool) {
	o := n.Op()
	if o == nil || reflect.TypeOf(o) != l.linAlg {
		return stockOp{}, false
	}
	v := reflect.ValueOf(o)
	kind, ok := l.codes[v.Field(0).Uint()]
	if !ok {
		return stockOp{}, false // outer product, batched matmul
	}
	return stockOp{kind: kind, transA: v.Field(1).Bool(), transB: v.Field(2).Bool()}, true
}

// children reads n's children (Gorgonia has no accessor for them).
func (l *layout) children(n *gorgonia.Node) gorgonia.Nodes {
	f := reflect.ValueOf(n).Elem().Field(l.childField)
	return *(*gorgonia.Nodes)(unsafe.Pointer(f.UnsafeAddr()))
}

// setOp replaces n's op.
func (l *layout) setOp(n *gorgonia.Node, o gorgonia.Op) {
	f := reflect.ValueOf(n).Elem().Field(l.opField)
	*(*gorgonia.Op)(unsafe.Pointer(f.UnsafeAddr())) = o
}

type gradRole struct {
	role        op.Role
	gradOperand int
}

type gradKey struct {
	s    stockOp
	a, b *gorgonia.Node
}

// gradRoles finds the gradient products gorgonia.Grad built: for every
// product z with a gradient G = z.Deriv(), the products its SymDiff adds are
// the ones of op.MinedMatMul's table (the same as Gorgonia's) applied to z's
// inputs and G.
func (l *layout) gradRoles(nodes gorgonia.Nodes) map[*gorgonia.Node]gradRole {
	want := map[gradKey]gradRole{}
	for _, z := range nodes {
		s, ok := l.stock(z)
		if !ok || z.Deriv() == nil {
			continue
		}
		ch := l.children(z)
		if len(ch) != 2 {
			continue
		}
		ops := [3]*gorgonia.Node{ch[0], ch[1], z.Deriv()}
		for _, gp := range op.GradProducts(s.kind, s.transA, s.transB) {
			k := gradKey{stockOp{gp.Kind, gp.TransA, gp.TransB}, ops[gp.First], ops[gp.Second]}
			gradOperand := 0
			if gp.Second == op.OperandG {
				gradOperand = 1
			}
			if _, dup := want[k]; !dup {
				want[k] = gradRole{gp.Role, gradOperand}
			}
		}
	}
	roles := map[*gorgonia.Node]gradRole{}
	for _, n := range nodes {
		s, ok := l.stock(n)
		if !ok {
			continue
		}
		ch := l.children(n)
		if len(ch) != 2 {
			continue
		}
		if r, ok := want[gradKey{s, ch[0], ch[1]}]; ok {
			roles[n] = r
		}
	}
	return roles
}

type swap struct {
	node *gorgonia.Node
	op   op.MinedMatMul
}

// plan builds the mined op of every stock product, without changing any.
func (l *layout) plan(nodes gorgonia.Nodes, miner *pouw.Miner, opts []op.Option) ([]swap, error) {
	roles := l.gradRoles(nodes)
	var plan []swap
	for _, n := range nodes {
		s, ok := l.stock(n)
		if !ok {
			continue
		}
		if ch := l.children(n); len(ch) != 2 {
			return nil, fmt.Errorf("graph: node %q has %d children, want 2", n.Name(), len(ch))
		}
		r, ok := roles[n]
		if !ok {
			r = gradRole{op.Forward, -1}
		}
		mined, err := op.NewRole(miner, s.kind, s.transA, s.transB, r.role, r.gradOperand, opts...)
		if err != nil {
			return nil, fmt.Errorf("graph: node %q: %w", n.Name(), err)
		}
		plan = append(plan, swap{n, mined})
	}
	return plan, nil
}
