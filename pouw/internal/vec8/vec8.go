// Package vec8 holds the int8 vector helpers of a mined product outside the
// GEMM: forming noisy operands (PROTOCOL.md §4.3) with byte table look-ups —
// every entry of A' is A plus the difference of two entries of a short row of
// the dense noise factor, which AVX-512 VBMI's VPERMB and VPERMI2B look up 64
// at a time (AVX2's VPSHUFB, 16-byte tables joined by VPBLENDVB, 32) — and the
// int7 range check of the inputs (§1).
package vec8

// AddPairs sets dst[l] = src[l] + f[first[l]] − f[second[l]] for every l
// (int8 arithmetic; callers keep the result in range). len(f) ≤ 256 and
// every index is below len(f).
func AddPairs(dst, src, f []int8, first, second []uint8) {
	n := len(dst)
	src, first, second = src[:n], first[:n], second[:n]
	done := 0
	if len(f) <= 128 && n >= 64 && len(first) == n && len(second) == n {
		done = addPairsAsm(dst, src, f, first, second)
	}
	for l := done; l < n; l++ {
		dst[l] = src[l] + f[first[l]] - f[second[l]]
	}
}

// AddPairsRows is AddPairs on rows consecutive rows of k = len(first)
// entries: row i of dst and of src is entries [i·k, (i+1)·k), and its table
// is f[i·r : (i+1)·r]. dst and src must not overlap. One call for all the
// rows where the CPU allows it: a short row (an im2col operand's, k = 144)
// would otherwise spend as long setting up its call as adding.
func AddPairsRows(dst, src, f []int8, r int, first, second []uint8, rows int) {
	k := len(first)
	if rows <= 0 || k == 0 {
		return
	}
	second = second[:k]
	_, _, _ = dst[rows*k-1], src[rows*k-1], f[rows*r-1]
	if addPairsRowsAsm(dst, src, f, r, first, second, rows) {
		return
	}
	for i := range rows {
		AddPairs(dst[i*k:(i+1)*k], src[i*k:(i+1)*k], f[i*r:(i+1)*r], first, second)
	}
}

// FirstOutside returns the index of the first entry of x outside [lo, hi],
// or −1 when there is none.
func FirstOutside(x []int8, lo, hi int8) int {
	start := 0
	if len(x) >= 64 {
		start = outsideAsm(x, lo, hi)
	}
	for i := start; i < len(x); i++ {
		if x[i] < lo || x[i] > hi {
			return i
		}
	}
	return -1
}

// NarrowRows sets row i of dst (rows of stride entries) to the cols entries
// of row i of src (rows of cols entries), negated when neg, as int16, and
// reports whether every src entry lies in [−32767, 32767] (when one does not,
// dst holds the truncations). It lays out the denoising correction's wide
// factors, one vector instruction per sixteen entries.
func NarrowRows(dst []int16, stride int, src []int32, cols, rows int, neg bool) bool {
	if rows <= 0 || cols <= 0 {
		return true
	}
	_, _ = src[rows*cols-1], dst[(rows-1)*stride+cols-1]
	if ok, done := narrowAsm(dst, stride, src, cols, rows, neg); done {
		return ok
	}
	var out uint64 // bits above 15 of uint32(v+32767)+1: zero exactly when v fits
	for i := 0; i < rows; i++ {
		d := dst[i*stride : i*stride+cols]
		for c, v := range src[i*cols : (i+1)*cols] {
			out |= uint64(uint32(v+32767)) + 1
			if neg {
				v = -v
			}
			d[c] = int16(v)
		}
	}
	return out>>16 == 0
}

// WidenRows is NarrowRows for int8 entries, which always fit.
func WidenRows(dst []int16, stride int, src []int8, cols, rows int, neg bool) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_, _ = src[rows*cols-1], dst[(rows-1)*stride+cols-1]
	if widenAsm(dst, stride, src, cols, rows, neg) {
		return
	}
	for i := 0; i < rows; i++ {
		d := dst[i*stride : i*stride+cols]
		for c, v := range src[i*cols : (i+1)*cols] {
			w := int16(v) // widened first: −(−128) is 128
			if neg {
				w = -w
			}
			d[c] = w
		}
	}
}
