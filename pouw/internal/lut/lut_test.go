package lut

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
		}
	}
}
