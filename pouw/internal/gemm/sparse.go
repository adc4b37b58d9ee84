package gemm

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/usefulwork/minedmatmul/internal/parallel"
)

// SparseMul sets dst (m×r, row-major) to a·S for a m×k int8 (row-major) and
// the k×r matrix S with +1 at (l, idx[2l]) and −1 at (l, idx[2l+1]) in every
// row l, the two columns distinct and below r: the shape of the protocol's
// sparse noise factors (PROTOCOL.md §4), whose products with the operands
// denoising needs (§7). Written out densely S would cost k·r multiply-
// accumulates a row; as it is, two additions per entry of a. With AVX2 the
// rows are packed 16 at a time as Mul packs its column panels and each
// entry's 16-row column is added into its two columns' accumulators. Sums
// are exact in int32: a column sums at most k ≤ 65536 entries of ±128.
func SparseMul(dst []int32, a []int8, m, k int, idx []uint16, r int) {
	if m <= 0 || r <= 0 {
		return
	}
	if len(dst) < m*r || len(a) < m*k || len(idx) < 2*k {
		panic("gemm: slice too short for the sparse product")
	}
	if l := firstBadPair(idx[:2*k], r); l >= 0 {
		panic(fmt.Sprintf("gemm: bad sparse factor entry %d (r=%d)", l, r))
	}
	if hasAVX2 && k > 0 {
		sparseMulAVX2(dst, a, m, k, idx, r)
		return
	}
	sparseMulGeneric(dst, a, m, k, idx, r)
}

// firstBadPair returns the first l whose columns idx[2l] and idx[2l+1] are
// equal or not below r, or −1: on all cores for a long k, whose check would
// otherwise take as long as the product of a short A.
func firstBadPair(idx []uint16, r int) int {
	var first atomic.Int64
	first.Store(math.MaxInt64)
	parallel.Range(len(idx)/2, 1<<14, func(lo, hi int) {
		for l := lo; l < hi; l++ {
			if f, g := idx[2*l], idx[2*l+1]; int(max(f, g)) >= r || f == g {
				for old := first.Load(); int64(l) < old && !first.CompareAndSwap(old, int64(l)); old = first.Load() {
				}
				return
			}
		}
	})
	if l := first.Load(); l != math.MaxInt64 {
		return int(l)
	}
	return -1
}

// sparseMulGeneric is SparseMul one row and one entry at a time.
func sparseMulGeneric(dst []int32, a []int8, m, k int, idx []uint16, r int) {
	parallel.For((m+15)/16, func(_, block int) {
		for i := 16 * block; i < min(m, 16*block+16); i++ {
			out := dst[i*r : (i+1)*r]
			clear(out)
			for l, v := range a[i*k : (i+1)*k] {
				out[idx[2*l]] += int32(v)
				out[idx[2*l+1]] -= int32(v)
			}
		}
	})
}
