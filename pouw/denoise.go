package pouw

import (
	"sync/atomic"
	"unsafe"

	"github.com/usefulwork/minedmatmul/internal/bufcache"
	"github.com/usefulwork/minedmatmul/internal/parallel"
	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
	"github.com/usefulwork/minedmatmul/pouw/internal/vec8"
)

// denoise turns the noisy product C' = A'·B' (in dst) into the exact A·B (§7):
//
//	A·B = A'B' − (A·E_BL)·E_BR − E_AL·(E_AR·B')
//
// A·E_BL (m×r) and E_AR·B' (r×n) come from the sparse pairs with additions
// only; the two rank-r products cost 2rmn. Arithmetic wraps in int32, which
// is exact because the true result fits.
func denoise(dst []int32, a, noisyBT []int8, m, n, k int, nz *noise) {
	r := nz.rank
	// aBL[i][f] = Σ_l A[i][l]·E_BL[l][f]: +A[i][l] at firstB(l), −A[i][l] at secondB(l).
	aBL := make([]int32, m*r)
	for i := 0; i < m; i++ {
		sparseRowTimesPairs(aBL[i*r:(i+1)*r], a[i*k:(i+1)*k], nz.pairsB)
	}
	// arBT[j][f] = (E_AR·B')[f][j], kept transposed so both products below
	// read rows of length r.
	arBT := make([]int32, n*r)
	for j := 0; j < n; j++ {
		sparseRowTimesPairs(arBT[j*r:(j+1)*r], noisyBT[j*k:(j+1)*k], nz.pairsA)
	}
	for i := 0; i < m; i++ {
		p, al := aBL[i*r:(i+1)*r], nz.al[i*r:(i+1)*r]
		row := dst[i*n : (i+1)*n]
		for j := range row {
			brt, q := nz.brt[j*r:(j+1)*r], arBT[j*r:(j+1)*r]
			var corr int32
			for f := 0; f < r; f++ {
				corr += p[f]*int32(brt[f]) + int32(al[f])*q[f]
			}
			row[j] -= corr
		}
	}
}

// sparseRowTimesPairs sets dst (len r) to x·S, where S (k×r) has +1 at
// (l, First) and −1 at (l, Second) in every row l.
func sparseRowTimesPairs(dst []int32, x []int8, pairs []noisePair) {
	clear(dst)
	for l, p := range pairs {
		v := int32(x[l])
		dst[p.first] += v
		dst[p.second] -= v
	}
}

// denoiseCorrection returns the denoising term of §7 as a low-rank
// correction C = A'B' + L·Rᵀ that a gemm kernel adds in its epilogue, after
// the transcript, instead of a second pass over C:
//
//	L = [−A·E_BL | −E_AL] (m×2r),  R = [E_BRᵀ | (E_AR·B')ᵀ] (n×2r)
//
// A·E_BL and (E_AR·B')ᵀ are products with the sparse ±1 factors, which
// gemm.SparseMul computes with two additions per operand entry, whatever
// the rank (written out densely they would cost (m+n)·k·r MACs). L and R are
// int16 for VPDPWSSD. Their entries are sums of about 2k/r values and fit
// easily in practice; when one does not, every wide factor is split into a
// high and a low byte (4r columns), which is exact for any k ≤ 65536.
func denoiseCorrection(a, noisyBT []int8, m, n, k int, nz *noise) *gemm.Correction {
	r := nz.rank
	p := products.Get(m * r)  // A·E_BL
	qt := products.Get(n * r) // (E_AR·B')ᵀ
	defer products.Put(p)
	defer products.Put(qt)
	// Two thin products, each on all cores.
	gemm.SparseMul(qt, noisyBT, n, k, pairIndices(nz.pairsA), r)
	gemm.SparseMul(p, a, m, k, pairIndices(nz.pairsB), r)

	if c := narrowCorrection(p, qt, nz, m, n); c != nil {
		return c
	}
	return buildCorrection(p, qt, nz, m, n, true)
}

// products and corrections recycle the denoising scratch between products:
// A·E_BL and (E_AR·B')ᵀ, and L and R, live only during MineProduct.
var (
	products    = bufcache.New[int32](4)
	corrections = bufcache.New[int16](4)
)

// releaseCorrection gives c's buffers back once the kernel has applied it.
func releaseCorrection(c *gemm.Correction) {
	corrections.Put(c.L)
	corrections.Put(c.R)
}

// narrowCorrection is buildCorrection's usual case, 2r int16 columns, laid
// out and range-checked in one pass (vector narrowing and widening, vec8) on
// all cores; it returns nil when some entry of p or qt needs more than int16.
func narrowCorrection(p, qt []int32, nz *noise, m, n int) *gemm.Correction {
	r := nz.rank
	c := &gemm.Correction{Q: 2 * r, L: corrections.Get(m * 2 * r), R: corrections.Get(n * 2 * r)}
	var bad atomic.Bool
	// About 3 ns a row: split only where that outweighs waking a goroutine.
	parallel.Range(m+n, 2048, func(lo, hi int) {
		ok := true
		if i0, i1 := lo, min(hi, m); i0 < i1 { // rows of L: [−A·E_BL | −E_AL]
			ok = vec8.NarrowRows(c.L[i0*2*r:], 2*r, p[i0*r:i1*r], r, i1-i0, true)
			vec8.WidenRows(c.L[i0*2*r+r:], 2*r, nz.al[i0*r:i1*r], r, i1-i0, true)
		}
		if j0, j1 := max(lo, m)-m, hi-m; j0 < j1 { // rows of R: [E_BRᵀ | (E_AR·B')ᵀ]
			vec8.WidenRows(c.R[j0*2*r:], 2*r, nz.brt[j0*r:j1*r], r, j1-j0, false)
			ok = vec8.NarrowRows(c.R[j0*2*r+r:], 2*r, qt[j0*r:j1*r], r, j1-j0, false) && ok
		}
		if !ok {
			bad.Store(true)
		}
	})
	if bad.Load() {
		releaseCorrection(c)
		return nil
	}
	return c
}

// buildCorrection lays out L and R from A·E_BL (p, m×r) and (E_AR·B')ᵀ (qt,
// n×r): 2r int16 columns, or 4r when split says some entry needs more than
// int16.
func buildCorrection(p, qt []int32, nz *noise, m, n int, split bool) *gemm.Correction {
	r := nz.rank
	if !split {
		c := &gemm.Correction{Q: 2 * r, L: corrections.Get(m * 2 * r), R: corrections.Get(n * 2 * r)}
		for i := 0; i < m; i++ {
			l := c.L[i*2*r : (i+1)*2*r]
			for f := 0; f < r; f++ {
				l[f] = -int16(p[i*r+f])
				l[r+f] = -int16(nz.al[i*r+f])
			}
		}
		for j := 0; j < n; j++ {
			rr := c.R[j*2*r : (j+1)*2*r]
			for f := 0; f < r; f++ {
				rr[f] = int16(nz.brt[j*r+f])
				rr[r+f] = int16(qt[j*r+f])
			}
		}
		return c
	}
	// x = 256·hi + lo with lo in [0, 255]: −P·E_BR = (−lo)·E_BR + (−hi)·(256·E_BR)
	// and −E_AL·Q = (−E_AL)·lo + (−256·E_AL)·hi; every factor fits int16.
	c := &gemm.Correction{Q: 4 * r, L: corrections.Get(m * 4 * r), R: corrections.Get(n * 4 * r)}
	for i := 0; i < m; i++ {
		l := c.L[i*4*r : (i+1)*4*r]
		for f := 0; f < r; f++ {
			v, al := p[i*r+f], int16(nz.al[i*r+f])
			l[f], l[r+f] = -int16(v&255), -int16(v>>8)
			l[2*r+f], l[3*r+f] = -al, -256*al
		}
	}
	for j := 0; j < n; j++ {
		rr := c.R[j*4*r : (j+1)*4*r]
		for f := 0; f < r; f++ {
			v, br := qt[j*r+f], int16(nz.brt[j*r+f])
			rr[f], rr[r+f] = br, 256*br
			rr[2*r+f], rr[3*r+f] = int16(v&255), int16(v>>8)
		}
	}
	return c
}

// pairIndices views pairs as the index list gemm.SparseMul takes: first and
// second of each line, in order. noisePair is two uint16 fields, so the
// memory is the same.
func pairIndices(pairs []noisePair) []uint16 {
	if len(pairs) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&pairs[0])), 2*len(pairs))
}
