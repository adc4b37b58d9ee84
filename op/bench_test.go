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
// (quantise, dequantise) and the miner, at an MNIST layer's shape and at
// the bench's MNIST-sized rows: op.Do is the whole op outside a graph, and
// op.Do less the three parts is the bridge's own bookkeeping. (The bench's
// op rows add the graph's own run: allocating the output and the VM.)
func BenchmarkBridge(b *testing.B) {
	for _, s := range [][3]int{{256, 784, 256}, {128, 784, 1024}, {256, 1024, 1024}, {784, 256, 1024}} {
		m, k, n := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			if dt == tensor.Float64 && m*k*n != 256*784*256 {
				continue // float64 at the first shape only
			}
			x, w := randDense(rng, dt, m, k), randDense(rng, dt, k, n)
			miner, _ := testMiner(b, 1<<40)
			o, _ := New(miner, MatMul, false, false)
			name := fmt.Sprintf("%dx%dx%d/%v", m, k, n, dt)
			b.Run(name+"/op.Do", func(b *testing.B) {
				for b.Loop() {
					if _, err := o.Do(x, w); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
			// The quantiser alone, at its default implementation (package
			// quant's BenchmarkRows compares the implementations).
			aq, bq := make([]int8, m*k), make([]int8, n*k)
			sa, sb := make([]float64, m), make([]float64, n)
			b.Run(name+"/quantise", func(b *testing.B) {
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
			if dt == tensor.Float32 {
				c := make([]int32, m*n)
				for i := range c {
					c[i] = int32(rng.IntN(1<<20) - 1<<19)
				}
				y := make([]float32, m*n)
				b.Run(name+"/dequantise", func(b *testing.B) {
					for b.Loop() {
						quant.Dequant(y, c, sa, sb, false)
					}
				})
			}
		}
		b.Run(fmt.Sprintf("%dx%dx%d/miner.MatMul", m, k, n), func(b *testing.B) {
			miner, _ := testMiner(b, 1<<40)
			a := pouw.Matrix{Rows: m, Cols: k, Data: make([]int8, m*k)}
			bt := pouw.Matrix{Rows: n, Cols: k, Data: make([]int8, n*k)}
			for i := range a.Data {
				a.Data[i] = int8(rng.IntN(129) - 64)
			}
			for i := range bt.Data {
				bt.Data[i] = int8(rng.IntN(129) - 64)
			}
			dst := make([]int32, m*n)
			for b.Loop() {
				if _, err := miner.MatMulInto(dst, a, bt, pouw.Tag{Role: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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
