package pouw

import "github.com/usefulwork/minedmatmul/pouw/internal/gemm"

// tileGrid lists the tiles of a mined product: every tile is one line of
// rows crossed with one line of cols. Tile (ri, ci) has index
// ri·cols.count() + ci.
type tileGrid struct {
	rows, cols tileLines
	rank       int // chunk length of the transcript along k
}

// tileLines are the tile lines of a pattern inside [0, size): line t holds
// offsets[t] + i for every index i of the pattern. The lines are not
// written out: a product's grid is read for its tiles' offsets, and a line
// is listed only for a winning tile's proof (a grid of [][]int cost a
// 784×100×512 product 10 µs in allocation and garbage collection).
type tileLines struct {
	idx     []int
	offsets []int
}

// numTiles is the number of tiles in the grid.
func (g *tileGrid) numTiles() int { return g.rows.count() * g.cols.count() }

// offsets returns tile t's first row and first column.
func (g *tileGrid) offsets(t int) (row, col int) {
	return g.rows.offsets[t/g.cols.count()], g.cols.offsets[t%g.cols.count()]
}

// newTileGrid places a tile at every valid offset of the configuration's
// patterns that fits inside an m×n product (§2).
func newTileGrid(c Config, m, n int) *tileGrid {
	return &tileGrid{rows: newTileLines(c.Rows, m), cols: newTileLines(c.Cols, n), rank: int(c.Rank)}
}

func newTileLines(p Pattern, size int) tileLines {
	idx := make([]int, 0, p.Len())
	for _, x := range p.Indices() {
		idx = append(idx, int(x))
	}
	return tileLines{idx: idx, offsets: p.Offsets(size)}
}

// count is the number of lines.
func (l tileLines) count() int { return len(l.offsets) }

// line lists the indices of line t (its first is offsets[t]: every pattern
// starts at index 0).
func (l tileLines) line(t int) []int {
	out := make([]int, len(l.idx))
	for i, x := range l.idx {
		out[i] = l.offsets[t] + x
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
	h, ok := g.rows.regular()
	if !ok {
		return nil, false
	}
	w, ok := g.cols.regular()
	if !ok {
		return nil, false
	}
	return &gemm.Grid{H: h, W: w, R: g.rank, RowTiles: g.rows.count(), ColTiles: g.cols.count()}, true
}

// regular reports whether line t is [t·h, (t+1)·h) for every t, for an h
// ≤ 16, and returns h (16 when there are no lines).
func (l tileLines) regular() (int, bool) {
	if len(l.offsets) == 0 {
		return 16, true
	}
	h := len(l.idx)
	if h < 1 || h > 16 {
		return 0, false
	}
	for u, i := range l.idx {
		if i != u {
			return 0, false
		}
	}
	for t, o := range l.offsets {
		if o != t*h {
			return 0, false
		}
	}
	return h, true
}

// owners maps each of size indices to the line containing it, or −1.
func (l tileLines) owners(size int) []int {
	owner := make([]int, size)
	for i := range owner {
		owner[i] = -1
	}
	for t, o := range l.offsets {
		for _, x := range l.idx {
			owner[o+x] = t
		}
	}
	return owner
}
