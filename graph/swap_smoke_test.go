package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

func TestSwapSmoke(t *testing.T) {
	m, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.NbitsForExpectedMACs(1 << 14))})
	require.NoError(t, err)
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(16, 64), gorgonia.WithInit(gorgonia.GlorotN(1)), gorgonia.WithName("x"))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 32), gorgonia.WithInit(gorgonia.GlorotN(1)), gorgonia.WithName("w"))
	y := gorgonia.Must(gorgonia.Mul(x, w))
	c := gorgonia.Must(gorgonia.Sum(y))
	_, err = gorgonia.Grad(c, x, w)
	require.NoError(t, err)
	n, err := Swap(g, m)
	require.NoError(t, err)
	t.Log(n)
	vm := gorgonia.NewTapeMachine(g)
	require.NoError(t, vm.RunAll())
	t.Logf("%+v", m.Stats().ByRole)
}
