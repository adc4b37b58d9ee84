package train_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/train"
)

// ExampleNewAdam fits w in y = x·w by least squares: NewAdam takes the
// place of gorgonia.NewAdamSolver(WithLearnRate(0.1), WithBatchSize(4)) and
// leaves the same weights.
func ExampleNewAdam() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{1, 2, 3, 4}))))
	y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithName("y"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{3, 6, 9, 12}))))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 1), tensor.WithBacking([]float64{0}))))
	diff := gorgonia.Must(gorgonia.Sub(gorgonia.Must(gorgonia.Mul(x, w)), y))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(diff))))
	if _, err := gorgonia.Grad(cost, w); err != nil {
		fmt.Println(err)
		return
	}
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w))
	defer vm.Close()

	adam := train.NewAdam(0.1, 4)
	for step := 1; step <= 300; step++ {
		if err := vm.RunAll(); err != nil {
			fmt.Println(err)
			return
		}
		if err := adam.Step(gorgonia.NodesToValueGrads(gorgonia.Nodes{w})); err != nil {
			fmt.Println(err)
			return
		}
		vm.Reset()
	}
	fmt.Printf("w = %.3f\n", w.Value().Data().([]float64)[0])
	// Output: w = 3.000
}
