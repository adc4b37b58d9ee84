package gemm

import "github.com/usefulwork/minedmatmul/internal/parallel"

// mulGeneric is the pure-Go implementation: panel by panel, entry by entry,
// chunk by chunk. It is the fallback on every platform and the model the
// assembly follows.
func mulGeneric(p *plan, dst []int32, a, bt []int8) {
	colBlocks, items := p.workItems()
	xs := make([][]uint32, parallel.Workers(items))
	for w := range xs {
		xs[w] = make([]uint32, p.nchunks)
	}
	parallel.For(items, func(w, item int) {
		pi, pj0, pj1 := p.itemRange(colBlocks, item)
		i0, h := p.rowsOf(pi)
		for pj := pj0; pj < pj1; pj++ {
			j0, wd := p.colsOf(pj)
			jack := p.jackpot(pi, pj)
			x := xs[w]
			clear(x)
			for i := i0; i < i0+h; i++ {
				ai := a[i*p.k : (i+1)*p.k]
				for j := j0; j < j0+wd; j++ {
					bj := bt[j*p.k : (j+1)*p.k]
					var acc int32
					l := 0
					for s := 0; s < p.nchunks; s++ {
						acc += dot8(ai[l:l+p.r], bj[l:l+p.r])
						l += p.r
						x[s] ^= uint32(acc)
					}
					acc += dot8(ai[l:], bj[l:])
					if p.q > 0 {
						acc += dot16(p.corr.L[i*p.q:(i+1)*p.q], p.corr.R[j*p.q:(j+1)*p.q])
					}
					dst[i*p.n+j] = acc
				}
			}
			if jack != nil {
				for s, v := range x {
					fold(jack, s, v)
				}
			}
		}
	})
}

// dot8 is the exact dot product of two equal-length int8 slices; int32
// wrap-around is harmless because callers keep every true sum in range.
func dot8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	l := 0
	for ; l+4 <= len(a); l += 4 {
		s0 += int32(a[l]) * int32(b[l])
		s1 += int32(a[l+1]) * int32(b[l+1])
		s2 += int32(a[l+2]) * int32(b[l+2])
		s3 += int32(a[l+3]) * int32(b[l+3])
	}
	for ; l < len(a); l++ {
		s0 += int32(a[l]) * int32(b[l])
	}
	return s0 + s1 + s2 + s3
}

// dot16 is the int32 (wrapping) dot product of two equal-length int16 slices.
func dot16(a, b []int16) int32 {
	b = b[:len(a)]
	var s0, s1 int32
	l := 0
	for ; l+2 <= len(a); l += 2 {
		s0 += int32(a[l]) * int32(b[l])
		s1 += int32(a[l+1]) * int32(b[l+1])
	}
	for ; l < len(a); l++ {
		s0 += int32(a[l]) * int32(b[l])
	}
	return s0 + s1
}
