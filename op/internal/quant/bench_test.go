package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

// BenchmarkRows quantises both operands of an MNIST-sized layer (X 256×784
// row-major, and Wᵀ read from a row-major 784×256 W: columns contiguous)
// with the reference loops and with the fast quantiser under each
// implementation this CPU has and the portable Go kernels.
func BenchmarkRows(b *testing.B) {
	b.Run("float32", benchRows[float32])
	b.Run("float64", benchRows[float64])
}

func benchRows[F float32 | float64](b *testing.B) {
	const m, k, n = 256, 784, 256
	rng := rand.New(rand.NewPCG(1, 1))
	x, w := make([]F, m*k), make([]F, k*n)
	for i := range x {
		x[i] = F(rng.NormFloat64())
	}
	for i := range w {
		w[i] = F(rng.NormFloat64())
	}
	left := View[F]{Data: x, Rows: m, Cols: k, RowStride: k, ColStride: 1}
	bt := View[F]{Data: w, Rows: n, Cols: k, RowStride: 1, ColStride: n}
	aq, bq := make([]int8, m*k), make([]int8, n*k)
	sa, sb := make([]float64, m), make([]float64, n)
	run := func(b *testing.B) {
		for b.Loop() {
			if err := Rows(left, aq, sa, nil); err != nil {
				b.Fatal(err)
			}
			if err := Rows(bt, bq, sb, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(m*k+k*n), "ns/elem")
	}
	defer impl.Reset("quant")
	b.Run("ref", func(b *testing.B) {
		quantUse = implRef
		defer func() { quantUse = implFast }()
		run(b)
	})
	for _, name := range append(impl.List("quant"), "") {
		impl.Select("quant", name)
		b.Run(fmt.Sprintf("fast-%s", kern().name), run)
	}
}
