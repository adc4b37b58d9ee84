package pouw

import (
	"unsafe"

	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
)

// gemmKernel is one implementation of package gemm behind the Kernel
// interface: AVX-512 VNNI, AVX2 or pure Go. Every one produces the products
// and transcripts of RefKernel bit for bit (kernel_test.go).
type gemmKernel struct{ impl gemm.Impl }

// Kernels lists every kernel usable on this machine, fastest first: the
// AVX-512 VNNI kernel and the AVX2 kernel where the CPU has them, then the
// pure-Go one. Tests force each in turn; DefaultKernel is the first.
func Kernels() []Kernel {
	var ks []Kernel
	for _, impl := range gemm.Available() {
		ks = append(ks, gemmKernel{impl})
	}
	return ks
}

// Name is "avx512-vnni", "avx2" or "generic".
func (k gemmKernel) Name() string { return k.impl.String() }

// Mul implements Kernel. The fast paths need the regular contiguous grid
// that DefaultPolicy makes (tiles of h×w ≤ 16×16 at multiples of h and w);
// any other grid goes to RefKernel.
func (k gemmKernel) Mul(dst []int32, a, bt []int8, m, n, kk int, grid *TileGrid, jackpots []Jackpot) {
	if !k.mulDenoised(dst, a, bt, m, n, kk, grid, jackpots, nil) {
		RefKernel{}.Mul(dst, a, bt, m, n, kk, grid, jackpots)
	}
}

// mulDenoised is Mul with the correction c (dst += c.L·c.Rᵀ) folded into the
// kernel after the transcript; it reports false, doing nothing, when grid is
// not regular.
func (k gemmKernel) mulDenoised(dst []int32, a, bt []int8, m, n, kk int, grid *TileGrid, jackpots []Jackpot, c *gemm.Correction) bool {
	var g *gemm.Grid
	var jp []gemm.Jackpot
	if grid != nil {
		var ok bool
		if g, ok = regularGrid(grid); !ok {
			return false
		}
		jp = jackpotWords(jackpots)
	}
	gemm.Mul(k.impl, dst, a, bt, m, n, kk, g, jp, c)
	return true
}

// jackpotWords views jackpots as gemm's identical word arrays, in place.
func jackpotWords(j []Jackpot) []gemm.Jackpot {
	return unsafe.Slice((*gemm.Jackpot)(unsafe.Pointer(unsafe.SliceData(j))), len(j))
}

// regularGrid recognises a grid whose tiles are contiguous runs of h ≤ 16
// rows and w ≤ 16 columns starting at multiples of h and w.
func regularGrid(grid *TileGrid) (*gemm.Grid, bool) {
	if grid.Rank <= 0 || grid.Rank%32 != 0 {
		return nil, false
	}
	h, ok := regularLines(grid.Rows)
	if !ok {
		return nil, false
	}
	w, ok := regularLines(grid.Cols)
	if !ok {
		return nil, false
	}
	return &gemm.Grid{H: h, W: w, R: grid.Rank, RowTiles: len(grid.Rows), ColTiles: len(grid.Cols)}, true
}

func regularLines(lines [][]int) (int, bool) {
	if len(lines) == 0 {
		return 16, true
	}
	h := len(lines[0])
	if h < 1 || h > 16 {
		return 0, false
	}
	for t, line := range lines {
		if len(line) != h {
			return 0, false
		}
		for u, i := range line {
			if i != t*h+u {
				return 0, false
			}
		}
	}
	return h, true
}
