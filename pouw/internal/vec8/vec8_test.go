package vec8

import (
	"math/rand/v2"
	"testing"
)

func TestAddPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, rank := range []int{32, 64, 128, 256} {
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

func TestFirstOutside(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 640, 1000} {
		for _, at := range []int{-1, 0, n / 2, n - 1} {
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
				}
				if got := FirstOutside(x, -64, 64); got != want {
					t.Fatalf("n %d bad %d at %d: got %d", n, bad, at, got)
				}
			}
		}
	}
}
