package graph

import (
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// matVecModel is a two-layer network evaluated one example at a time, as
// many Gorgonia programs are written: every product is matrix × vector, so
// nothing can be mined, and a converted model must cost what the stock one
// does.
type matVecModel struct {
	g      *gorgonia.ExprGraph
	x      *gorgonia.Node
	params gorgonia.Nodes
	vm     gorgonia.VM
	solver gorgonia.Solver
}

func newMatVecModel(b *testing.B, miner *pouw.Miner) *matVecModel {
	const in, hidden = 784, 256
	rng := rand.New(rand.NewPCG(1, 2))
	g := gorgonia.NewGraph()
	vals := func(n int, scale float64) *tensor.Dense {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(rng.NormFloat64() * scale)
		}
		return tensor.New(tensor.WithShape(n), tensor.WithBacking(d))
	}
	w1v := vals(hidden*in, 0.05)
	w1v.Reshape(hidden, in)
	w1 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(hidden, in), gorgonia.WithValue(w1v), gorgonia.WithName("w1"))
	w2 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(hidden), gorgonia.WithValue(vals(hidden, 0.06)), gorgonia.WithName("w2"))
	x := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(in), gorgonia.WithValue(vals(in, 1)), gorgonia.WithName("x"))
	h := gorgonia.Must(gorgonia.Tanh(gorgonia.Must(gorgonia.Mul(w1, x))))
	y := gorgonia.Must(gorgonia.Mul(h, w2))
	cost := gorgonia.Must(gorgonia.Square(y))
	if _, err := gorgonia.Grad(cost, w1, w2); err != nil {
		b.Fatal(err)
	}
	if miner != nil {
		if _, err := Swap(g, miner); err != nil {
			b.Fatal(err)
		}
	}
	m := &matVecModel{g: g, x: x, params: gorgonia.Nodes{w1, w2}}
	m.vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w1, w2))
	m.solver = gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(1e-4))
	return m
}

func (m *matVecModel) step(b *testing.B) {
	if err := m.vm.RunAll(); err != nil {
		b.Fatal(err)
	}
	if err := m.solver.Step(gorgonia.NodesToValueGrads(m.params)); err != nil {
		b.Fatal(err)
	}
	m.vm.Reset()
}

// BenchmarkMatVecTraining trains the stock and the converted matrix ×
// vector model in alternating rounds and reports the converted model's
// time per step as a ratio of the stock one's ("swapped/stock"): the cost
// of converting a model whose products cannot be mined.
func BenchmarkMatVecTraining(b *testing.B) {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(1<<24, 32))})
	if err != nil {
		b.Fatal(err)
	}
	stock, swapped := newMatVecModel(b, nil), newMatVecModel(b, miner)
	defer stock.vm.Close()
	defer swapped.vm.Close()
	var tStock, tSwapped time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate the order, so neither model always runs on a warm cache.
		first, second, t1, t2 := stock, swapped, &tStock, &tSwapped
		if i%2 == 1 {
			first, second, t1, t2 = swapped, stock, &tSwapped, &tStock
		}
		start := time.Now()
		first.step(b)
		mid := time.Now()
		second.step(b)
		*t1 += mid.Sub(start)
		*t2 += time.Since(mid)
	}
	b.ReportMetric(float64(tSwapped)/float64(tStock), "swapped/stock")
	if s := miner.Stats(); s.Mined != 0 || s.Products == 0 {
		b.Fatalf("mined %d of %d products; want 0 of some", s.Mined, s.Products)
	}
}
