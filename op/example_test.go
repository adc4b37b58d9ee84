package op_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Mul replaces gorgonia.Mul in a model; the forward product and both
// gradient products of training go through the miner.
func ExampleMul() {
	miner, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(pouw.Local.Nbits(1<<20, 32)),
		Profile: pouw.Local,
	})
	if err != nil {
		panic(err)
	}

	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(32, 64), gorgonia.WithName("x"),
		gorgonia.WithInit(gorgonia.RangedFrom(0)))
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(64, 32), gorgonia.WithName("w"),
		gorgonia.WithInit(gorgonia.Ones()))
	y, err := op.Mul(miner, x, w) // was: gorgonia.Mul(x, w)
	if err != nil {
		panic(err)
	}
	cost := gorgonia.Must(gorgonia.Mean(y))
	if _, err := gorgonia.Grad(cost, w); err != nil {
		panic(err)
	}

	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println("y:", y.Shape())
	for _, role := range []string{"forward", "grad-B"} {
		fmt.Printf("%s: %d product(s), %d mined\n", role, miner.Stats().ByRole[role].Products, miner.Stats().ByRole[role].Mined)
	}
	// Output:
	// y: (32, 32)
	// forward: 1 product(s), 1 mined
	// grad-B: 1 product(s), 1 mined
}
