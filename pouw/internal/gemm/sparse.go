package gemm

import (
	"fmt"

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
	for l, f := range idx[:2*k] {
		if int(f) >= r || l%2 == 1 && f == idx[l-1] {
			panic(fmt.Sprintf("gemm: bad sparse factor entry %d (r=%d)", l/2, r))
		}
	}
	if hasAVX2 && k > 0 {
		sparseMulAVX2(dst, a, m, k, idx, r)
		return
	}
	sparseMulGeneric(dst, a, m, k, idx, r)
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
