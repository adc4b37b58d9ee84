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

	"github.com/usefulwork/minedmatmul/pouw"
)

type mulFunc func(a, b *gorgonia.Node) (*gorgonia.Node, error)

// mlp is a two-layer classifier x·W1 → tanh → ·W2 → log-softmax cross-entropy.
type mlp struct {
	g               *gorgonia.ExprGraph
	x, w1, w2       *gorgonia.Node
	h, logits, cost *gorgonia.Node
}

type mlpData struct {
	x, y, w1, w2 *tensor.Dense
}

func newMLPData(seed uint64, dt tensor.Dtype, batch, in, hidden, classes int) mlpData {
	rng := rand.New(rand.NewPCG(seed, 99))
	d := mlpData{
		x:  randDense(rng, dt, batch, in),
		w1: randDense(rng, dt, in, hidden),
		w2: randDense(rng, dt, hidden, classes),
		y:  tensor.New(tensor.WithShape(batch, classes), tensor.Of(dt)),
	}
	// Scale the weights as an initialiser would (variance 1/fan-in).
	scale := func(t *tensor.Dense, s float64) {
		if dt == tensor.Float32 {
			for i, v := range t.Data().([]float32) {
				t.Data().([]float32)[i] = v * float32(s)
			}
			return
		}
		for i, v := range t.Data().([]float64) {
			t.Data().([]float64)[i] = v * s
		}
	}
	scale(d.w1, 1/math.Sqrt(float64(in)))
	scale(d.w2, 1/math.Sqrt(float64(hidden)))
	for i := 0; i < batch; i++ {
		if err := d.y.SetAt(oneOf(dt), i, rng.IntN(classes)); err != nil {
			panic(err)
		}
	}
	return d
}

func oneOf(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return float64(1)
}

func buildMLP(t testing.TB, d mlpData, mul mulFunc) *mlp {
	t.Helper()
	g := gorgonia.NewGraph()
	dt := d.x.Dtype()
	m := &mlp{g: g}
	m.x = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(d.x.Shape()...), gorgonia.WithValue(d.x.Clone()), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(d.y.Shape()...), gorgonia.WithValue(d.y.Clone()), gorgonia.WithName("y"))
	m.w1 = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(d.w1.Shape()...), gorgonia.WithValue(d.w1.Clone()), gorgonia.WithName("w1"))
	m.w2 = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(d.w2.Shape()...), gorgonia.WithValue(d.w2.Clone()), gorgonia.WithName("w2"))
	var err error
	a1, err := mul(m.x, m.w1)
	require.NoError(t, err)
	m.h = gorgonia.Must(gorgonia.Tanh(a1))
	m.logits, err = mul(m.h, m.w2)
	require.NoError(t, err)
	lsm := gorgonia.Must(gorgonia.LogSoftMax(m.logits))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.HadamardProd(lsm, y))))))
	return m
}

// grads runs the MLP forward and backward and returns dW1, dW2, dX and the
// logits, as float64.
func (m *mlp) run(t testing.TB, lisp bool) (dw1, dw2, dx, logits []float64) {
	t.Helper()
	var vm gorgonia.VM
	if lisp {
		vm = gorgonia.NewLispMachine(m.g)
	} else {
		_, err := gorgonia.Grad(m.cost, m.w1, m.w2, m.x)
		require.NoError(t, err)
		vm = gorgonia.NewTapeMachine(m.g)
	}
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	get := func(n *gorgonia.Node) []float64 {
		v, err := n.Grad()
		require.NoError(t, err)
		return toF64(v.(tensor.Tensor))
	}
	return get(m.w1), get(m.w2), get(m.x), toF64(m.logits.Value().(tensor.Tensor))
}

// relErr is ‖a−b‖/‖b‖ (Frobenius).
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// Gradient tolerance. Rounding x to int7 with a row scale s = max|row|/64
// leaves an error of variance v·s² (v = 1/12 to nearest, ≤ 1/6 on average
// stochastically), so one product Y = A·B of operands with uncorrelated
// entries gets a relative Frobenius error
//
//	ρ² ≈ v·(κ_A² + κ_B²)/64²,  κ = max|row| / rms(row)
//
// and errors of independent products add in quadrature along a gradient's
// chain (tanh' and softmax' are ≤ 1 and do not amplify them). With κ ≤ 4
// (Gaussian rows of length ≥ 32 have κ ≈ 2.5; a softmax gradient row of 10
// classes at most √10) one product costs ρ ≤ 2.6 % (nearest) or 3.6 %
// (stochastic). dW1 and dX sit behind both forward products and two backward
// ones, dW2 behind both forward products and one backward: the tolerances
// below are those sums, 6.2 % and 5.1 %. Measured (this test, seeds 1–3):
// about 2.5 % on the logits, 2.8 % (nearest) / 3.3 % (stochastic) on dW1,
// 2.5 / 2.8 % on dW2, 2.9 / 3.5 % on dX.
func gradTolerance(forward, backward int) float64 {
	const k2 = 2 * 4 * 4 // κ_A² + κ_B² with κ = 4
	return math.Sqrt(float64(forward)*k2/12+float64(backward)*k2/6) / 64
}

// TestMLPGradients compares an MLP built with Mul against the same MLP
// built with gorgonia.Mul, on both VMs, both dtypes and both gradient
// roundings.
func TestMLPGradients(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, r := range []Rounding{Nearest, Stochastic} {
			for _, lisp := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%v/lisp=%v", dt, r, lisp), func(t *testing.T) {
					d := newMLPData(uint64(len(dt.String())), dt, 64, 128, 64, 10)
					ref := buildMLP(t, d, gorgonia.Mul)
					rw1, rw2, rx, rl := ref.run(t, lisp)
					miner, _ := testMiner(t, 1<<20)
					mined := buildMLP(t, d, func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
						return Mul(miner, a, b, WithGradRounding(r))
					})
					mw1, mw2, mx, ml := mined.run(t, lisp)
					assert.Less(t, relErr(ml, rl), gradTolerance(2, 0), "logits")
					assert.Less(t, relErr(mw1, rw1), gradTolerance(2, 2), "dW1")
					assert.Less(t, relErr(mw2, rw2), gradTolerance(2, 1), "dW2")
					assert.Less(t, relErr(mx, rx), gradTolerance(2, 2), "dX")
					t.Logf("relative errors: logits %.4f dW1 %.4f dW2 %.4f dX %.4f", relErr(ml, rl), relErr(mw1, rw1), relErr(mw2, rw2), relErr(mx, rx))
					// Every product went through the miner: 2 forward, 2 grad-B,
					// and the grad-A of layer 2 (that of layer 1 is dX, also asked for).
					s := miner.Stats()
					assert.Equal(t, int64(2), s.ByRole["forward"].Products)
					assert.Equal(t, int64(2), s.ByRole["grad-A"].Products)
					assert.Equal(t, int64(2), s.ByRole["grad-B"].Products)
				})
			}
		}
	}
}

// TestDeterministic checks that two runs with the same seed produce the same
// bits, stochastic rounding included, and that another seed does not.
func TestDeterministic(t *testing.T) {
	d := newMLPData(5, tensor.Float32, 32, 64, 32, 10)
	run := func(seed uint64) []float64 {
		miner, _ := testMiner(t, 1<<20)
		m := buildMLP(t, d, func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
			return Mul(miner, a, b, WithSeed(seed))
		})
		dw1, _, _, _ := m.run(t, false)
		return dw1
	}
	a, b, c := run(1), run(1), run(2)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}

func roles(m *pouw.Miner) string {
	s := m.Stats()
	out := ""
	for _, r := range []string{"forward", "grad-A", "grad-B"} {
		out += fmt.Sprintf("%s=%d/%d ", r, s.ByRole[r].Mined, s.ByRole[r].Products)
	}
	return out
}
