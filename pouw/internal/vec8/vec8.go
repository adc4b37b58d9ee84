// Package vec8 holds the int8 vector helpers of a mined product outside the
// GEMM: forming noisy operands (PROTOCOL.md §4.3) with byte table look-ups —
// every entry of A' is A plus the difference of two entries of a short row of
// the dense noise factor, which AVX-512 VBMI's VPERMB and VPERMI2B look up 64
// at a time — and the int7 range check of the inputs (§1).
package vec8

// AddPairs sets dst[l] = src[l] + f[first[l]] − f[second[l]] for every l
// (int8 arithmetic; callers keep the result in range). len(f) ≤ 256 and
// every index is below len(f).
func AddPairs(dst, src, f []int8, first, second []uint8) {
	n := len(dst)
	src, first, second = src[:n], first[:n], second[:n]
	done := 0
	if len(f) <= 128 && n >= 64 {
		done = addPairsAsm(dst, src, f, first, second)
	}
	for l := done; l < n; l++ {
		dst[l] = src[l] + f[first[l]] - f[second[l]]
	}
}

// FirstOutside returns the index of the first entry of x outside [lo, hi],
// or −1 when there is none.
func FirstOutside(x []int8, lo, hi int8) int {
	start := 0
	if len(x) >= 64 {
		start = outsideAsm(x, lo, hi)
		if start < 0 {
			start = len(x) &^ 63
		}
	}
	for i := start; i < len(x); i++ {
		if x[i] < lo || x[i] > hi {
			return i
		}
	}
	return -1
}
