// Package gemm multiplies int8 matrices exactly into int32 and records, on the
// way, the per-tile transcript of the INT mining protocol (PROTOCOL.md §5).
//
// It works on raw slices so that package pouw can wrap it (pouw imports
// gemm, not the other way round). Three implementations compute bit-identical
// results: an AVX-512 VNNI one (VPDPBUSD), an AVX2 one (VPMADDWD on int16) and
// a pure-Go one. Mul runs the fastest this CPU has; the assembly ones are
// registered with package impl, so tests run every one of them (and the Go
// one) against a plain triple loop.
//
// Layout: a (m×k) and bt (n×k) are row-major, i.e. both operands are already
// k-contiguous. The output is cut into panels of ph×pw entries (one panel is
// one tile when mined, 16×16 otherwise); a goroutine per GOMAXPROCS takes
// panels from a shared counter, and each panel is computed whole by one
// goroutine, so results never depend on the scheduling.
//
// SparseMul is the other product denoising needs: an operand times one of
// the protocol's sparse ±1 noise factors, by additions instead of
// multiplications.
package gemm

import (
	"fmt"
	"math/bits"

	"github.com/usefulwork/minedmatmul/internal/bufcache"
	"github.com/usefulwork/minedmatmul/internal/parallel"
)

// Jackpot is a tile's 16-word transcript state (PROTOCOL.md §5).
type Jackpot = [16]uint32

// Grid describes the regular contiguous tiling the mining policy produces:
// tile (ti, tj) covers rows [ti·H, ti·H+H) and columns [tj·W, tj·W+W), for
// ti < RowTiles and tj < ColTiles. Rows and columns past the tiles are
// multiplied but buy no transcript.
type Grid struct {
	H, W               int // 1..16
	R                  int // transcript chunk length along k, a positive multiple of 32
	RowTiles, ColTiles int
}

// Correction is a low-rank term added to the product after the transcript:
// dst += L·Rᵀ, with L m×Q and R n×Q row-major int16 and Q even. Denoising
// (PROTOCOL.md §7) is such a term, and folding it into the kernel's epilogue
// saves a second pass over the output.
type Correction struct {
	Q    int
	L, R []int16
}

// Name is the implementation that Mul runs now: "avx512-vnni", "avx2" or
// "generic", the fastest this CPU supports unless a test switched it off
// (package impl).
func Name() string {
	switch {
	case hasAVX512:
		return "avx512-vnni"
	case hasAVX2:
		return "avx2"
	}
	return "generic"
}

// plan is the shape of one call, shared by every implementation.
type plan struct {
	m, n, k    int
	ph, pw     int // panel height and width
	rowPanels  int
	colPanels  int
	rowTiles   int // row panels that are tiles (0 when unmined)
	colTiles   int
	r, nchunks int // transcript chunk length and count; nchunks is 0 when unmined
	q          int // correction length, 0 without one
	jackpots   []Jackpot
	corr       *Correction
}

func (p *plan) rowsOf(pi int) (i0, h int) {
	i0 = pi * p.ph
	return i0, min(p.ph, p.m-i0)
}

func (p *plan) colsOf(pj int) (j0, w int) {
	j0 = pj * p.pw
	return j0, min(p.pw, p.n-j0)
}

// jackpot returns the transcript state of panel (pi, pj), or nil when the
// panel is outside every tile.
func (p *plan) jackpot(pi, pj int) *Jackpot {
	if pi >= p.rowTiles || pj >= p.colTiles {
		return nil
	}
	return &p.jackpots[pi*p.colTiles+pj]
}

// Mul sets dst (m×n, row-major) to a·btᵀ, plus c.L·c.Rᵀ when c is non-nil,
// with a m×k and bt n×k row-major int8. When g is non-nil it also sets
// jackpots[ti·g.ColTiles+tj] to the transcript of tile (ti, tj): the XOR of
// the tile's cumulative accumulators of a·btᵀ after every g.R columns of k,
// folded into 16 words (PROTOCOL.md §5); the correction never enters it.
// Entries of a and bt must lie in [−127, 127] and k ≤ 65536, so that every
// partial sum fits in int32.
func Mul(dst []int32, a, bt []int8, m, n, k int, g *Grid, jackpots []Jackpot, c *Correction) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(dst) < m*n || len(a) < m*k || len(bt) < n*k {
		panic("gemm: slice too short for the shape")
	}
	p := plan{m: m, n: n, k: k, ph: 16, pw: 16, r: max(k, 1), jackpots: jackpots, corr: c}
	if g != nil {
		if g.H < 1 || g.H > 16 || g.W < 1 || g.W > 16 || g.R <= 0 || g.R%32 != 0 ||
			g.RowTiles*g.H > m || g.ColTiles*g.W > n || len(jackpots) < g.RowTiles*g.ColTiles {
			panic(fmt.Sprintf("gemm: bad grid %+v for %dx%d", *g, m, n))
		}
		p.ph, p.pw, p.r = g.H, g.W, g.R
		p.rowTiles, p.colTiles = g.RowTiles, g.ColTiles
		p.nchunks = k / g.R
		clear(jackpots[:g.RowTiles*g.ColTiles])
	}
	if c != nil {
		if c.Q < 0 || c.Q%2 != 0 || len(c.L) < m*c.Q || len(c.R) < n*c.Q {
			panic("gemm: bad correction")
		}
		p.q = c.Q
	}
	p.rowPanels = (m + p.ph - 1) / p.ph
	p.colPanels = (n + p.pw - 1) / p.pw
	if k == 0 {
		clear(dst[:m*n])
		p.k = 0
		mulGeneric(&p, dst, a, bt)
		return
	}
	switch {
	case hasAVX512:
		mulAVX512(&p, dst, a, bt)
	case hasAVX2:
		mulAVX2(&p, dst, a, bt)
	default:
		mulGeneric(&p, dst, a, bt)
	}
}

// workItems splits the panels into row panel × column block items: whole row
// panels when there are enough of them, else each row panel cut into column
// blocks so that every core gets work even for short, wide products.
func (p *plan) workItems() (colBlocks, items int) {
	want := 4 * parallel.Workers(p.rowPanels*p.colPanels)
	colBlocks = 1
	if p.rowPanels < want {
		colBlocks = min(p.colPanels, (want+p.rowPanels-1)/p.rowPanels)
	}
	return colBlocks, p.rowPanels * colBlocks
}

func (p *plan) itemRange(colBlocks, item int) (pi, pj0, pj1 int) {
	pi, cb := item/colBlocks, item%colBlocks
	per := (p.colPanels + colBlocks - 1) / colBlocks
	return pi, min(cb*per, p.colPanels), min((cb+1)*per, p.colPanels)
}

// fold absorbs the XOR x of a tile's accumulators after chunk s (0-based).
func fold(j *Jackpot, s int, x uint32) {
	t := s % 16
	j[t] = bits.RotateLeft32(j[t], 13) ^ x
}

// packed recycles packed operand buffers between calls; scratch16,
// scratch32 and scratchAcc the workers' panel scratch. A training step
// multiplies the same few shapes again and again, and fresh scratch costs
// zeroing and garbage collection on every product.
var (
	packed     = bufcache.New[byte](4)
	scratch16  = bufcache.New[int16](8)
	scratch32  = bufcache.New[uint32](4)
	scratchAcc = bufcache.New[int32](4)
)
