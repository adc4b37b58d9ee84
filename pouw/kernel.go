package pouw

import (
	"unsafe"

	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
)

// kernel multiplies int8 matrices exactly into int32 and records the
// transcript of every tile (§5). The miner uses gemmKernel; refKernel is the
// oracle it is tested against and what the verifier runs on its one tile.
// Every kernel must produce bit-identical products and transcripts.
type kernel interface {
	// mul sets dst (m×n, row-major) to a·btᵀ, where a is m×k and bt is n×k,
	// both row-major. When grid is non-nil it also sets jackpots[t] to the
	// transcript of tile t; len(jackpots) == grid.numTiles().
	mul(dst []int32, a, bt []int8, m, n, k int, grid *tileGrid, jackpots []jackpot)
}

// refKernel is the pure-Go reference kernel. It favours obvious correctness
// over speed and shares no code with package gemm.
type refKernel struct{}

// mul computes every dot product chunk by chunk and, for entries inside a
// tile, XORs the running sum into that tile's chunk word after each chunk.
func (refKernel) mul(dst []int32, a, bt []int8, m, n, k int, grid *tileGrid, jackpots []jackpot) {
	var rowTile, colTile []int
	var xs [][]uint32 // per tile: XOR of the tile's accumulators after each chunk
	if grid != nil {
		r := grid.rank
		chunks := (k - k%r) / r
		rowTile = grid.rows.owners(m)
		colTile = grid.cols.owners(n)
		xs = make([][]uint32, grid.numTiles())
		for t := range xs {
			xs[t] = make([]uint32, chunks)
		}
	}
	for i := 0; i < m; i++ {
		ai := a[i*k : (i+1)*k]
		for j := 0; j < n; j++ {
			bj := bt[j*k : (j+1)*k]
			var x []uint32
			if grid != nil && rowTile[i] >= 0 && colTile[j] >= 0 {
				x = xs[rowTile[i]*grid.cols.count()+colTile[j]]
			}
			// The running sum after each chunk of r is the transcript's
			// accumulator; the tail k mod r is multiplied but not hashed.
			var acc int32
			l := 0
			for s := range x {
				acc += dotInt8(ai[l:l+grid.rank], bj[l:l+grid.rank])
				l += grid.rank
				x[s] ^= uint32(acc)
			}
			acc += dotInt8(ai[l:], bj[l:])
			dst[i*n+j] = acc
		}
	}
	for t := range xs {
		jackpots[t] = jackpot{}
		for s, x := range xs[t] {
			jackpots[t].fold(s+1, x)
		}
	}
}

// dotInt8 is the exact int32 dot product of two equal-length int8 slices.
// internal/gemm's generic kernel has its own: the oracle shares no code with
// the kernels it checks.
func dotInt8(a, b []int8) int32 {
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

// gemmKernel is package gemm behind the kernel interface: AVX-512 VNNI,
// AVX2 or pure Go, the fastest this CPU has (tests force each in turn
// through package impl).
type gemmKernel struct{}

// mul implements kernel. The fast paths need a regular grid; any other
// grid goes to refKernel.
func (k gemmKernel) mul(dst []int32, a, bt []int8, m, n, kk int, grid *tileGrid, jackpots []jackpot) {
	if !k.mulDenoised(dst, a, bt, m, n, kk, grid, jackpots, nil) {
		refKernel{}.mul(dst, a, bt, m, n, kk, grid, jackpots)
	}
}

// mulDenoised is mul with the correction c (dst += c.L·c.Rᵀ) folded into the
// kernel after the transcript; it reports false, doing nothing, when grid is
// not regular.
func (gemmKernel) mulDenoised(dst []int32, a, bt []int8, m, n, kk int, grid *tileGrid, jackpots []jackpot, c *gemm.Correction) bool {
	var g *gemm.Grid
	var jp []gemm.Jackpot
	if grid != nil {
		var ok bool
		if g, ok = grid.regular(); !ok {
			return false
		}
		jp = gemmJackpots(jackpots)
	}
	gemm.Mul(dst, a, bt, m, n, kk, g, jp, c)
	return true
}

// gemmJackpots views jackpots as gemm's identical word arrays, in place.
func gemmJackpots(j []jackpot) []gemm.Jackpot {
	return unsafe.Slice((*gemm.Jackpot)(unsafe.Pointer(unsafe.SliceData(j))), len(j))
}
