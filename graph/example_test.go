package graph_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/graph"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Swap converts a model written with stock Gorgonia, gradients included,
// just before its VM is compiled.
func ExampleSwap() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(32, 64), gorgonia.WithName("x"),
		gorgonia.WithInit(gorgonia.RangedFrom(0)))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(64, 32), gorgonia.WithName("w"),
		gorgonia.WithInit(gorgonia.Ones()))
	y := gorgonia.Must(gorgonia.Mul(x, w)) // an existing model, unchanged
	cost := gorgonia.Must(gorgonia.Mean(y))
	if _, err := gorgonia.Grad(cost, x, w); err != nil {
		panic(err)
	}

	miner, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(pouw.Local.Nbits(1<<20, 32)),
		Profile: pouw.Local,
	})
	if err != nil {
		panic(err)
	}
	census, err := graph.Swap(g, miner)
	if err != nil {
		panic(err)
	}
	fmt.Println(census)

	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	s := miner.Stats()
	for _, role := range []string{"forward", "grad-A", "grad-B"} {
		fmt.Printf("%s: %d product(s), %d mined\n", role, s.ByRole[role].Products, s.ByRole[role].Mined)
	}
	// Output:
	// converted 3 products (1 forward, 1 grad-A, 1 grad-B)
	// forward: 1 product(s), 1 mined
	// grad-A: 1 product(s), 1 mined
	// grad-B: 1 product(s), 1 mined
}
