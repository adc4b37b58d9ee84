package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func BenchmarkMul(b *testing.B) {
	for _, sz := range []int{1024, 2048} {
		m, n, k := sz, sz, sz
		r := rand.New(rand.NewPCG(1, 2))
		a := randInt8(r, m*k, false)
		bt := randInt8(r, n*k, false)
		dst := make([]int32, m*n)
		{
			for _, mode := range []string{"plain", "transcript", "transcript+correction"} {
				b.Run(fmt.Sprintf("%s/%d/%s", Name(), sz, mode), func(b *testing.B) {
					var g *Grid
					var jp []Jackpot
					var c *Correction
					if mode != "plain" {
						g = &Grid{H: 16, W: 16, R: 32, RowTiles: m / 16, ColTiles: n / 16}
						jp = make([]Jackpot, g.RowTiles*g.ColTiles)
					}
					if mode == "transcript+correction" {
						c = &Correction{Q: 64, L: make([]int16, m*64), R: make([]int16, n*64)}
					}
					for b.Loop() {
						Mul(dst, a, bt, m, n, k, g, jp, c)
					}
					b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				})
			}
		}
	}
}

// BenchmarkMulShapes times the shapes of training (an MNIST layer and its
// weight gradient) and the thin n = r products of denoising, where packing
// the operands weighs most against the multiply-accumulates.
func BenchmarkMulShapes(b *testing.B) {
	for _, s := range [][3]int{{128, 784, 1024}, {1024, 784, 128}, {784, 128, 512}, {128, 784, 32}, {1024, 1024, 32}} {
		m, k, n := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 2))
		a, bt := randInt8(r, m*k, false), randInt8(r, n*k, false)
		dst := make([]int32, m*n)
		b.Run(fmt.Sprintf("%s/%dx%dx%d", Name(), m, k, n), func(b *testing.B) {
			for b.Loop() {
				Mul(dst, a, bt, m, n, k, nil, nil, nil)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// BenchmarkSparseMul times the denoising operands' products with a sparse
// ±1 factor (two additions an entry) beside the same product with the
// factor written out densely through Mul (k·r MACs a row). 16×78400 is a
// convolution's weight gradient: 16 channels over 100 images of 28×28.
func BenchmarkSparseMul(b *testing.B) {
	for _, s := range [][3]int{{1024, 784, 32}, {128, 784, 32}, {2048, 2048, 128}, {16, 78400, 32}, {19600, 144, 32}} {
		m, k, r := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 2))
		a := randInt8(rng, m*k, false)
		idx := make([]uint16, 2*k)
		dense := make([]int8, r*k)
		for l := 0; l < k; l++ {
			f := rng.IntN(r)
			g := (f + 1 + rng.IntN(r-1)) % r
			idx[2*l], idx[2*l+1] = uint16(f), uint16(g)
			dense[f*k+l], dense[g*k+l] = 1, -1
		}
		dst := make([]int32, m*r)
		b.Run(fmt.Sprintf("sparse/%dx%dx%d", m, k, r), func(b *testing.B) {
			for b.Loop() {
				SparseMul(dst, a, m, k, idx, r)
			}
		})
		b.Run(fmt.Sprintf("dense/%dx%dx%d", m, k, r), func(b *testing.B) {
			for b.Loop() {
				Mul(dst, a, dense, m, r, k, nil, nil, nil)
			}
		})
	}
}
