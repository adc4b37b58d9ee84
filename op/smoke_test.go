package op

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestSmoke(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	miner, log := testMiner(t, 1<<14)
	g := gorgonia.NewGraph()
	xv := randDense(rng, tensor.Float64, 16, 64)
	wv := randDense(rng, tensor.Float64, 64, 8)
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(16, 64), gorgonia.WithValue(xv), gorgonia.WithName("x"))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 8), gorgonia.WithValue(wv), gorgonia.WithName("w"))
	y, err := Mul(miner, x, w)
	require.NoError(t, err)
	y2, err := gorgonia.Mul(x, w)
	require.NoError(t, err)
	cost := gorgonia.Must(gorgonia.Sum(y))
	_, err = gorgonia.Grad(cost, w, x)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	t.Log(y.Value().(tensor.Tensor).Shape(), y2.Value().(tensor.Tensor).Shape())
	a, b := toF64(y.Value().(tensor.Tensor)), toF64(y2.Value().(tensor.Tensor))
	t.Log(a[:4], b[:4])
	gw, _ := w.Grad()
	t.Log(toF64(gw.(tensor.Tensor))[:4])
	t.Logf("%+v", miner.Stats().ByRole)
	t.Log(len(log.all()))
}
