package op

import (
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

// layouts build a tensor whose logical value is the row-major r×c matrix
// vals, stored in one of the layouts Do must read as it is.
var layouts = []struct {
	name  string
	build func(dt tensor.Dtype, vals []float64, r, c int) *tensor.Dense
}{
	{"row-major", func(dt tensor.Dtype, vals []float64, r, c int) *tensor.Dense {
		return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(cast(dt, vals)))
	}},
	{"thunked-T", func(dt tensor.Dtype, vals []float64, r, c int) *tensor.Dense {
		// Stored c×r holding valsᵀ, then T(): strides (1, r), data untouched.
		t := tensor.New(tensor.WithShape(c, r), tensor.WithBacking(cast(dt, transposeF(vals, r, c))))
		if err := t.T(); err != nil {
			panic(err)
		}
		return t
	}},
	{"col-major", func(dt tensor.Dtype, vals []float64, r, c int) *tensor.Dense {
		return tensor.New(tensor.WithShape(r, c), tensor.AsFortran(cast(dt, vals)))
	}},
	{"view", func(dt tensor.Dtype, vals []float64, r, c int) *tensor.Dense {
		// The middle of a larger matrix: row stride c+3, offset 2·(c+3)+1.
		big := make([]float64, (r+4)*(c+3))
		for i := range big {
			big[i] = math.NaN() // outside the view: must never be read
		}
		for i := 0; i < r; i++ {
			copy(big[(i+2)*(c+3)+1:], vals[i*c:(i+1)*c])
		}
		t := tensor.New(tensor.WithShape(r+4, c+3), tensor.WithBacking(cast(dt, big)))
		v, err := t.Slice(tensor.S(2, r+2), tensor.S(1, c+1))
		if err != nil {
			panic(err)
		}
		return v.(*tensor.Dense)
	}},
}

func cast(dt tensor.Dtype, v []float64) any {
	if dt == tensor.Float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	return append([]float64(nil), v...)
}

func transposeF(v []float64, r, c int) []float64 {
	out := make([]float64, len(v))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = v[i*c+j]
		}
	}
	return out
}

func normals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// plainProduct is the textbook integer product of a (m×k) and Bᵀ (n×k).
func plainProduct(a, bt []int8, m, n, k int) []int32 {
	c := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int32
			for p := 0; p < k; p++ {
				s += int32(a[i*k+p]) * int32(bt[j*k+p])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// quantised runs the op's own quantiser on its operands, as Do does.
func quantised[F float32 | float64](t *testing.T, o MinedMatMul, a, b *tensor.Dense) (aq, bq []int8, sa, sb []float64, m, n, k int) {
	left, bt, err := operands[F](o, a, b)
	require.NoError(t, err)
	m, k, n = left.Rows, left.Cols, bt.Rows
	aq, bq = make([]int8, m*k), make([]int8, n*k)
	sa, sb = make([]float64, m), make([]float64, n)
	require.NoError(t, quant.Rows(left, aq, sa, nil))
	require.NoError(t, quant.Rows(bt, bq, sb, nil))
	return
}

// TestProductExact checks, for every dtype, transpose combination and
// layout, that the int32 product the miner returns is the plain integer
// product of the quantised operands bit for bit, that the op's output is
// exactly its dequantisation, that the output is within the quantisation
// bound of the float product, and that the inputs are left as they were.
func TestProductExact(t *testing.T) {
	const m, k, n = 24, 40, 12 // k ≥ 32: mined under the local profile
	rng := rand.New(rand.NewPCG(3, 4))
	miner, _ := testMiner(t, 1<<13)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for li, la := range layouts {
				lb := layouts[(li+1)%len(layouts)] // every layout on each side
				name := fmt.Sprintf("%v/transA=%v/transB=%v/%s×%s", dt, tr[0], tr[1], la.name, lb.name)
				t.Run(name, func(t *testing.T) {
					x, w := normals(rng, m*k), normals(rng, k*n) // logical op(A), op(B)
					// Stored operands: A = xᵀ when transA, B = wᵀ when transB.
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
					aShape, aStrides, bShape, bStrides := a.Shape().Clone(), append([]int(nil), a.Strides()...), b.Shape().Clone(), append([]int(nil), b.Strides()...)

					o, err := New(miner, MatMul, tr[0], tr[1])
					require.NoError(t, err)
					out, err := o.Do(a, b)
					require.NoError(t, err)
					y := out.(*tensor.Dense)
					require.Equal(t, tensor.Shape{m, n}, y.Shape())
					assert.Equal(t, aShape, a.Shape(), "input A left reshaped or transposed")
					assert.Equal(t, aStrides, a.Strides())
					assert.Equal(t, bShape, b.Shape(), "input B left reshaped or transposed")
					assert.Equal(t, bStrides, b.Strides())

					var aq, bq []int8
					var sa, sb []float64
					if dt == tensor.Float32 {
						aq, bq, sa, sb, _, _, _ = quantised[float32](t, o, a, b)
					} else {
						aq, bq, sa, sb, _, _, _ = quantised[float64](t, o, a, b)
					}
					for _, q := range append(append([]int8(nil), aq...), bq...) {
						require.True(t, q >= -64 && q <= 64)
					}
					want := plainProduct(aq, bq, m, n, k)
					prod, err := miner.MatMul(pouw.Matrix{Rows: m, Cols: k, Data: aq}, pouw.Matrix{Rows: n, Cols: k, Data: bq}, pouw.Tag{Role: "test"})
					require.NoError(t, err)
					require.True(t, prod.Mined, "not mined: %v", prod.Reason)
					require.Equal(t, want, prod.C, "mined int32 product differs from the plain integer product")

					got := toF64(y)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							exact := float64(want[i*n+j]) * (sa[i] * sb[j])
							if dt == tensor.Float32 {
								exact = float64(float32(exact))
							}
							require.Equal(t, exact, got[i*n+j], "output is not the dequantised integer product at (%d,%d)", i, j)
							// Quantisation bound: |Σ x·w − Σ x̂·ŵ| ≤ Σ |x−x̂|·|w| + |x̂|·|w−ŵ|,
							// plus the float rounding of both sides.
							var ref, bound, mag float64
							for p := 0; p < k; p++ {
								xv, wv := x[i*k+p], w[p*n+j]
								if dt == tensor.Float32 {
									xv, wv = float64(float32(xv)), float64(float32(wv))
								}
								xh, wh := sa[i]*float64(aq[i*k+p]), sb[j]*float64(bq[j*k+p])
								ref += xv * wv
								bound += math.Abs(xv-xh)*math.Abs(wv) + math.Abs(xh)*math.Abs(wv-wh)
								mag += math.Abs(xv * wv)
							}
							eps := 1e-12
							if dt == tensor.Float32 {
								eps = 1e-6
							}
							require.LessOrEqual(t, math.Abs(got[i*n+j]-ref), bound+eps*mag, "(%d,%d)", i, j)
						}
					}
				})
			}
		}
	}
}

// TestNonFinite checks that NaN or Inf in an operand is an error from the VM
// run that names the node, with nothing mined.
func TestNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, lisp := range []bool{false, true} {
			miner, log := testMiner(t, 1<<10)
			g := gorgonia.NewGraph()
			xv := tensor.New(tensor.WithShape(8, 32), tensor.WithBacking(normals(rand.New(rand.NewPCG(1, 1)), 8*32)))
			xv.Data().([]float64)[37] = bad
			x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(8, 32), gorgonia.WithValue(xv), gorgonia.WithName("x"))
			w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(32, 8), gorgonia.WithInit(gorgonia.Ones()), gorgonia.WithName("w"))
			y, err := Mul(miner, x, w)
			require.NoError(t, err)
			var vm gorgonia.VM
			if lisp {
				vm = gorgonia.NewLispMachine(g, gorgonia.ExecuteFwdOnly())
			} else {
				vm = gorgonia.NewTapeMachine(g)
			}
			err = vm.RunAll()
			vm.Close()
			require.Error(t, err)
			assert.Contains(t, err.Error(), y.Name())
			assert.Contains(t, err.Error(), "left operand")
			assert.Contains(t, err.Error(), "(1, 5)")
			assert.Zero(t, miner.Stats().Products, "a product was computed from a non-finite operand")
			assert.Empty(t, log.all())
		}
	}
}

// TestBuildErrors checks that bad shapes and dtypes fail when the graph is
// built.
func TestBuildErrors(t *testing.T) {
	miner, _ := testMiner(t, 1<<20)
	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 4), gorgonia.WithName("a"))
	b := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(5, 6), gorgonia.WithName("b"))
	f := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(4, 6), gorgonia.WithName("f"))
	i := gorgonia.NewMatrix(g, tensor.Int, gorgonia.WithShape(4, 6), gorgonia.WithName("i"))
	v := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(5), gorgonia.WithName("v"))
	c3 := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(2, 3, 4), gorgonia.WithName("c3"))
	for name, f := range map[string]func() (*gorgonia.Node, error){
		"inner mismatch":  func() (*gorgonia.Node, error) { return Mul(miner, a, b) },
		"dtype mismatch":  func() (*gorgonia.Node, error) { return Mul(miner, a, f) },
		"int dtype":       func() (*gorgonia.Node, error) { return Mul(miner, i, i) },
		"mat×vec":         func() (*gorgonia.Node, error) { return Mul(miner, a, v) },
		"3-D":             func() (*gorgonia.Node, error) { return Mul(miner, c3, a) },
		"nil miner":       func() (*gorgonia.Node, error) { return Mul(nil, a, a) },
		"MulT mismatch":   func() (*gorgonia.Node, error) { return MulT(miner, a, a, false, false) },
		"batched inner":   func() (*gorgonia.Node, error) { return BatchedMul(miner, c3, b) },
		"batched non-3-D": func() (*gorgonia.Node, error) { return BatchedMul(miner, a, a) },
	} {
		_, err := f()
		assert.Error(t, err, name)
	}
	_, err := MulT(miner, a, a, false, true) // a·aᵀ is fine
	assert.NoError(t, err)
}

// TestHash checks that role, transposes and rounding are part of the op's
// identity, so Gorgonia never merges two products that differ in them.
func TestHash(t *testing.T) {
	miner, _ := testMiner(t, 1<<20)
	base, err := New(miner, MatMul, false, false)
	require.NoError(t, err)
	same, _ := New(miner, MatMul, false, false)
	assert.Equal(t, base.Hashcode(), same.Hashcode())
	others := []MinedMatMul{}
	for _, r := range []Role{GradA, GradB} {
		o, err := NewRole(miner, MatMul, false, false, r, -1)
		require.NoError(t, err)
		others = append(others, o)
	}
	tA, _ := New(miner, MatMul, true, false)
	tB, _ := New(miner, MatMul, false, true)
	seed, _ := New(miner, MatMul, false, false, WithSeed(7))
	gr, _ := NewRole(miner, MatMul, false, false, Forward, 1)
	other, _ := testMiner(t, 1<<20)
	om, _ := New(other, MatMul, false, false)
	all, _ := New(miner, MatMul, false, false, WithQuantiseAll())
	others = append(others, tA, tB, seed, gr, om, all)
	seen := map[uint32]bool{base.Hashcode(): true}
	for _, o := range others {
		assert.False(t, seen[o.Hashcode()], "%v %v collides", o, o.Role())
		seen[o.Hashcode()] = true
	}
	assert.Equal(t, "mined A × Bᵀ", tB.String())
	assert.Equal(t, "mined grad-A A × B", others[0].String())
	assert.Equal(t, "grad-B", GradB.String())
}

// TestDoEmptyOrMismatched checks that Do, UsePreallocDo and IncrDo return
// the op's own error, naming the node and the operands' shapes, and never
// panic, for operands with a zero dimension (an empty tensor's Data panics
// inside gorgonia.org/tensor) or mismatched ones.
func TestDoEmptyOrMismatched(t *testing.T) {
	miner, log := testMiner(t, 1<<10)
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(8, 64), gorgonia.WithName("x"))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 8), gorgonia.WithName("w"))
	v := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(64), gorgonia.WithName("v"))
	mm, err := Mul(miner, x, w)
	require.NoError(t, err)
	mv, err := Mul(miner, x, v)
	require.NoError(t, err)
	vd, err := Mul(miner, v, v)
	require.NoError(t, err)
	mmT, err := MulT(miner, x, x, false, true)
	require.NoError(t, err)

	for _, tc := range []struct {
		name         string
		node         *gorgonia.Node
		a, b         []int // shapes of the operands handed to Do
		want         string
		wantA, wantB string // the shapes as the error prints them
	}{
		{"0 rows", mm, []int{0, 64}, []int{64, 8}, "empty", "(0, 64)", "(64, 8)"},
		{"0 columns", mm, []int{8, 64}, []int{64, 0}, "empty", "(8, 64)", "(64, 0)"},
		{"0 inner", mm, []int{8, 0}, []int{0, 8}, "empty", "(8, 0)", "(0, 8)"},
		{"all 0", mm, []int{0, 0}, []int{0, 0}, "empty", "(0, 0)", "(0, 0)"},
		{"0 rows, transB", mmT, []int{0, 64}, []int{8, 64}, "empty", "(0, 64)", "(8, 64)ᵀ"},
		{"0 inner, transB", mmT, []int{8, 0}, []int{8, 0}, "empty", "(8, 0)", "(8, 0)ᵀ"},
		{"inner mismatch", mm, []int{8, 64}, []int{32, 8}, "inner dimensions differ", "(8, 64)", "(32, 8)"},
		{"inner mismatch, one empty", mm, []int{0, 64}, []int{32, 8}, "inner dimensions differ", "(0, 64)", "(32, 8)"},
		{"matvec 0 rows", mv, []int{0, 64}, []int{64}, "empty", "(0, 64)", "(64)"},
		{"matvec 0 inner", mv, []int{8, 0}, []int{0}, "empty", "(8, 0)", "(0)"},
		{"matvec mismatch", mv, []int{8, 64}, []int{63}, "inner dimensions differ", "(8, 64)", "(63)"},
		{"vecdot empty", vd, []int{0}, []int{0}, "empty", "(0)", "(0)"},
		{"vecdot mismatch", vd, []int{64}, []int{0}, "inner dimensions differ", "(64)", "(0)"},
		{"matmul rank", mm, []int{64}, []int{64, 8}, "must have 2 dimensions", "(64)", ""},
	} {
		o := tc.node.Op().(MinedMatMul)
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, dt), func(t *testing.T) {
				a := tensor.New(tensor.WithShape(tc.a...), tensor.Of(dt))
				b := tensor.New(tensor.WithShape(tc.b...), tensor.Of(dt))
				check := func(what string, err error) {
					t.Helper()
					require.Error(t, err, what)
					msg := err.Error()
					assert.Contains(t, msg, `node "`+tc.node.Name()+`"`, what)
					assert.Contains(t, msg, tc.want, what)
					assert.Contains(t, msg, tc.wantA, what)
					assert.Contains(t, msg, tc.wantB, what)
				}
				require.NotPanics(t, func() {
					_, err := o.Do(a, b)
					check("Do", err)
					_, err = o.UsePreallocDo(tensor.New(tensor.WithShape(8, 8), tensor.Of(dt)), a, b)
					check("UsePreallocDo", err)
					check("IncrDo", o.IncrDo(tensor.New(tensor.WithShape(8, 8), tensor.Of(dt)), a, b))
				})
			})
		}
	}
	assert.Zero(t, miner.Stats().Products, "a product was computed from empty or mismatched operands")
	assert.Empty(t, log.all())
}
