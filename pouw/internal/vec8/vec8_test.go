package vec8

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

func TestAddPairs(t *testing.T) { impltest.Run(t, testAddPairs, "vec8") }

func testAddPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, rank := range []int{20, 32, 48, 64, 100, 128, 256} {
		for _, n := range []int{0, 1, 63, 64, 65, 200, 1024, 1031} {
			f := make([]int8, rank)
			for i := range f {
				f[i] = int8(r.IntN(64) - 32)
			}
			src := make([]int8, n)
			first, second := make([]uint8, n), make([]uint8, n)
			for l := range src {
				src[l] = int8(r.IntN(129) - 64)
				first[l], second[l] = uint8(r.IntN(rank)), uint8(r.IntN(rank))
			}
			dst := make([]int8, n)
			AddPairs(dst, src, f, first, second)
			for l := range dst {
				if want := src[l] + f[first[l]] - f[second[l]]; dst[l] != want {
					t.Fatalf("rank %d n %d: dst[%d] = %d, want %d", rank, n, l, dst[l], want)
				}
			}
			// In place, the partial last block must not be applied twice.
			inPlace := append([]int8(nil), src...)
			AddPairs(inPlace, inPlace, f, first, second)
			for l := range dst {
				if inPlace[l] != dst[l] {
					t.Fatalf("rank %d n %d in place: dst[%d] = %d, want %d", rank, n, l, inPlace[l], dst[l])
				}
			}
		}
	}
}

func TestFirstOutside(t *testing.T) { impltest.Run(t, testFirstOutside, "vec8") }

func testFirstOutside(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 640, 1000, 4096} {
		// Every block of a step of four (32-byte blocks), and a second
		// entry outside the range later on: the first must be named.
		for _, at := range []int{-1, 0, 40, 70, 100, n / 2, n - 1} {
			if at >= n {
				continue
			}
			for _, bad := range []int8{65, -65, 127, -128} {
				x := make([]int8, n)
				for i := range x {
					x[i] = int8(i%129 - 64)
				}
				want := -1
				if at >= 0 && n > 0 {
					x[at], want = bad, at
					if at > 0 {
						x[at-1] = 64 // an extreme inside value just before
					}
					if at+200 < n {
						x[at+200] = 100 // a later one, in a later step
					}
				}
				if got := FirstOutside(x, -64, 64); got != want {
					t.Fatalf("n %d bad %d at %d: got %d", n, bad, at, got)
				}
			}
		}
	}
}

func TestAddPairsRows(t *testing.T) { impltest.Run(t, testAddPairsRows, "vec8") }

// testAddPairsRows checks AddPairsRows against the formula row by row, on
// rows with and without a partial last block, with guard bytes after the
// rows that must stay untouched.
func testAddPairsRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, rank := range []int{32, 64} {
		for _, k := range []int{1, 31, 32, 33, 63, 64, 100, 144, 784} {
			for _, rows := range []int{1, 3, 17} {
				f := make([]int8, rows*rank)
				for i := range f {
					f[i] = int8(r.IntN(64) - 32)
				}
				first, second := make([]uint8, k), make([]uint8, k)
				for l := range first {
					first[l], second[l] = uint8(r.IntN(rank)), uint8(r.IntN(rank))
				}
				const guard = 40
				src, dst := make([]int8, rows*k+guard), make([]int8, rows*k+guard)
				for i := range src {
					src[i] = int8(r.IntN(129) - 64)
					dst[i] = 99
				}
				AddPairsRows(dst, src, f, rank, first, second, rows)
				for i := range rows {
					for l := range k {
						want := src[i*k+l] + f[i*rank+int(first[l])] - f[i*rank+int(second[l])]
						if got := dst[i*k+l]; got != want {
							t.Fatalf("rank %d k %d rows %d: row %d entry %d = %d, want %d", rank, k, rows, i, l, got, want)
						}
					}
				}
				for i := rows * k; i < len(dst); i++ {
					if dst[i] != 99 {
						t.Fatalf("rank %d k %d rows %d: wrote past the rows at %d", rank, k, rows, i)
					}
				}
			}
		}
	}
}

func TestNarrowWidenRows(t *testing.T) { impltest.Run(t, testNarrowWidenRows, "vec8") }

func testNarrowWidenRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, cols := range []int{1, 16, 17, 32, 48, 64, 128} {
		for _, rows := range []int{1, 3} {
			for _, neg := range []bool{false, true} {
				for _, wide := range []bool{false, true} {
					stride := cols + 16 + 3*(cols%2) // rows apart, odd where cols is
					src32 := make([]int32, rows*cols)
					src8 := make([]int8, rows*cols)
					for i := range src32 {
						src32[i] = int32(r.IntN(65535) - 32767)
						src8[i] = int8(r.IntN(256) - 128)
					}
					src8[0] = -128
					if wide {
						src32[len(src32)-1] = []int32{32768, -32768, 1 << 20}[r.IntN(3)]
					}
					d32, d8 := make([]int16, rows*stride), make([]int16, rows*stride)
					ok := NarrowRows(d32, stride, src32, cols, rows, neg)
					WidenRows(d8, stride, src8, cols, rows, neg)
					if ok == wide {
						t.Fatalf("cols %d rows %d neg %v wide %v: ok %v", cols, rows, neg, wide, ok)
					}
					for i := 0; i < rows; i++ {
						for c := 0; c < cols; c++ {
							w32, w8 := int16(src32[i*cols+c]), int16(src8[i*cols+c])
							if neg {
								w32, w8 = -w32, -w8
							}
							if d32[i*stride+c] != w32 || d8[i*stride+c] != w8 {
								t.Fatalf("cols %d rows %d neg %v: (%d, %d) = %d, %d; want %d, %d", cols, rows, neg, i, c, d32[i*stride+c], d8[i*stride+c], w32, w8)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkAddPairs forms one noisy row of k = 784 entries (MNIST's first
// layer) at the local (32) and Pearl (128) ranks.
func BenchmarkAddPairs(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, rank := range []int{32, 128} {
		b.Run(fmt.Sprintf("r=%d", rank), func(b *testing.B) {
			const n = 784
			f := make([]int8, rank)
			src, dst := make([]int8, n), make([]int8, n)
			first, second := make([]uint8, n), make([]uint8, n)
			for l := range src {
				first[l], second[l] = uint8(r.IntN(rank)), uint8(r.IntN(rank))
			}
			b.SetBytes(n)
			for b.Loop() {
				AddPairs(dst, src, f, first, second)
			}
		})
	}
}
