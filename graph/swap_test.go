package graph

import (
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

func testMiner(t testing.TB) *pouw.Miner {
	t.Helper()
	m, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(1<<16, 32)), Profile: pouw.Local})
	require.NoError(t, err)
	return m
}

func normal(rng *rand.Rand, scale float64, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.NormFloat64() * scale
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// mlp is x·W1 → tanh → ·W2ᵀ (a transposed product, to exercise the flags)
// → log-softmax cross-entropy, built with the given product.
type mlp struct {
	g                 *gorgonia.ExprGraph
	x, w1, w2, logits *gorgonia.Node
	cost              *gorgonia.Node
}

func buildMLP(t testing.TB, seed uint64, mul func(a, b *gorgonia.Node, transB bool) (*gorgonia.Node, error)) *mlp {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := gorgonia.NewGraph()
	m := &mlp{g: g}
	m.x = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(32, 64), gorgonia.WithValue(normal(rng, 1, 32, 64)), gorgonia.WithName("x"))
	m.w1 = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 48), gorgonia.WithValue(normal(rng, 0.125, 64, 48)), gorgonia.WithName("w1"))
	m.w2 = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(40, 48), gorgonia.WithValue(normal(rng, 0.14, 40, 48)), gorgonia.WithName("w2"))
	yv := tensor.New(tensor.WithShape(32, 40), tensor.Of(tensor.Float64))
	for i := 0; i < 32; i++ {
		require.NoError(t, yv.SetAt(1.0, i, rng.IntN(40)))
	}
	y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(32, 40), gorgonia.WithValue(yv), gorgonia.WithName("y"))
	a1, err := mul(m.x, m.w1, false)
	require.NoError(t, err)
	h := gorgonia.Must(gorgonia.Tanh(a1))
	m.logits, err = mul(h, m.w2, true)
	require.NoError(t, err)
	lsm := gorgonia.Must(gorgonia.LogSoftMax(m.logits))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.HadamardProd(lsm, y))))))
	return m
}

// outputs runs m and returns the logits and the three gradients.
func (m *mlp) outputs(t testing.TB, vm gorgonia.VM) [][]float64 {
	require.NoError(t, vm.RunAll())
	defer vm.Close()
	out := [][]float64{append([]float64(nil), m.logits.Value().Data().([]float64)...)}
	for _, n := range []*gorgonia.Node{m.w1, m.w2, m.x} {
		g, err := n.Grad()
		require.NoError(t, err)
		out = append(out, append([]float64(nil), g.Data().([]float64)...))
	}
	return out
}

// TestSwapMatchesMul builds the same model with gorgonia.Mul (converted by
// Swap, before or after Grad) and with op.Mul, and checks that they compute
// the same bits, forward and backward, on both VMs.
func TestSwapMatchesMul(t *testing.T) {
	for _, when := range []string{"after Grad", "before Grad", "lisp"} {
		t.Run(when, func(t *testing.T) {
			mined := testMiner(t)
			ref := buildMLP(t, 1, func(a, b *gorgonia.Node, transB bool) (*gorgonia.Node, error) {
				return op.MulT(mined, a, b, false, transB)
			})
			var refVM gorgonia.VM
			if when == "lisp" {
				refVM = gorgonia.NewLispMachine(ref.g)
			} else {
				_, err := gorgonia.Grad(ref.cost, ref.w1, ref.w2, ref.x)
				require.NoError(t, err)
				refVM = gorgonia.NewTapeMachine(ref.g)
			}
			want := ref.outputs(t, refVM)

			swapped := testMiner(t)
			// The stock model multiplies by W2ᵀ with a transB flag, as op.MulT
			// does, so that Swap has a flagged forward product to convert.
			m := buildMLP(t, 1, func(a, b *gorgonia.Node, transB bool) (*gorgonia.Node, error) {
				if !transB {
					return gorgonia.Mul(a, b)
				}
				return stockMulT(t, a, b)
			})
			names := map[*gorgonia.Node]string{}
			for _, n := range m.g.AllNodes() {
				names[n] = n.Name()
			}
			var vm gorgonia.VM
			var census Census
			var err error
			switch when {
			case "after Grad":
				_, err = gorgonia.Grad(m.cost, m.w1, m.w2, m.x)
				require.NoError(t, err)
				for _, n := range m.g.AllNodes() {
					names[n] = n.Name()
				}
				census, err = Swap(m.g, swapped)
				require.NoError(t, err)
				assert.Len(t, census.Converted, 2+4, "2 forward and 4 gradient products")
				assert.Equal(t, map[op.Role]int{op.Forward: 2, op.GradA: 2, op.GradB: 2}, census.Roles())
				vm = gorgonia.NewTapeMachine(m.g)
			case "before Grad":
				census, err = Swap(m.g, swapped)
				require.NoError(t, err)
				assert.Len(t, census.Converted, 2)
				_, err = gorgonia.Grad(m.cost, m.w1, m.w2, m.x)
				require.NoError(t, err)
				vm = gorgonia.NewTapeMachine(m.g)
			case "lisp":
				census, err = Swap(m.g, swapped)
				require.NoError(t, err)
				assert.Len(t, census.Converted, 2)
				vm = gorgonia.NewLispMachine(m.g)
			}
			for n, name := range names {
				if _, mined := n.Op().(op.MinedMatMul); mined && name != n.Name() {
					i := strings.LastIndex(name, "(")
					// An unnamed product's name is derived from its op,
					// which now says it is mined (and its role).
					assert.Equal(t, n.Op().String()+name[i:], n.Name())
					assert.True(t, strings.HasPrefix(n.Name(), "mined "), n.Name())
					continue
				}
				assert.Equal(t, name, n.Name(), "a node changed its name")
			}
			got := m.outputs(t, vm)
			for i := range want {
				assert.Equal(t, want[i], got[i], "output %d differs", i)
			}
			assert.Equal(t, mined.Stats().ByRole, swapped.Stats().ByRole)
			again, err := Swap(m.g, swapped)
			require.NoError(t, err)
			assert.Empty(t, again.Converted, "a second Swap finds nothing left to convert")
		})
	}
}

// stockMulT applies Gorgonia's own flagged product a·bᵀ (a linAlgBinOp
// with transB, the form Conv2d and Grad build but gorgonia.Mul cannot): op
// values belong to no graph, so it is taken from the gradient that
// gorgonia.Grad builds in a scratch graph (d(c·d)/dc = G·dᵀ).
func stockMulT(t testing.TB, a, b *gorgonia.Node) (*gorgonia.Node, error) {
	g := gorgonia.NewGraph()
	c := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("c"))
	d := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 4), gorgonia.WithName("d"))
	grads, err := gorgonia.Grad(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Mul(c, d)))), c)
	require.NoError(t, err)
	var flagged gorgonia.Op
	for _, n := range g.AllNodes() {
		if n.Op() != nil && n.Op().String() == "A × Bᵀ" {
			flagged = n.Op()
		}
	}
	require.NotNil(t, flagged, "no a·bᵀ in %v", grads)
	return gorgonia.ApplyOp(flagged, a, b)
}

// TestSwapConvnet converts a small convnet (Conv2d hides a matmul) and
// trains it for a few steps.
func TestSwapConvnet(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	g := gorgonia.NewGraph()
	const batch, ch, side, filters, classes = 4, 4, 8, 8, 10
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(batch, ch, side, side), gorgonia.WithValue(normal(rng, 1, batch, ch, side, side)), gorgonia.WithName("x"))
	f := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(filters, ch, 3, 3), gorgonia.WithValue(normal(rng, 1/6.0, filters, ch, 3, 3)), gorgonia.WithName("filter"))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(filters*side*side, classes), gorgonia.WithValue(normal(rng, 1/22.6, filters*side*side, classes)), gorgonia.WithName("w"))
	yv := tensor.New(tensor.WithShape(batch, classes), tensor.Of(tensor.Float64))
	for i := 0; i < batch; i++ {
		require.NoError(t, yv.SetAt(1.0, i, rng.IntN(classes)))
	}
	y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, classes), gorgonia.WithValue(yv), gorgonia.WithName("y"))
	conv, err := gorgonia.Conv2d(x, f, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
	require.NoError(t, err)
	act := gorgonia.Must(gorgonia.Rectify(conv))
	flat := gorgonia.Must(gorgonia.Reshape(act, tensor.Shape{batch, filters * side * side}))
	logits := gorgonia.Must(gorgonia.Mul(flat, w))
	cost := gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.HadamardProd(gorgonia.Must(gorgonia.LogSoftMax(logits)), y))))))
	_, err = gorgonia.Grad(cost, f, w)
	require.NoError(t, err)

	miner := testMiner(t)
	census, err := Swap(g, miner)
	require.NoError(t, err)
	// Conv2d's im2col×filterᵀ, the dense layer, and two gradients of each
	// (Grad was asked for f and w only; the input's gradients are not built
	// but Gorgonia's SymDiff builds both of every product).
	assert.Len(t, census.Converted, 6)
	for _, n := range g.AllNodes() {
		stock, err := Stock(n)
		require.NoError(t, err)
		assert.False(t, stock, "stock product %v left", n)
	}

	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(f, w))
	defer vm.Close()
	solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.1))
	var losses []float64
	for step := 0; step < 8; step++ {
		require.NoError(t, vm.RunAll())
		losses = append(losses, float64(cost.Value().Data().(float64)))
		require.NoError(t, solver.Step(gorgonia.NodesToValueGrads(gorgonia.Nodes{f, w})))
		vm.Reset()
	}
	t.Logf("losses: %.4f", losses)
	assert.Less(t, losses[len(losses)-1], 0.8*losses[0], "the converted convnet does not train")
	for i, l := range losses {
		assert.False(t, math.IsNaN(l), "step %d", i)
	}
	s := miner.Stats()
	assert.Equal(t, int64(8), s.ByRole["forward"].Products/2, "2 forward products a step")
	assert.Positive(t, s.ByRole["grad-A"].Products)
	assert.Positive(t, s.ByRole["grad-B"].Products)
	t.Logf("by role: %+v", s.ByRole)
}

func TestSwapErrors(t *testing.T) {
	// Another Gorgonia release is refused, whatever its layout.
	mod := func(v string) *debug.Module { return &debug.Module{Path: "gorgonia.org/gorgonia", Version: v} }
	assert.NoError(t, checkVersion([]*debug.Module{mod(GorgoniaVersion)}))
	assert.NoError(t, checkVersion([]*debug.Module{{Path: "gorgonia.org/gorgonia", Version: "v0.9.17", Replace: &debug.Module{Path: "../gorgonia"}}}))
	assert.Error(t, checkVersion([]*debug.Module{mod("v0.9.19")}))
	_, err := internals()
	require.NoError(t, err, "this build's Gorgonia must pass the probe")

	_, err = Swap(nil, testMiner(t))
	assert.Error(t, err)
	_, err = Swap(gorgonia.NewGraph(), nil)
	assert.Error(t, err)
	census, err := Swap(gorgonia.NewGraph(), testMiner(t))
	assert.NoError(t, err)
	assert.Empty(t, census.Converted)
}

// The gradient of a matrix×vector product (aᵀ·g, a mat×vec with transA) is
// recognised as the right operand's gradient, not mistaken for a forward
// product; the matrix's own gradient, an outer product, stays Gorgonia's.
func TestSwapLabelsMatVecGradient(t *testing.T) {
	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 48), gorgonia.WithName("a"), gorgonia.WithInit(gorgonia.Zeroes()))
	u := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(48), gorgonia.WithName("u"), gorgonia.WithInit(gorgonia.Zeroes()))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Mul(a, u))))
	_, err := gorgonia.Grad(cost, a, u)
	require.NoError(t, err)
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(0x207fffff)})
	require.NoError(t, err)
	census, err := Swap(g, miner)
	require.NoError(t, err)
	assert.Len(t, census.Converted, 2)
	// The matrix's own gradient, g⊗u, is an outer product.
	require.Len(t, census.Skipped, 1)
	assert.Equal(t, "outer product: no inner dimension", census.Skipped[0].Reason)
	roles := map[op.Role]bool{}
	for _, nd := range g.AllNodes() {
		if m, ok := nd.Op().(op.MinedMatMul); ok {
			assert.Equal(t, op.MatVec, m.Kind())
			roles[m.Role()] = true
			if m.Role() == op.GradB {
				transA, _ := m.Trans()
				assert.True(t, transA, "aᵀ·g")
			}
		}
	}
	assert.Equal(t, map[op.Role]bool{op.Forward: true, op.GradB: true}, roles)
}

// A program compiled before the swap keeps Gorgonia's products: Swap after
// the VM ran refuses, naming the fix, and SwapProgram makes the compiled
// program mine, with the same results as a graph swapped before compiling.
func TestSwapProgram(t *testing.T) {
	stock := func(a, b *gorgonia.Node, transB bool) (*gorgonia.Node, error) {
		if transB {
			return stockMulT(t, a, b)
		}
		return gorgonia.Mul(a, b)
	}
	// Reference: swapped, then compiled.
	early := testMiner(t)
	ref := buildMLP(t, 3, stock)
	_, err := gorgonia.Grad(ref.cost, ref.w1, ref.w2, ref.x)
	require.NoError(t, err)
	_, err = Swap(ref.g, early)
	require.NoError(t, err)
	want := ref.outputs(t, gorgonia.NewTapeMachine(ref.g))

	late := testMiner(t)
	m := buildMLP(t, 3, stock)
	_, err = gorgonia.Grad(m.cost, m.w1, m.w2, m.x)
	require.NoError(t, err)
	prog, locMap, err := gorgonia.Compile(m.g)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(m.g, gorgonia.WithPrecompiled(prog, locMap))
	require.NoError(t, vm.RunAll())
	vm.Reset()
	_, err = Swap(m.g, late)
	require.ErrorContains(t, err, "SwapProgram")
	assert.Zero(t, late.Stats().Products)

	census, err := SwapProgram(prog, late)
	require.NoError(t, err)
	assert.Len(t, census.Converted, 6)
	assert.Equal(t, 6, census.Instructions)
	assert.Contains(t, census.String(), "and 6 program instructions")
	assert.Contains(t, prog.String(), "mined A × B")
	got := m.outputs(t, vm)
	assert.Equal(t, want, got)
	assert.Equal(t, early.Stats().ByRole, late.Stats().ByRole)
	assert.Equal(t, int64(6), late.Stats().Products)

	_, err = SwapProgram(nil, late)
	assert.Error(t, err)
	_, err = SwapProgram(prog, nil)
	assert.Error(t, err)
}

// StockProducts lists the products added after a swap, and a second Swap
// converts just them.
func TestStockProductsAfterGrowth(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(16, 64), gorgonia.WithName("x"), gorgonia.WithInit(gorgonia.Ones()))
	w1 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 32), gorgonia.WithName("w1"), gorgonia.WithInit(gorgonia.Ones()))
	h := gorgonia.Must(gorgonia.Mul(x, w1))
	miner := testMiner(t)
	census, err := Swap(g, miner)
	require.NoError(t, err)
	require.Len(t, census.Converted, 1)
	left, err := StockProducts(g)
	require.NoError(t, err)
	assert.Empty(t, left)

	w2 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(32, 64), gorgonia.WithName("w2"), gorgonia.WithInit(gorgonia.Ones()))
	y := gorgonia.Must(gorgonia.Mul(h, w2))
	left, err = StockProducts(g)
	require.NoError(t, err)
	assert.Equal(t, gorgonia.Nodes{y}, left)
	census, err = Swap(g, miner)
	require.NoError(t, err)
	require.Len(t, census.Converted, 1)
	assert.Same(t, y, census.Converted[0].Node)
	_, err = StockProducts(nil)
	assert.Error(t, err)
}

// A program compiled before Swap and run after it computes the stock
// products: Swap cannot see the program, but Bypassed names the mined nodes
// whose values their op never computed, and SwapProgram repairs it.
func TestBypassedAfterCompileThenSwap(t *testing.T) {
	miner := testMiner(t)
	m := buildMLP(t, 4, func(a, b *gorgonia.Node, transB bool) (*gorgonia.Node, error) {
		if transB {
			return stockMulT(t, a, b)
		}
		return gorgonia.Mul(a, b)
	})
	_, err := gorgonia.Grad(m.cost, m.w1, m.w2, m.x)
	require.NoError(t, err)
	prog, locMap, err := gorgonia.Compile(m.g)
	require.NoError(t, err)
	census, err := Swap(m.g, miner)
	require.NoError(t, err)
	require.Len(t, census.Converted, 6)
	vm := gorgonia.NewTapeMachine(m.g, gorgonia.WithPrecompiled(prog, locMap))
	require.NoError(t, vm.RunAll())
	vm.Reset()
	assert.Zero(t, miner.Stats().Products, "the stale program ran the stock products")
	stale, err := Bypassed(m.g)
	require.NoError(t, err)
	assert.Len(t, stale, 6)

	_, err = SwapProgram(prog, miner)
	require.NoError(t, err)
	require.NoError(t, vm.RunAll())
	assert.Equal(t, int64(6), miner.Stats().Products)
	stale, err = Bypassed(m.g)
	require.NoError(t, err)
	assert.Empty(t, stale)
	vm.Close()
}
