package pouw

import "github.com/usefulwork/minedmatmul/pouw/internal/gemm"

// tileGrid lists the tiles of a mined product: every tile is one entry of
// rows (its h row indices) crossed with one entry of cols (its w column
// indices). Tile (ri, ci) has index ri·len(cols) + ci.
type tileGrid struct {
	rows [][]int
	cols [][]int
	rank int // chunk length of the transcript along k
}

// numTiles is the number of tiles in the grid.
func (g *tileGrid) numTiles() int { return len(g.rows) * len(g.cols) }

// newTileGrid places a tile at every valid offset of the configuration's
// patterns that fits inside an m×n product (§2).
func newTileGrid(c Config, m, n int) *tileGrid {
	return &tileGrid{rows: tileLines(c.Rows, m), cols: tileLines(c.Cols, n), rank: int(c.Rank)}
}

// tileLines lists the indices of every tile line of p inside [0, size),
// the lines sharing one backing array: a 19600-row operand has 1225 of them,
// and one allocation each cost more than the rest of the grid.
func tileLines(p Pattern, size int) [][]int {
	idx := p.Indices()
	offsets := p.Offsets(size)
	flat := make([]int, len(offsets)*len(idx))
	out := make([][]int, len(offsets))
	for t, o := range offsets {
		line := flat[t*len(idx) : (t+1)*len(idx) : (t+1)*len(idx)]
		for i, x := range idx {
			line[i] = o + int(x)
		}
		out[t] = line
	}
	return out
}

// regular recognises a grid whose tiles are contiguous runs of h ≤ 16 rows
// and w ≤ 16 columns starting at multiples of h and w: the grid the fast
// kernels handle, and the one DefaultPolicy makes.
func (g *tileGrid) regular() (*gemm.Grid, bool) {
	if g.rank <= 0 || g.rank%32 != 0 {
		return nil, false
	}
	h, ok := regularLines(g.rows)
	if !ok {
		return nil, false
	}
	w, ok := regularLines(g.cols)
	if !ok {
		return nil, false
	}
	return &gemm.Grid{H: h, W: w, R: g.rank, RowTiles: len(g.rows), ColTiles: len(g.cols)}, true
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
