package main

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

func operands(s Shape) (a, bt pouw.Matrix) {
	rng := rand.New(rand.NewPCG(uint64(s.M), uint64(s.N)))
	a = pouw.Matrix{Rows: s.M, Cols: s.K, Data: make([]int8, s.M*s.K)}
	bt = pouw.Matrix{Rows: s.N, Cols: s.K, Data: make([]int8, s.N*s.K)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	for i := range bt.Data {
		bt.Data[i] = int8(rng.IntN(129) - 64)
	}
	return a, bt
}

func floats(s Shape) (xs, ws []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs, ws = make([]float32, s.M*s.K), make([]float32, s.K*s.N)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	for i := range ws {
		ws[i] = float32(rng.NormFloat64())
	}
	return xs, ws
}

func gmacMetric(b *testing.B, s Shape) {
	b.ReportMetric(s.MACs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

// BenchmarkUnmined is the exact int product with mining off (pouw.Multiply,
// the Miner's mining-off path).
func BenchmarkUnmined(b *testing.B) {
	for _, s := range DefaultShapes {
		b.Run(s.String(), func(b *testing.B) {
			a, bt := operands(s)
			for b.Loop() {
				if _, err := pouw.Multiply(nil, a, bt); err != nil {
					b.Fatal(err)
				}
			}
			gmacMetric(b, s)
		})
	}
}

// BenchmarkMined is the whole mined product: commitments, noise, GEMM with
// transcript, tickets and denoising.
func BenchmarkMined(b *testing.B) {
	for _, s := range DefaultShapes {
		b.Run(s.String(), func(b *testing.B) {
			a, bt := operands(s)
			cfg, err := pouw.DefaultPolicy{}.Choose(pouw.Local, s.M, s.K, s.N)
			if err != nil {
				b.Fatal(err)
			}
			job := pouw.DevJob(hardNbits).J
			for b.Loop() {
				if _, err := pouw.MineProduct(job, pouw.Local, cfg, a, bt); err != nil {
					b.Fatal(err)
				}
			}
			gmacMetric(b, s)
		})
	}
}

// BenchmarkStock is gorgonia.Mul on float32 in a TapeMachine.
func BenchmarkStock(b *testing.B) {
	benchGraph(b, DefaultShapes[:4], gorgonia.Mul)
}

// BenchmarkOp is the mined float path: op.Mul in the same kind of graph.
func BenchmarkOp(b *testing.B) {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(hardNbits), Profile: pouw.Local})
	if err != nil {
		b.Fatal(err)
	}
	benchGraph(b, DefaultShapes, func(x, w *gorgonia.Node) (*gorgonia.Node, error) { return op.Mul(miner, x, w) })
}

// benchGraph runs one product, built by mul, in a TapeMachine per shape.
func benchGraph(b *testing.B, shapes []Shape, mul func(x, w *gorgonia.Node) (*gorgonia.Node, error)) {
	for _, s := range shapes {
		b.Run(s.String(), func(b *testing.B) {
			xs, ws := floats(s)
			run, err := newGraphRun(s, xs, ws, mul)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
			gmacMetric(b, s)
		})
	}
}

func TestShapeString(t *testing.T) {
	if got := fmt.Sprint(Shape{1, 2, 3}); got != "1×2×3" {
		t.Fatal(got)
	}
}
