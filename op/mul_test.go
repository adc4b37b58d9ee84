package op

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// TestMulDispatch checks that Mul dispatches like gorgonia.Mul (same result
// shapes, values within the quantisation tolerance, gradients too) and that
// the vector products go through the miner.
func TestMulDispatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vec := func(n int) *tensor.Dense {
		return tensor.New(tensor.WithShape(n), tensor.WithBacking(normals(rng, n)))
	}
	mat := func(r, c int) *tensor.Dense {
		return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(normals(rng, r*c)))
	}
	cases := []struct {
		name     string
		a, b     gorgonia.Value
		products int64 // forward and backward products through the miner
	}{
		{"mat×mat", mat(8, 48), mat(48, 6), 3},
		{"mat×vec", mat(8, 48), vec(48), 2}, // forward, and dx = Aᵀ·g (dA is an outer product)
		{"vec×mat", vec(48), mat(48, 6), 2},
		{"vec·vec", vec(48), vec(48), 1},
		{"scalar×mat", gorgonia.NewF64(1.5), mat(3, 4), 0},
	}
	for _, c := range cases {
		for _, lisp := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lisp=%v", c.name, lisp), func(t *testing.T) {
				build := func(mul mulFunc) (y *gorgonia.Node, grads []gorgonia.Value) {
					g := gorgonia.NewGraph()
					node := func(v gorgonia.Value, name string) *gorgonia.Node {
						if s, ok := v.(*gorgonia.F64); ok {
							return gorgonia.NewScalar(g, tensor.Float64, gorgonia.WithValue(*s), gorgonia.WithName(name))
						}
						d := v.(*tensor.Dense).Clone().(*tensor.Dense)
						return gorgonia.NewTensor(g, tensor.Float64, d.Dims(), gorgonia.WithShape(d.Shape()...), gorgonia.WithValue(d), gorgonia.WithName(name))
					}
					a, b := node(c.a, "a"), node(c.b, "b")
					y, err := mul(a, b)
					require.NoError(t, err)
					cost := y
					if !y.IsScalar() {
						cost = gorgonia.Must(gorgonia.Sum(y))
					}
					var vm gorgonia.VM
					if lisp {
						vm = gorgonia.NewLispMachine(g)
					} else {
						_, err = gorgonia.Grad(cost, a, b)
						require.NoError(t, err)
						vm = gorgonia.NewTapeMachine(g)
					}
					defer vm.Close()
					require.NoError(t, vm.RunAll())
					for _, n := range []*gorgonia.Node{a, b} {
						gv, err := n.Grad()
						require.NoError(t, err)
						grads = append(grads, gv)
					}
					return y, grads
				}
				miner, _ := testMiner(t, 1<<20)
				want, wantGrads := build(gorgonia.Mul)
				got, gotGrads := build(func(a, b *gorgonia.Node) (*gorgonia.Node, error) { return Mul(miner, a, b) })
				require.Equal(t, want.Shape(), got.Shape())
				assert.Less(t, relErr(values(got.Value()), values(want.Value())), gradTolerance(1, 0))
				for i := range wantGrads {
					assert.Less(t, relErr(values(gotGrads[i]), values(wantGrads[i])), gradTolerance(1, 1), "gradient %d", i)
				}
				assert.Equal(t, c.products, miner.Stats().Products)
				_, isMined := got.Op().(MinedMatMul)
				assert.Equal(t, c.products > 0, isMined)
			})
		}
	}
}

func values(v gorgonia.Value) []float64 {
	switch x := v.(type) {
	case *gorgonia.F64:
		return []float64{float64(*x)}
	case *gorgonia.F32:
		return []float64{float64(*x)}
	case tensor.Tensor:
		return toF64(x)
	}
	panic("value type")
}

// TestBatchedMul checks the 3-D helper against a per-batch float product.
func TestBatchedMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	miner, _ := testMiner(t, 1<<20)
	g := gorgonia.NewGraph()
	xv := tensor.New(tensor.WithShape(3, 5, 40), tensor.WithBacking(normals(rng, 3*5*40)))
	wv := tensor.New(tensor.WithShape(40, 7), tensor.WithBacking(normals(rng, 40*7)))
	x := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(3, 5, 40), gorgonia.WithValue(xv), gorgonia.WithName("x"))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(40, 7), gorgonia.WithValue(wv), gorgonia.WithName("w"))
	y, err := BatchedMul(miner, x, w)
	require.NoError(t, err)
	require.Equal(t, tensor.Shape{3, 5, 7}, y.Shape())
	_, err = gorgonia.Grad(gorgonia.Must(gorgonia.Sum(y)), w)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	got := y.Value().(*tensor.Dense).Data().([]float64)
	var want []float64
	xd, wd := xv.Data().([]float64), wv.Data().([]float64)
	for r := 0; r < 15; r++ {
		for j := 0; j < 7; j++ {
			var s float64
			for p := 0; p < 40; p++ {
				s += xd[r*40+p] * wd[p*7+j]
			}
			want = append(want, s)
		}
	}
	assert.Less(t, relErr(got, want), gradTolerance(1, 0))
	s := miner.Stats().ByRole
	assert.Equal(t, int64(1), s["forward"].Products, "the batch is one product")
	assert.Equal(t, int64(1), s["grad-B"].Products)
}

// TestProofs runs a forward and backward pass at an easy difficulty and
// checks that the proofs found verify with pouw and name their role and node.
func TestProofs(t *testing.T) {
	miner, log := testMiner(t, 1<<12)
	// Every product has k ≥ 32, so all three roles are mined.
	d := newMLPData(11, tensor.Float32, 32, 64, 32, 32)
	m := buildMLP(t, d, func(a, b *gorgonia.Node) (*gorgonia.Node, error) { return Mul(miner, a, b) })
	m.run(t, false)
	found := log.all()
	require.NotEmpty(t, found)
	roles := map[string]int{}
	for _, f := range found {
		v, err := f.Proof.Verify(pouw.VerifyOptions{})
		require.NoError(t, err)
		require.True(t, v.Win)
		role, _ := f.Proof.Meta["role"].(string)
		node, _ := f.Proof.Meta["node"].(string)
		require.Contains(t, []string{"forward", "grad-A", "grad-B"}, role)
		require.NotEmpty(t, node)
		roles[role]++
	}
	s := miner.Stats()
	for _, r := range []string{"forward", "grad-A", "grad-B"} {
		assert.Positive(t, roles[r], "no proof from %s", r)
		assert.Equal(t, int64(roles[r]), s.ByRole[r].Proofs)
		assert.Equal(t, s.ByRole[r].Products, s.ByRole[r].Mined, "%s products unmined", r)
	}
	t.Logf("%d proofs: %v", len(found), roles)
}
