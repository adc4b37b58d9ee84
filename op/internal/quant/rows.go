package quant

import (
	"sync"

	"github.com/usefulwork/minedmatmul/internal/parallel"
)

// qmax is the largest int7 magnitude the protocol accepts (PROTOCOL.md §1).
const qmax = 64

// Rows quantises each row of v to int7 with one scale per row:
// out[i·Cols+j] = round(v[i][j] · 64/maxᵢ), and scale[i] = maxᵢ/64 so that
// v[i][j] ≈ scale[i]·out[i·Cols+j]. A row of zeros gets scale 0 and zeros.
// out must hold Rows·Cols entries and scale Rows.
//
// The arithmetic is float64 for both dtypes (a float32 widens exactly), with
// every intermediate rounded by an explicit conversion: the compiler may
// fuse a·b+c into an FMA unless a conversion rounds a·b first (Go spec,
// "Floating-point operators"), so these bits are the same on every platform
// and GOAMD64 level. A maximum so small (subnormal float64) that 64/max
// overflows divides instead.
//
// With rnd == nil it rounds half to even; otherwise it rounds
// stochastically, element idx = i·Cols+j drawing rnd's number idx. It
// returns a *BadValueError for the first NaN or ±Inf, and an error for an
// empty window or one whose strides reach outside Data.
func Rows[F float32 | float64](v View[F], out []int8, scale []float64, rnd *Noise) error {
	if err := v.check(); err != nil {
		return err
	}
	// Rows are independent: split large operands across the cores. Each
	// element's result depends only on its row and index, so the split
	// does not change a bit.
	part := quantPartFast[F]
	if quantUse == implRef {
		part = quantPart[F]
	}
	// A window whose columns are contiguous is quantised a tile of 64 rows
	// (or, below that, 16 rows) at a time: cut it only between tiles, or
	// its parts run the narrower kernels. One with too few tiles to share
	// out is cut between columns instead.
	align := 1
	if v.ColStride != 1 && v.RowStride == 1 {
		align = 16
		if v.Rows >= tile {
			align = tile
		}
		if quantUse == implFast && (v.Rows+tile-1)/tile < parallel.Workers(v.Rows*v.Cols/parallelMin) {
			return colsByBands(v, out, scale, rnd)
		}
	}
	groups := (v.Rows + align - 1) / align
	var mu sync.Mutex
	var errs []error
	parallel.Range(groups, max(1, parallelMin/(align*max(v.Cols, 1))), func(lo, hi int) {
		i0, i1 := lo*align, min(hi*align, v.Rows)
		sub := v
		sub.Data = v.Data[i0*v.RowStride:]
		sub.Rows = i1 - i0
		var r *Noise
		if rnd != nil {
			r = &Noise{Key: rnd.Key, Base: rnd.Base + i0*v.Cols}
		}
		if err := part(sub, out[i0*v.Cols:i1*v.Cols], scale[i0:i1], r); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	if len(errs) > 0 {
		// Report coordinates in the whole operand rather than in a part;
		// keep a part's own error if there is no such value.
		if bad := firstBad(v); bad != nil {
			return bad
		}
		return errs[0]
	}
	return nil
}

// parallelMin is the number of elements worth a goroutine.
const parallelMin = 1 << 15

// quantImpl selects the quantiser Rows (and Dequant) uses.
type quantImpl uint8

const (
	implFast quantImpl = iota // quantPartFast with kern()
	implRef                   // quantPart, the reference loops
)

// quantUse is the quantiser in use; tests switch it (never in parallel).
// Which lane kernels the fast one runs is package impl's choice (kern).
var quantUse = implFast

// colsByBands is Rows for a column-contiguous window of few rows and many
// columns (a convolution's 16 channels over a batch of images), cut into
// bands of columns for the cores: the bands' maxima first, combined, then
// each band rounded with the whole rows' multipliers. Every element gets
// what quantColsContig gives it.
func colsByBands[F float32 | float64](v View[F], out []int8, scale []float64, rnd *Noise) error {
	bands := (v.Cols + tile - 1) / tile
	grain := max(1, parallelMin/(tile*v.Rows))
	band := func(lo, hi int) View[F] {
		b := v
		b.Data = v.Data[lo*tile*v.ColStride:]
		b.Cols = min(hi*tile, v.Cols) - lo*tile
		return b
	}
	maxes := make([]float64, v.Rows)
	var mu sync.Mutex
	bad := false
	parallel.Range(bands, grain, func(lo, hi int) {
		b, sc := band(lo, hi), new(lanes)
		for i0 := 0; i0 < v.Rows; i0 += tile {
			iw := min(tile, v.Rows-i0)
			m, isBad := colsMax(b, i0, iw, sc)
			mu.Lock()
			bad = bad || isBad
			for l, x := range m[:iw] {
				maxes[i0+l] = max(maxes[i0+l], x)
			}
			mu.Unlock()
		}
	})
	if bad {
		return firstBad(v)
	}
	parallel.Range(bands, grain, func(lo, hi int) {
		b, sc := band(lo, hi), new(lanes)
		j0 := lo * tile
		r := rnd
		if rnd != nil {
			r = &Noise{Key: rnd.Key, Base: rnd.Base + j0}
		}
		var buf [tile * tile]int8
		for i0 := 0; i0 < v.Rows; i0 += tile {
			iw := min(tile, v.Rows-i0)
			var m [tile]float64
			copy(m[:iw], maxes[i0:i0+iw])
			colsRound(b, out[j0:], v.Cols, i0, iw, &m, r, &buf, sc)
		}
	})
	for i, m := range maxes {
		scale[i] = m / qmax
	}
	return nil
}
