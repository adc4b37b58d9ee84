//go:build amd64 && !purego

package vec8

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

var (
	hasVBMI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI
	// hasAVX2 runs the AVX2 versions (vec8_avx2_amd64.s) where VBMI is
	// missing.
	hasAVX2 = cpu.X86.HasAVX2
)

func init() {
	impl.Register("vec8", "avx512-vbmi", &hasVBMI)
	impl.Register("vec8", "avx2", &hasAVX2)
}

//go:noescape
func addPairs64(dst, src *int8, table *[128]int8, first, second *uint8, blocks int, two bool)

// addPairsAsm handles the whole blocks (64 entries, or 32 with AVX2) and
// returns how many entries it did. When dst and src do not overlap it does
// all of them: the last, partial block is done as the block ending at
// len(dst), recomputing a few (from src, so to the same values) instead of
// leaving them to the scalar loop, which at k = 784 took a third of forming
// a noisy operand.
func addPairsAsm(dst, src, f []int8, first, second []uint8) int {
	size := 64
	switch {
	case hasVBMI:
	case hasAVX2:
		size = 32
	default:
		return 0
	}
	var table [128]int8
	copy(table[:], f)
	entries := 128 // the table entries the kernels look up
	if len(f) <= 32 {
		entries = 32
	} else if len(f) <= 64 {
		entries = 64
	}
	n := len(dst)
	blocks := n / size
	addPairsBlocks(dst, src, &table, first, second, 0, blocks, entries)
	if n%size == 0 || overlap(dst, src) {
		return size * blocks
	}
	addPairsBlocks(dst, src, &table, first, second, n-size, 1, entries)
	return n
}

// addPairsBlocks runs the CPU's kernel on blocks blocks from entry l: 64
// entries a block with VBMI, else 32 with AVX2.
func addPairsBlocks(dst, src []int8, table *[128]int8, first, second []uint8, l, blocks, entries int) {
	if hasVBMI {
		addPairs64(&dst[l], &src[l], table, &first[l], &second[l], blocks, entries > 64)
		return
	}
	addPairs32AVX2(&dst[l], &src[l], table, &first[l], &second[l], blocks, entries)
}

// overlap reports whether the equal-length x and y share any byte.
func overlap(x, y []int8) bool {
	px, py := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	return px < py+uintptr(len(y)) && py < px+uintptr(len(x))
}

//go:noescape
func outside64(x *int8, blocks int, lo, hi int8) int

//go:noescape
func addPairs32AVX2(dst, src *int8, table *[128]int8, first, second *uint8, blocks, entries int)

//go:noescape
func outside32AVX2(x *int8, blocks int, lo, hi int8) int

//go:noescape
func addPairsRows32AVX2(dst, src, f *int8, first, second *uint8, k, rows int)

// addPairsRowsAsm does AddPairsRows in one AVX2 call when the tables have 32
// entries and the rows at least 32, and reports it did. The AVX-512 path
// keeps its per-row calls.
func addPairsRowsAsm(dst, src, f []int8, r int, first, second []uint8, rows int) bool {
	k := len(first)
	if hasVBMI || !hasAVX2 || r != 32 || k < 32 {
		return false
	}
	addPairsRows32AVX2(&dst[0], &src[0], &f[0], &first[0], &second[0], k, rows)
	return true
}

// outsideAsm scans the whole blocks of x (64 bytes, or 32 with AVX2) and
// returns where the caller's scalar scan starts: the first block holding an
// entry outside [lo, hi] (with AVX2, the first of the four blocks it was
// tested with), or the end of the blocks when all are inside.
func outsideAsm(x []int8, lo, hi int8) int {
	size, scan := 64, outside64
	switch {
	case hasVBMI:
	case hasAVX2:
		size, scan = 32, outside32AVX2
	default:
		return 0
	}
	blocks := len(x) / size
	if off := scan(&x[0], blocks, lo, hi); off >= 0 {
		return off
	}
	return blocks * size
}

//go:noescape
func narrowRows(dst *int16, dstStride int, src *int32, cols, rows int, neg bool) bool

//go:noescape
func widenRows(dst *int16, dstStride int, src *int8, cols, rows int, neg bool)

//go:noescape
func narrowRowsAVX2(dst *int16, dstStride int, src *int32, cols, rows int, neg bool) bool

//go:noescape
func widenRowsAVX2(dst *int16, dstStride int, src *int8, cols, rows int, neg bool)

// narrowAsm does NarrowRows when the CPU and cols allow; done reports it did.
func narrowAsm(dst []int16, stride int, src []int32, cols, rows int, neg bool) (ok, done bool) {
	switch {
	case cols%16 != 0:
		return false, false
	case hasVBMI:
		return narrowRows(&dst[0], stride, &src[0], cols, rows, neg), true
	case hasAVX2:
		return narrowRowsAVX2(&dst[0], stride, &src[0], cols, rows, neg), true
	}
	return false, false
}

// widenAsm does WidenRows when the CPU and cols allow, and reports it did.
func widenAsm(dst []int16, stride int, src []int8, cols, rows int, neg bool) bool {
	switch {
	case hasVBMI && cols%32 == 0:
		widenRows(&dst[0], stride, &src[0], cols, rows, neg)
	case hasAVX2 && cols%16 == 0:
		widenRowsAVX2(&dst[0], stride, &src[0], cols, rows, neg)
	default:
		return false
	}
	return true
}
