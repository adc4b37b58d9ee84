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
// op.MinedMatMul that multiplies through miner, in place, and returns a
// Census of what it converted and what it left to Gorgonia. Call it after
// the model (and, if you like, gorgonia.Grad) is built and before the
// program is compiled: gorgonia.Compile, CompileFunction and NewTapeMachine
// copy the ops into the program they build, so a program compiled earlier
// keeps Gorgonia's products (convert it with SwapProgram instead).
// Gradients taken after Swap are mined too. Calling Swap again after the
// graph grew converts the new products only.
//
// Gradient products that gorgonia.Grad built are recognised by their
// operands (the forward product's inputs and its gradient) and get the roles
// grad-A and grad-B, and the gradient operand's rounding (op.WithGradRounding);
// every other product is a forward one.
//
// A stock product that already holds a value means a VM has run the graph;
// if it was a TapeMachine, its program keeps Gorgonia's products, so Swap
// refuses with an error rather than report conversions that would never
// run. On any other Gorgonia version, or if the internals it checks look
// different, Swap returns an error wrapping ErrUnsupported. On error it
// changes nothing. It is not safe to call while a VM runs g.
func Swap(g *gorgonia.ExprGraph, miner *pouw.Miner, opts ...op.Option) (Census, error) {
	if g == nil {
		return Census{}, errors.New("graph: Swap: nil graph")
	}
	if miner == nil {
		return Census{}, errors.New("graph: Swap: nil miner")
	}
	l, err := internals()
	if err != nil {
		return Census{}, err
	}
	plan, census, err := l.plan(g.AllNodes(), miner, opts, false)
	if err != nil {
		return Census{}, err
	}
	// Everything is built and checked: only now touch the graph.
	for _, s := range plan {
		l.setOp(s.node, s.op)
		op.Attach(s.node)
	}
	return census, nil
}

// Program is a program gorgonia.Compile or gorgonia.CompileFunction
// returned (their first result), as gorgonia.WithPrecompiled takes it.
type Program interface {
	Graph() *gorgonia.ExprGraph
	CPUMemReq() int64
}

// SwapProgram is Swap for a graph whose program is already compiled: it
// converts the stock products of prog's graph and the instructions of prog
// that compute them, so a TapeMachine built with gorgonia.WithPrecompiled(prog,
// locMap) mines them. Instructions of nodes that an earlier Swap already
// converted get the node's mined op. Build the TapeMachine after SwapProgram,
// or at least before it first runs.
func SwapProgram(prog Program, miner *pouw.Miner, opts ...op.Option) (Census, error) {
	if prog == nil || reflect.ValueOf(prog).IsNil() {
		return Census{}, errors.New("graph: SwapProgram: nil program")
	}
	if miner == nil {
		return Census{}, errors.New("graph: SwapProgram: nil miner")
	}
	l, err := internals()
	if err != nil {
		return Census{}, err
	}
	if reflect.TypeOf(prog) != l.program {
		return Census{}, fmt.Errorf("graph: SwapProgram: %T is not a program from gorgonia.Compile", prog)
	}
	g := prog.Graph()
	if g == nil {
		return Census{}, errors.New("graph: SwapProgram: the program has no graph")
	}
	plan, census, err := l.plan(g.AllNodes(), miner, opts, true)
	if err != nil {
		return Census{}, err
	}
	mined := map[*gorgonia.Node]gorgonia.Op{}
	for _, s := range plan {
		mined[s.node] = s.op
	}
	// Find every instruction to rewrite before rewriting any.
	type patch struct {
		op  reflect.Value
		new gorgonia.Op
	}
	var patches []patch
	instrs := reflect.ValueOf(prog).Elem().Field(l.instrField)
	for i := range instrs.Len() {
		in := instrs.Index(i).Elem()
		if in.Type() != l.execOp {
			continue
		}
		e := in.Elem()
		opv := e.Field(l.execOpField)
		cur := *(*gorgonia.Op)(unsafe.Pointer(opv.UnsafeAddr()))
		if _, ok := l.stockOf(cur); !ok {
			continue
		}
		n, ok := g.Node(e.Field(l.execIDField).Int()).(*gorgonia.Node)
		if !ok || n == nil {
			return Census{}, fmt.Errorf("graph: SwapProgram: instruction %d computes no node of the program's graph", i)
		}
		want, ok := mined[n]
		if !ok {
			if _, isMined := n.Op().(op.MinedMatMul); !isMined {
				continue // a product Swap leaves to Gorgonia
			}
			want = n.Op()
		}
		patches = append(patches, patch{opv, want})
	}
	for _, s := range plan {
		l.setOp(s.node, s.op)
		op.Attach(s.node)
	}
	for _, p := range patches {
		*(*gorgonia.Op)(unsafe.Pointer(p.op.UnsafeAddr())) = p.new
	}
	census.Instructions = len(patches)
	return census, nil
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

// Bypassed lists the mined nodes of g that hold a value their op never
// computed: a program compiled before Swap ran them with Gorgonia's own
// products (a TapeMachine built from such a program computes the stock
// products and mines nothing). Call it after a first run to make sure the
// program mines: a non-empty list means the program needs SwapProgram.
func Bypassed(g *gorgonia.ExprGraph) (gorgonia.Nodes, error) {
	if g == nil {
		return nil, errors.New("graph: Bypassed: nil graph")
	}
	var out gorgonia.Nodes
	for _, n := range g.AllNodes() {
		if m, ok := n.Op().(op.MinedMatMul); ok && m.Calls() == 0 && n.Value() != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// StockProducts lists the nodes of g that are Gorgonia matrix products Swap
// would convert: after Swap, the products added to the graph since (a model
// that grows layer by layer), which a training loop can warn about or swap.
func StockProducts(g *gorgonia.ExprGraph) (gorgonia.Nodes, error) {
	if g == nil {
		return nil, errors.New("graph: StockProducts: nil graph")
	}
	l, err := internals()
	if err != nil {
		return nil, err
	}
	var stock gorgonia.Nodes
	for _, n := range g.AllNodes() {
		if _, ok := l.stock(n); ok {
			stock = append(stock, n)
		}
	}
	return stock, nil
}

// Census is what Swap did: the nodes it converted and the matrix-product
// nodes it left to Gorgonia, with why.
type Census struct {
	Converted []Converted
	Skipped   []Skipped
	// Instructions is the number of program instructions SwapProgram
	// rewrote (zero for Swap).
	Instructions int
}

// Converted is a node Swap converted.
type Converted struct {
	Node *gorgonia.Node
	Kind op.Kind
	Role op.Role
}

// Skipped is a matrix-product node Swap left to Gorgonia.
type Skipped struct {
	Node   *gorgonia.Node
	Reason string
}

// Roles counts the converted nodes by role.
func (c Census) Roles() map[op.Role]int {
	r := map[op.Role]int{}
	for _, n := range c.Converted {
		r[n.Role]++
	}
	return r
}

// String summarises the census on one line, e.g.
// "converted 6 products (2 forward, 2 grad-A, 2 grad-B); left 1 to Gorgonia (1 outer product: no inner dimension)".
func (c Census) String() string {
	r := c.Roles()
	s := fmt.Sprintf("converted %d products (%d forward, %d grad-A, %d grad-B)", len(c.Converted), r[op.Forward], r[op.GradA], r[op.GradB])
	if c.Instructions > 0 {
		s += fmt.Sprintf(" and %d program instructions", c.Instructions)
	}
	if len(c.Skipped) > 0 {
		why := map[string]int{}
		var order []string
		for _, k := range c.Skipped {
			if why[k.Reason] == 0 {
				order = append(order, k.Reason)
			}
			why[k.Reason]++
		}
		s += fmt.Sprintf("; left %d to Gorgonia (", len(c.Skipped))
		for i, reason := range order {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", why[reason], reason)
		}
		s += ")"
	}
	return s
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
	skipped             map[uint64]string // products left to Gorgonia, and why

	// A compiled program: its type, its instruction list, and the type
	// and fields of the instruction that applies an op.
	program                  reflect.Type
	instrField               int
	execOp                   reflect.Type
	execOpField, execIDField int
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
	outer, err := gorgonia.OuterProd(u, v)
	if err != nil {
		return nil, err
	}
	a3 := gorgonia.NewTensor(g, dt, 3, gorgonia.WithShape(2, 2, 3), gorgonia.WithName("a3"))
	b3 := gorgonia.NewTensor(g, dt, 3, gorgonia.WithShape(2, 3, 2), gorgonia.WithName("b3"))
	batched, err := gorgonia.BatchedMatMul(a3, b3)
	if err != nil {
		return nil, err
	}
	for _, n := range []*gorgonia.Node{outer, batched} {
		if reflect.TypeOf(n.Op()) != t {
			return nil, fmt.Errorf("%v is a %T, not linAlgBinOp", n.Op(), n.Op())
		}
	}
	l.skipped = map[uint64]string{
		code(outer):   "outer product: no inner dimension",
		code(batched): "batched product: build it with op.BatchedMul",
	}
	_, c1 := l.codes[code(outer)]
	_, c2 := l.codes[code(batched)]
	if len(l.skipped) != 2 || c1 || c2 {
		return nil, errors.New("outer and batched operators are not distinct")
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
	if err := l.probeProgram(); err != nil {
		return nil, fmt.Errorf("compiled program: %w", err)
	}
	return l, nil
}

// probeProgram learns the layout of a compiled program: a list of
// instructions, the one for a product an *execOp{op Op; id int64; ...}
// holding the node's op.
func (l *layout) probeProgram() error {
	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("a"))
	b := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("b"))
	mm, err := gorgonia.Mul(a, b)
	if err != nil {
		return err
	}
	prog, _, err := gorgonia.Compile(g)
	if err != nil {
		return err
	}
	pt := reflect.TypeOf(prog)
	if pt.Kind() != reflect.Pointer || pt.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("gorgonia.Compile returns a %v", pt)
	}
	f, ok := pt.Elem().FieldByName("instructions")
	if !ok || f.Type.Kind() != reflect.Slice || f.Type.Elem().Kind() != reflect.Interface {
		return errors.New("no instructions list")
	}
	l.program, l.instrField = pt, f.Index[0]
	instrs := reflect.ValueOf(prog).Elem().Field(l.instrField)
	found := 0
	for i := range instrs.Len() {
		in := instrs.Index(i).Elem()
		if in.Kind() != reflect.Pointer || in.Elem().Kind() != reflect.Struct || in.Type().Elem().Name() != "execOp" {
			continue
		}
		et := in.Type().Elem()
		opf, ok1 := et.FieldByName("op")
		idf, ok2 := et.FieldByName("id")
		if !ok1 || !ok2 || opf.Type != reflect.TypeOf((*gorgonia.Op)(nil)).Elem() || idf.Type.Kind() != reflect.Int64 {
			return fmt.Errorf("%v has no op Op and id int64 fields", et)
		}
		l.execOp, l.execOpField, l.execIDField = in.Type(), opf.Index[0], idf.Index[0]
		e := in.Elem()
		cur := *(*gorgonia.Op)(unsafe.Pointer(e.Field(l.execOpField).UnsafeAddr()))
		if _, isProduct := l.stockOf(cur); isProduct {
			if e.Field(l.execIDField).Int() != mm.ID() {
				return errors.New("the product's instruction does not carry its node's ID")
			}
			found++
		}
	}
	if found != 1 {
		return fmt.Errorf("found %d product instructions in a program with one product", found)
	}
	return nil
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
	return l.stockOf(n.Op())
}

// skippedReason says why n, a matrix product Swap does not convert, is
// left to Gorgonia ("" when n is no such product).
func (l *layout) skippedReason(n *gorgonia.Node) string {
	o := n.Op()
	if o == nil || reflect.TypeOf(o) != l.linAlg {
		return ""
	}
	return l.skipped[reflect.ValueOf(o).Field(0).Uint()]
}

// stockOf reads o if it is a stock product Swap converts.
func (l *layout) stockOf(o gorgonia.Op) (stockOp, bool) {
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

// plan builds the mined op of every stock product, without changing any,
// and the census of the change. Unless ranOK, a stock product holding a
// value (a VM ran the graph) is an error.
func (l *layout) plan(nodes gorgonia.Nodes, miner *pouw.Miner, opts []op.Option, ranOK bool) ([]swap, Census, error) {
	roles := l.gradRoles(nodes)
	var plan []swap
	var census Census
	for _, n := range nodes {
		s, ok := l.stock(n)
		if !ok {
			if why := l.skippedReason(n); why != "" {
				census.Skipped = append(census.Skipped, Skipped{n, why})
			}
			continue
		}
		if ch := l.children(n); len(ch) != 2 {
			return nil, Census{}, fmt.Errorf("graph: node %q has %d children, want 2", n.Name(), len(ch))
		}
		if !ranOK && n.Value() != nil {
			return nil, Census{}, fmt.Errorf("graph: node %q already holds a value: a VM has run this graph, and a TapeMachine's program keeps Gorgonia's products; call Swap before gorgonia.Compile and NewTapeMachine, or SwapProgram on the compiled program (after a LispMachine run, vm.UnbindAll() first)", n.Name())
		}
		r, ok := roles[n]
		if !ok {
			r = gradRole{op.Forward, -1}
		}
		mined, err := op.NewRole(miner, s.kind, s.transA, s.transB, r.role, r.gradOperand, opts...)
		if err != nil {
			return nil, Census{}, fmt.Errorf("graph: node %q: %w", n.Name(), err)
		}
		plan = append(plan, swap{n, mined})
		census.Converted = append(census.Converted, Converted{n, s.kind, r.role})
	}
	return plan, census, nil
}
