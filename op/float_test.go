package op

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op/internal/quant"
	"github.com/usefulwork/minedmatmul/pouw"
)

// TestUnminableRunsStock checks that the products the miner cannot mine
// (matrix × vector, vector × matrix, vector · vector, k below the noise
// rank, a side too thin for a tile) are computed exactly as Gorgonia
// computes them, bit for bit, forward and backward, and are counted as
// unmined with their reason and shape m×k×n.
func TestUnminableRunsStock(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	vec := func(n int) *tensor.Dense { return tensor.New(tensor.WithShape(n), tensor.WithBacking(normals(rng, n))) }
	mat := func(r, c int) *tensor.Dense {
		return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(normals(rng, r*c)))
	}
	cases := []struct {
		name    string
		a, b    *tensor.Dense
		reasons map[pouw.UnminedReason]int64 // forward and backward products
	}{
		{"mat×vec", mat(40, 48), vec(48), map[pouw.UnminedReason]int64{
			{Code: pouw.ErrTile, M: 40, K: 48, N: 1}: 1, // y = A·x
			{Code: pouw.ErrTile, M: 48, K: 40, N: 1}: 1, // dx = Aᵀ·g
		}},
		{"vec×mat", vec(48), mat(48, 40), map[pouw.UnminedReason]int64{
			{Code: pouw.ErrTile, M: 40, K: 48, N: 1}: 1,
			{Code: pouw.ErrTile, M: 48, K: 40, N: 1}: 1,
		}},
		{"vec·vec", vec(48), vec(48), map[pouw.UnminedReason]int64{
			{Code: pouw.ErrTile, M: 1, K: 48, N: 1}: 1,
		}},
		{"k<rank", mat(24, 10), mat(10, 16), map[pouw.UnminedReason]int64{
			{Code: pouw.ErrInnerDim, M: 24, K: 10, N: 16}: 1, // y = A·B
			{Code: pouw.ErrInnerDim, M: 24, K: 16, N: 10}: 1, // dA = G·Bᵀ
			{Code: pouw.ErrInnerDim, M: 10, K: 24, N: 16}: 1, // dB = Aᵀ·G
		}},
		{"one column", mat(24, 40), mat(40, 1), map[pouw.UnminedReason]int64{
			{Code: pouw.ErrTile, M: 24, K: 40, N: 1}:     1,
			{Code: pouw.ErrInnerDim, M: 24, K: 1, N: 40}: 1,
			{Code: pouw.ErrTile, M: 40, K: 24, N: 1}:     1,
		}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%s/%v", c.name, dt), func(t *testing.T) {
				run := func(mul mulFunc) (gorgonia.Value, []gorgonia.Value) {
					g := gorgonia.NewGraph()
					node := func(v *tensor.Dense, name string) *gorgonia.Node {
						d := v.Clone().(*tensor.Dense)
						if dt == tensor.Float32 {
							d = tensor.New(tensor.WithShape(v.Shape()...), tensor.WithBacking(cast(dt, v.Data().([]float64))))
						}
						return gorgonia.NewTensor(g, dt, d.Dims(), gorgonia.WithShape(d.Shape()...), gorgonia.WithValue(d), gorgonia.WithName(name))
					}
					a, b := node(c.a, "a"), node(c.b, "b")
					y, err := mul(a, b)
					require.NoError(t, err)
					cost := y
					if !y.IsScalar() {
						cost = gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(y))))
					}
					_, err = gorgonia.Grad(cost, a, b)
					require.NoError(t, err)
					vm := gorgonia.NewTapeMachine(g)
					defer vm.Close()
					require.NoError(t, vm.RunAll())
					var grads []gorgonia.Value
					for _, n := range []*gorgonia.Node{a, b} {
						gv, err := n.Grad()
						require.NoError(t, err)
						grads = append(grads, gv)
					}
					return y.Value(), grads
				}
				miner, log := testMiner(t, 1<<10)
				want, wantGrads := run(gorgonia.Mul)
				got, gotGrads := run(func(a, b *gorgonia.Node) (*gorgonia.Node, error) { return Mul(miner, a, b) })
				assert.Equal(t, values(want), values(got), "forward differs from stock")
				for i := range wantGrads {
					assert.Equal(t, values(wantGrads[i]), values(gotGrads[i]), "gradient %d differs from stock", i)
				}
				s := miner.Stats()
				assert.Zero(t, s.Mined)
				assert.Empty(t, log.all())
				assert.Equal(t, c.reasons, s.Unmined)
			})
		}
	}
}

// TestFloatPathLayouts checks the float path on every transpose and storage
// layout (row-major, thunked transpose, column-major, a strided view of a
// larger matrix) against a float64 reference, into a fresh, a preallocated
// and an incremented output, and that the inputs are left as they were.
func TestFloatPathLayouts(t *testing.T) {
	const m, k, n = 12, 20, 9 // k < 32: never mined under the local profile
	rng := rand.New(rand.NewPCG(5, 6))
	miner, _ := testMiner(t, 1<<10)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for li, la := range layouts {
				lb := layouts[(li+1)%len(layouts)]
				t.Run(fmt.Sprintf("%v/transA=%v/transB=%v/%s×%s", dt, tr[0], tr[1], la.name, lb.name), func(t *testing.T) {
					x, w := normals(rng, m*k), normals(rng, k*n)
					var a, b *tensor.Dense
					if tr[0] {
						a = la.build(dt, transposeF(x, m, k), k, m)
					} else {
						a = la.build(dt, x, m, k)
					}
					if tr[1] {
						b = lb.build(dt, transposeF(w, k, n), n, k)
					} else {
						b = lb.build(dt, w, k, n)
					}
					aStrides, bStrides := append([]int(nil), a.Strides()...), append([]int(nil), b.Strides()...)
					ref := make([]float64, m*n)
					for i := range m {
						for j := range n {
							for p := range k {
								xv, wv := x[i*k+p], w[p*n+j]
								if dt == tensor.Float32 {
									xv, wv = float64(float32(xv)), float64(float32(wv))
								}
								ref[i*n+j] += xv * wv
							}
						}
					}
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 1e-5
					}
					o, err := New(miner, MatMul, tr[0], tr[1])
					require.NoError(t, err)
					out, err := o.Do(a, b)
					require.NoError(t, err)
					assert.InDeltaSlice(t, ref, toF64(out.(*tensor.Dense)), tol*float64(k))
					pre := tensor.New(tensor.WithShape(m, n), tensor.Of(dt))
					out2, err := o.UsePreallocDo(pre, a, b)
					require.NoError(t, err)
					assert.Same(t, pre, out2)
					assert.InDeltaSlice(t, ref, toF64(pre), tol*float64(k))
					require.NoError(t, o.IncrDo(pre, a, b))
					for i := range ref {
						ref[i] *= 2
					}
					assert.InDeltaSlice(t, ref, toF64(pre), 2*tol*float64(k))
					assert.Equal(t, aStrides, a.Strides(), "input A left transposed")
					assert.Equal(t, bStrides, b.Strides(), "input B left transposed")
				})
			}
		}
	}
	assert.Zero(t, miner.Stats().Mined)
}

// TestQuantiseAll checks that WithQuantiseAll sends an unminable product
// through int7: its value is the dequantised integer product (not the
// float one), and it is still counted as unmined.
func TestQuantiseAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a := tensor.New(tensor.WithShape(16, 48), tensor.WithBacking(normals(rng, 16*48)))
	x := tensor.New(tensor.WithShape(48), tensor.WithBacking(normals(rng, 48)))
	miner, _ := testMiner(t, 1<<10)
	float, err := New(miner, MatVec, false, false)
	require.NoError(t, err)
	int7, err := New(miner, MatVec, false, false, WithQuantiseAll())
	require.NoError(t, err)
	yf, err := float.Do(a, x)
	require.NoError(t, err)
	yq, err := int7.Do(a, x)
	require.NoError(t, err)

	aq, xq, sa, sx, m, n, k := quantised[float64](t, int7, a, x)
	c := plainProduct(aq, xq, m, n, k)
	want := make([]float64, m)
	for i := range want {
		want[i] = float64(c[i]) * (sa[i] * sx[0])
	}
	assert.Equal(t, want, values(yq), "WithQuantiseAll: not the int7 product")
	assert.NotEqual(t, values(yf), values(yq))
	assert.InDeltaSlice(t, values(yf), values(yq), 0.5)
	s := miner.Stats()
	assert.Equal(t, int64(2), s.Products)
	assert.Equal(t, map[pouw.UnminedReason]int64{{Code: pouw.ErrTile, M: 16, K: 48, N: 1}: 2}, s.Unmined)
}

// pausedJobs is a job source with no job, like a gateway that paused mining.
type pausedJobs struct{}

func (pausedJobs) CurrentJob() (pouw.Job, error) {
	return pouw.Job{}, fmt.Errorf("test gateway: %w", pouw.ErrPaused)
}

// TestPausedRunsStock checks that while the job source has no job, even a
// minable product runs in float, counted as unmined for want of a job.
func TestPausedRunsStock(t *testing.T) {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pausedJobs{}})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := randDense(rng, tensor.Float64, 32, 64), randDense(rng, tensor.Float64, 64, 32)
	o, err := New(miner, MatMul, false, false)
	require.NoError(t, err)
	got, err := o.Do(a, b)
	require.NoError(t, err)
	want, err := tensor.MatMul(a, b)
	require.NoError(t, err)
	assert.Equal(t, want.Data(), got.(*tensor.Dense).Data())
	s := miner.Stats()
	assert.Equal(t, int64(1), s.Paused)
	assert.Equal(t, map[pouw.UnminedReason]int64{{Code: pouw.ErrNoJob, M: 32, K: 64, N: 32}: 1}, s.Unmined)
}

// TestFloatPathNonFinite checks that NaN or Inf reaching a float-path
// product is an error naming the node, as on the int7 path.
func TestFloatPathNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		miner, _ := testMiner(t, 1<<10)
		g := gorgonia.NewGraph()
		av := tensor.New(tensor.WithShape(8, 40), tensor.WithBacking(normals(rand.New(rand.NewPCG(1, 1)), 8*40)))
		av.Data().([]float64)[45] = bad
		a := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(8, 40), gorgonia.WithValue(av), gorgonia.WithName("a"))
		x := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(40), gorgonia.WithInit(gorgonia.Ones()), gorgonia.WithName("x"))
		y, err := Mul(miner, a, x)
		require.NoError(t, err)
		vm := gorgonia.NewTapeMachine(g)
		err = vm.RunAll()
		vm.Close()
		require.Error(t, err)
		assert.Contains(t, err.Error(), y.Name())
		assert.Contains(t, err.Error(), "entry [1][0]")
		var ve valueErr
		assert.False(t, errors.As(err, &ve))
	}
}

// Int7 gives exactly the operands a forward product mines: the roots of
// Int7(A, transA) and Int7(B, !transB) are the roots the miner reports.
func TestInt7IsTheMinedOperand(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		var got []pouw.MinedProduct
		miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(1<<30, 32)),
			OnMined: func(p pouw.MinedProduct) { got = append(got, p) }})
		require.NoError(t, err)
		a := randDense(rng, tensor.Float32, 40, 48)
		b := randDense(rng, tensor.Float32, 48, 36)
		if tr[0] {
			a = randDense(rng, tensor.Float32, 48, 40)
		}
		if tr[1] {
			b = randDense(rng, tensor.Float32, 36, 48)
		}
		o, err := New(miner, MatMul, tr[0], tr[1])
		require.NoError(t, err)
		_, err = o.Do(a, b)
		require.NoError(t, err)
		require.Len(t, got, 1)
		key := pouw.JobKey(got[0].Job.Header, got[0].Config)
		qa, err := Int7(a, tr[0])
		require.NoError(t, err)
		qb, err := Int7(b, !tr[1])
		require.NoError(t, err)
		assert.Equal(t, got[0].RootA, pouw.CommitmentRoot(&key, int8s(qa.Data)), "A, trans %v", tr)
		assert.Equal(t, got[0].RootB, pouw.CommitmentRoot(&key, int8s(qb.Data)), "Bᵀ, trans %v", tr)
	}
	_, err := Int7(tensor.New(tensor.WithShape(2, 2, 2), tensor.Of(tensor.Float32)), false)
	assert.Error(t, err)
	_, err = Int7(tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int)), false)
	assert.Error(t, err)
}

func int8s(d []int8) []byte {
	b := make([]byte, len(d))
	for i, v := range d {
		b[i] = byte(v)
	}
	return b
}

// A broadcast vector (stride 0) is read as its one value repeated, and a
// view that would index outside its data is an error, not a panic.
func TestFloatPathBroadcastAndBadViews(t *testing.T) {
	a := quant.View[float64]{Data: []float64{1, 2, 3, 4, 5, 6}, Rows: 2, Cols: 3, RowStride: 3, ColStride: 1}
	x := quant.View[float64]{Data: []float64{2}, Rows: 1, Cols: 3}
	y := make([]float64, 2)
	floatProduct(MatVec, y, a, x, false)
	assert.Equal(t, []float64{12, 30}, y)
	var d [1]float64
	floatProduct(VecDot, d[:], quant.View[float64]{Data: []float64{1, 2, 3}, Rows: 1, Cols: 3, ColStride: 1}, x, false)
	assert.Equal(t, 12.0, d[0])

	miner, _ := testMiner(t, 1<<10)
	o, err := New(miner, MatVec, false, false)
	require.NoError(t, err)
	short := quant.View[float64]{Data: []float64{1, 2}, Rows: 2, Cols: 3, RowStride: 3, ColStride: 1}
	_, err = runFloat(o, nil, false, tensor.Float64, short, x)
	assert.ErrorContains(t, err, "left operand")
}
