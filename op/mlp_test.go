package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

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

func TestMeasureMLP(t *testing.T) {
	for _, r := range []Rounding{Nearest, Stochastic} {
		for _, lisp := range []bool{false, true} {
			for seed := uint64(1); seed <= 3; seed++ {
				d := newMLPData(seed, tensor.Float64, 64, 128, 64, 10)
				ref := buildMLP(t, d, gorgonia.Mul)
				rw1, rw2, rx, rl := ref.run(t, lisp)
				miner, _ := testMiner(t, 1<<20)
				mined := buildMLP(t, d, func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
					return Mul(miner, a, b, WithGradRounding(r), WithSeed(seed))
				})
				mw1, mw2, mx, ml := mined.run(t, lisp)
				fmt.Printf("%v lisp=%v seed=%d logits %.4f dW1 %.4f dW2 %.4f dX %.4f  %v\n", r, lisp, seed,
					relErr(ml, rl), relErr(mw1, rw1), relErr(mw2, rw2), relErr(mx, rx), roles(miner))
			}
		}
	}
}

func roles(m *pouw.Miner) string {
	s := m.Stats()
	out := ""
	for _, r := range []string{"forward", "grad-A", "grad-B"} {
		out += fmt.Sprintf("%s=%d/%d ", r, s.ByRole[r].Mined, s.ByRole[r].Products)
	}
	return out
}
