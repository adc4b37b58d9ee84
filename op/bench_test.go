package op

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

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
		for _, impl := range quantImpls() {
			b.Run(fmt.Sprintf("%v/quantise/%s", dt, impl.name), func(b *testing.B) {
				defer impl.use()()
				aq, bq := make([]int8, m*k), make([]int8, n*k)
				sa, sb := make([]float64, m), make([]float64, n)
				for b.Loop() {
					var err error
					if dt == tensor.Float32 {
						l, r, _ := operands[float32](o, x, w)
						err = quantRows(l, aq, sa, nil)
						if err == nil {
							err = quantRows(r, bq, sb, nil)
						}
					} else {
						l, r, _ := operands[float64](o, x, w)
						err = quantRows(l, aq, sa, nil)
						if err == nil {
							err = quantRows(r, bq, sb, nil)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(m*k+k*n), "ns/elem")
			})
		}
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

// benchImpl is one quantiser a benchmark can force.
type benchImpl struct {
	name string
	use  func() (restore func())
}

// quantImpls lists the reference quantiser and the fast one with each
// kernel this machine runs.
func quantImpls() []benchImpl {
	set := func(u quantImpl, k laneKernels) func() func() {
		return func() func() {
			oldU, oldK := quantUse, kern
			quantUse, kern = u, k
			return func() { quantUse, kern = oldU, oldK }
		}
	}
	impls := []benchImpl{{"ref", set(implRef, kern)}}
	for _, k := range allKernels() {
		impls = append(impls, benchImpl{k.name, set(implFast, k)})
	}
	return impls
}
