package op

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op/internal/quant"
	"github.com/usefulwork/minedmatmul/pouw"
)

// BenchmarkBridge splits one mined product's time between the bridge
// (quantise, dequantise) and the miner, for an MNIST-sized layer.
func BenchmarkBridge(b *testing.B) {
	const m, k, n = 256, 784, 256
	rng := rand.New(rand.NewPCG(1, 1))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		x, w := randDense(rng, dt, m, k), randDense(rng, dt, k, n)
		miner, _ := testMiner(b, 1<<40)
		o, _ := New(miner, MatMul, false, false)
		b.Run(fmt.Sprintf("%v/op.Do", dt), func(b *testing.B) {
			for b.Loop() {
				if _, err := o.Do(x, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
		// The quantiser alone, at its default implementation (package
		// quant's BenchmarkRows compares the implementations).
		b.Run(fmt.Sprintf("%v/quantise", dt), func(b *testing.B) {
			aq, bq := make([]int8, m*k), make([]int8, n*k)
			sa, sb := make([]float64, m), make([]float64, n)
			for b.Loop() {
				var err error
				if dt == tensor.Float32 {
					err = quantiseBoth[float32](o, x, w, aq, bq, sa, sb)
				} else {
					err = quantiseBoth[float64](o, x, w, aq, bq, sa, sb)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(m*k+k*n), "ns/elem")
		})
	}
	b.Run("miner.MatMul", func(b *testing.B) {
		miner, _ := testMiner(b, 1<<40)
		a := pouw.Matrix{Rows: m, Cols: k, Data: make([]int8, m*k)}
		bt := pouw.Matrix{Rows: n, Cols: k, Data: make([]int8, n*k)}
		for i := range a.Data {
			a.Data[i] = int8(rng.IntN(129) - 64)
		}
		for i := range bt.Data {
			bt.Data[i] = int8(rng.IntN(129) - 64)
		}
		for b.Loop() {
			if _, err := miner.MatMul(a, bt, pouw.Tag{Role: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// quantiseBoth quantises both operands of o's product of a and b, as Do does.
func quantiseBoth[F float32 | float64](o MinedMatMul, a, b *tensor.Dense, aq, bq []int8, sa, sb []float64) error {
	l, r, err := operands[F](o, a, b)
	if err != nil {
		return err
	}
	if err := quant.Rows(l, aq, sa, nil); err != nil {
		return err
	}
	return quant.Rows(r, bq, sb, nil)
}
