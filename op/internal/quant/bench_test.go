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

// BenchmarkLaneNear rounds 64 rows of 16 lanes held in L1 to the nearest
// int8 under each implementation this CPU has and the portable Go kernel:
// the rounding's own rate, without the memory traffic of a real operand.
func BenchmarkLaneNear(b *testing.B) {
	const rows = 64
	src, dst := make([]float32, 16*rows), make([]int8, 16*rows)
	for i := range src {
		src[i] = float32(i%97) - 48
	}
	var inv [16]float64
	for i := range inv {
		inv[i] = 1.3
	}
	defer impl.Reset("quant")
	for _, name := range append(impl.List("quant"), "") {
		impl.Select("quant", name)
		b.Run(kern().name, func(b *testing.B) {
			for b.Loop() {
				laneNear(dst, 16, src, 16, rows, 16, &inv)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(len(src)), "ns/elem")
		})
	}
}

// BenchmarkShortRows quantises a convolution's im2col operand (19600 rows of
// 144: 3×3 windows of 16 channels, a batch of 100 at 14×14) to nearest
// under each implementation this CPU has and the portable Go kernels:
// many short rows, each with its own scale.
func BenchmarkShortRows(b *testing.B) {
	const rows, cols = 19600, 144
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	v := View[float32]{Data: x, Rows: rows, Cols: cols, RowStride: cols, ColStride: 1}
	q, s := make([]int8, len(x)), make([]float64, rows)
	defer impl.Reset("quant")
	for _, name := range append(impl.List("quant"), "") {
		impl.Select("quant", name)
		b.Run(kern().name, func(b *testing.B) {
			for b.Loop() {
				if err := Rows(v, q, s, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(len(x)), "ns/elem")
		})
	}
}
