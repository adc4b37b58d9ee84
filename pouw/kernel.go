package pouw

// TileGrid lists the tiles of a mined product: every tile is one entry of
// Rows (its h row indices) crossed with one entry of Cols (its w column
// indices). Tile (ri, ci) has index ri·len(Cols) + ci.
type TileGrid struct {
	Rows [][]int
	Cols [][]int
	Rank int // chunk length of the transcript along k
}

// NumTiles is the number of tiles in the grid.
func (g *TileGrid) NumTiles() int { return len(g.Rows) * len(g.Cols) }

// newTileGrid places a tile at every valid offset of the configuration's
// patterns that fits inside an m×n product (§2).
func newTileGrid(c Config, m, n int) *TileGrid {
	g := &TileGrid{Rank: int(c.Rank)}
	g.Rows = tileLines(c.Rows, m)
	g.Cols = tileLines(c.Cols, n)
	return g
}

func tileLines(p Pattern, size int) [][]int {
	idx := p.Indices()
	var out [][]int
	for _, o := range p.Offsets(size) {
		line := make([]int, len(idx))
		for i, x := range idx {
			line[i] = o + int(x)
		}
		out = append(out, line)
	}
	return out
}

// Kernel multiplies int8 matrices exactly into int32. It is the piece a
// faster implementation replaces; every Kernel must produce bit-identical
// products and transcripts to the reference (RefKernel).
type Kernel interface {
	// Name identifies the kernel in statistics and test output.
	Name() string
	// Mul sets dst (m×n, row-major) to a·btᵀ, where a is m×k and bt is n×k,
	// both row-major. When grid is non-nil it also sets jackpots[t] to the
	// transcript of tile t (§5); len(jackpots) == grid.NumTiles().
	Mul(dst []int32, a, bt []int8, m, n, k int, grid *TileGrid, jackpots []Jackpot)
}

// RefKernel is the pure-Go reference kernel: the oracle every other kernel is
// tested against. It favours obvious correctness over speed.
type RefKernel struct{}

// Name returns "reference".
func (RefKernel) Name() string { return "reference" }

// Mul computes every dot product chunk by chunk and, for entries inside a
// tile, XORs the running sum into that tile's chunk word after each chunk.
func (RefKernel) Mul(dst []int32, a, bt []int8, m, n, k int, grid *TileGrid, jackpots []Jackpot) {
	var rowTile, colTile []int
	var xs [][]uint32 // per tile: XOR of the tile's accumulators after each chunk
	chunks, r := 0, 1
	if grid != nil {
		r = grid.Rank
		chunks = (k - k%r) / r
		rowTile = lineOwners(grid.Rows, m)
		colTile = lineOwners(grid.Cols, n)
		xs = make([][]uint32, grid.NumTiles())
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
				x = xs[rowTile[i]*len(grid.Cols)+colTile[j]]
			}
			// The running sum after each chunk of r is the transcript's
			// accumulator; the tail k mod r is multiplied but not hashed.
			var acc int32
			l := 0
			for s := range x {
				acc += dotInt8(ai[l:l+r], bj[l:l+r])
				l += r
				x[s] ^= uint32(acc)
			}
			acc += dotInt8(ai[l:], bj[l:])
			dst[i*n+j] = acc
		}
	}
	for t := range xs {
		jackpots[t] = Jackpot{}
		for s, x := range xs[t] {
			jackpots[t].Fold(s+1, x)
		}
	}
}

// lineOwners maps each of size indices to the tile line containing it, or −1.
func lineOwners(lines [][]int, size int) []int {
	owner := make([]int, size)
	for i := range owner {
		owner[i] = -1
	}
	for t, line := range lines {
		for _, i := range line {
			owner[i] = t
		}
	}
	return owner
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
