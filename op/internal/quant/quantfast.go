package quant

import "math"

// The fast quantiser. quantPart (reference.go) is the reference: one element at
// a time, clear enough to audit. quantPartFast computes the same bits with
// two kinds of layout-aware loops built on 16-lane kernels, which are
// AVX-512 assembly where the CPU has it (quant_amd64.s), AVX2 assembly where
// it has that (quant_avx2_amd64.s, with 64-lane forms for whole tile rows),
// and plain Go elsewhere (the same kernels, goKernels):
//
//   - rows contiguous (column stride 1: row-major operands, a transposed
//     right operand): each row is a run of 16-lane groups;
//   - columns contiguous (row stride 1: Bᵀ read from a row-major B, a
//     transposed left operand): 16 window rows are 16 adjacent floats of
//     one memory row, so the maxima are vertical (lane-wise) maxima, and
//     the int8 results are quantised in 64×64 tiles in memory order and
//     then transposed as bytes in cache: the reads stream, the writes stay
//     within 64 lines, and nothing is gathered.
//
// Maxima are taken on the magnitude's bits as an unsigned integer: for
// non-negative IEEE numbers the integer order is the numeric order, and NaN
// and ±Inf are exactly the bit patterns at or above +Inf's, so one integer
// max per element both finds the maximum and detects bad values. Rounding is
// the reference's: the float64 product x·(64/max), rounded once, then
// rounded half to even (VCVTPD2DQ with {rn-sae} in assembly) and clamped.
// Stochastic rounding draws element idx's number from Mix64 of a counter
// that steps by Golden from one element to the next, so a lane kernel walks
// the counters as it walks the elements (stochGo; AVX2 in assembly). Rows
// whose 64/max overflows take the reference's per-element quantOne inside
// the same layouts.

// shortRow is the row length below which the scalar loops beat the vector
// kernels: their per-call setup costs more than a short row (an im2col
// operand of a 3×3 convolution has rows of 9).
const shortRow = 32

// rowMax is the largest magnitude of a contiguous row, seen as rows of 16.
func rowMax[F float32 | float64](row []F, sc *lanes) (float64, bool) {
	if len(row) < shortRow {
		return rowMaxScalar(row)
	}
	n := len(row) / 16
	m, bad := laneMax(row, 16, n, 16, sc)
	if t := len(row) - 16*n; t > 0 {
		mt, badt := laneMax(row[16*n:], 0, 1, t, sc)
		bad = bad || badt
		for l := range t {
			m[l] = max(m[l], mt[l])
		}
	}
	best := 0.0
	for _, x := range m {
		best = max(best, x)
	}
	return best, bad
}

// roundStochastic is quantOne's stochastic rounding for a finite multiplier,
// without its per-element branches: the same arithmetic, the same bits.
func roundStochastic(x, inv, u float64) int8 {
	t := float64(x * inv) // rounded before the addition: no FMA
	q := math.Floor(float64(t + u))
	return int8(max(-qmax, min(qmax, q)))
}

// rowMaxScalar is rowMax one element at a time: the same maximum of the
// magnitudes' bits, the same NaN/±Inf test.
func rowMaxScalar[F float32 | float64](row []F) (float64, bool) {
	switch s := any(row).(type) {
	case []float32:
		var acc uint32
		for _, x := range s {
			acc = max(acc, math.Float32bits(x)&0x7fffffff)
		}
		return float64(math.Float32frombits(acc)), acc >= 0x7f800000
	case []float64:
		var acc uint64
		for _, x := range s {
			acc = max(acc, math.Float64bits(x)&^(1<<63))
		}
		return math.Float64frombits(acc), acc >= 0x7ff0000000000000
	}
	return 0, false
}

func quantPartFast[F float32 | float64](v View[F], out []int8, scale []float64, rnd *Noise) error {
	if err := v.check(); err != nil {
		return err
	}
	switch {
	case v.ColStride == 1:
		return quantRowsContig(v, out, scale, rnd)
	case v.RowStride == 1:
		return quantColsContig(v, out, scale, rnd)
	}
	return quantPart(v, out, scale, rnd)
}

func quantRowsContig[F float32 | float64](v View[F], out []int8, scale []float64, rnd *Noise) error {
	if k := kern(); v.Cols >= 16 && k.rowsMax32 != nil && (rnd != nil || k.rowsNear32 != nil) {
		if v32, ok := any(v).(View[float32]); ok {
			return quantRows32(v32, out, scale, rnd, k)
		}
	}
	cols := v.Cols
	n := cols / 16
	sc := new(lanes)
	for i := range v.Rows {
		row := v.Data[i*v.RowStride : i*v.RowStride+cols]
		m, bad := rowMax(row, sc)
		if bad {
			return firstBad(v)
		}
		inv, div := factor(m)
		o := out[i*cols : (i+1)*cols]
		switch {
		case rnd == nil && div == 0 && cols < shortRow:
			for j, x := range row {
				o[j] = nearest(float64(x), inv)
			}
		case rnd == nil && div == 0:
			for l := range sc.inv {
				sc.inv[l] = inv
			}
			laneNear(o, 16, row, 16, n, 16, &sc.inv)
			if t := cols - 16*n; t > 0 {
				laneNear(o[16*n:], 0, row[16*n:], 0, 1, t, &sc.inv)
			}
		case div == 0:
			stochRow(o, row, inv, i*cols, rnd, sc)
		default:
			for j, x := range row {
				o[j] = quantOne(float64(x), inv, div, i*cols+j, rnd)
			}
		}
		scale[i] = m / qmax
	}
	return nil
}

// stochRow rounds one row stochastically with multiplier inv: element j
// is element base+j of the window, so its counter steps by Golden, a group
// of 16 by 16·Golden.
func stochRow[F float32 | float64](o []int8, row []F, inv float64, base int, rnd *Noise, sc *lanes) {
	n := len(row) / 16
	for l := range sc.inv {
		sc.inv[l] = inv
		sc.z[l] = rnd.counter(base + l)
	}
	step := uint64(Golden)
	laneStoch(o, 16, row, 16, n, 16, &sc.inv, &sc.z, 16*step)
	if t := len(row) - 16*n; t > 0 {
		for l := range sc.z {
			sc.z[l] = rnd.counter(base + 16*n + l)
		}
		stochGo(o[16*n:], 0, row[16*n:], 0, 1, t, &sc.inv, &sc.z, 0)
	}
}

// rowBlock is how many rows quantRows32 takes at a time: their maxima and
// multipliers stay on the stack.
const rowBlock = 64

// quantRows32 is quantRowsContig for float32 rows of at least 16 entries,
// through the whole-row kernels: the maxima of a block of rows in one call,
// and, rounding to nearest, their rounding in another, instead of several
// calls a row; the same maxima, multipliers and roundings. A row's last
// cols mod 16 entries, stochastic rows, and a row whose multiplier would
// overflow, are done a row at a time.
func quantRows32(v View[float32], out []int8, scale []float64, rnd *Noise, k *laneKernels) error {
	cols, groups := v.Cols, v.Cols/16
	var bits [rowBlock]uint32
	var invs, divs [rowBlock]float64
	sc := new(lanes)
	for i0 := 0; i0 < v.Rows; i0 += rowBlock {
		h := min(rowBlock, v.Rows-i0)
		src, o := v.Data[i0*v.RowStride:], out[i0*cols:]
		k.rowsMax32(src, v.RowStride, groups, bits[:h])
		for i := range h {
			b := bits[i]
			for _, x := range src[i*v.RowStride+16*groups : i*v.RowStride+cols] {
				b = max(b, math.Float32bits(x)&0x7fffffff)
			}
			if b >= 0x7f800000 {
				return firstBad(v)
			}
			m := float64(math.Float32frombits(b))
			invs[i], divs[i] = factor(m)
			scale[i0+i] = m / qmax
		}
		if rnd == nil {
			k.rowsNear32(o, cols, src, v.RowStride, groups, invs[:h])
		}
		for i := range h {
			row, oi := src[i*v.RowStride:i*v.RowStride+cols], o[i*cols:(i+1)*cols]
			switch {
			case divs[i] != 0:
				for j, x := range row {
					oi[j] = quantOne(float64(x), 0, divs[i], (i0+i)*cols+j, rnd)
				}
			case rnd != nil:
				stochRow(oi, row, invs[i], (i0+i)*cols, rnd, sc)
			default:
				for j := 16 * groups; j < cols; j++ {
					oi[j] = nearest(float64(row[j]), invs[i])
				}
			}
		}
	}
	return nil
}

// tile is the side of the square blocks the column-contiguous quantiser
// transposes through: 64×64 int8 is 4 KiB, and 64 rows of float32 are
// exactly four 64-byte lines per memory row.
const tile = 64

// flushTile writes the tile in buf, jw memory rows of iw window rows, to
// out transposed (out[l·os+j] = buf[j·tile+l]), with the kernels'
// transposes of a whole tile or of a part of one when they have them.
func flushTile(out []int8, os int, buf *[tile * tile]int8, jw, iw int) {
	switch k := kern(); {
	case jw == tile && iw == tile && k.tile64 != nil:
		k.tile64(out, os, buf)
	case k.tilePart != nil:
		k.tilePart(out, os, buf, jw, iw)
	default:
		transposeTile(out, os, buf, jw, iw)
	}
}

// quantColsContig quantises a window whose rows are contiguous memory
// columns, a tile of 64 rows at a time: their maxima over every column,
// then their rounding, 64 columns a tile, transposed into out.
func quantColsContig[F float32 | float64](v View[F], out []int8, scale []float64, rnd *Noise) error {
	var buf [tile * tile]int8
	sc := new(lanes)
	for i0 := 0; i0 < v.Rows; i0 += tile {
		iw := min(tile, v.Rows-i0)
		maxes, bad := colsMax(v, i0, iw, sc)
		if bad {
			return firstBad(v)
		}
		colsRound(v, out, v.Cols, i0, iw, &maxes, rnd, &buf, sc)
		for l, m := range maxes[:iw] {
			scale[i0+l] = m / qmax
		}
	}
	return nil
}

// colsMax returns the maxima of window rows [i0, i0+iw) (iw ≤ 64) of a
// column-contiguous window over all its columns, and whether any of their
// elements is NaN or ±Inf: one 64-lane pass per memory row when the rows
// make a whole tile and the kernels have one, else 16 lanes at a time.
func colsMax[F float32 | float64](v View[F], i0, iw int, sc *lanes) (maxes [tile]float64, bad bool) {
	if iw == tile {
		if m, bad, ok := tileMax(v.Data[i0:], v.ColStride, v.Cols, sc); ok {
			return m, bad
		}
	}
	for c := 0; c < iw; c += 16 {
		w := min(16, iw-c)
		m, b := laneMax(v.Data[i0+c:], v.ColStride, v.Cols, w, sc)
		bad = bad || b
		copy(maxes[c:c+w], m[:w])
	}
	return maxes, bad
}

// colsRound rounds window rows [i0, i0+iw) of a column-contiguous window,
// given their maxima, into out, whose rows are os entries apart: element
// (i, j) goes to out[i·os+j] and, rounding stochastically, draws rnd's
// number i·os+j. os is the window's Cols, or a wider operand's when the
// window is a band of its columns (rnd's Base then names the band's first).
func colsRound[F float32 | float64](v View[F], out []int8, os, i0, iw int, maxes *[tile]float64, rnd *Noise, buf *[tile * tile]int8, sc *lanes) {
	var invs, divs [tile]float64
	noDiv := true
	for l, m := range maxes[:iw] {
		invs[l], divs[l] = factor(m)
		noDiv = noDiv && divs[l] == 0
	}
	cols := v.Cols
	switch {
	case rnd == nil && noDiv:
		for j0 := 0; j0 < cols; j0 += tile {
			jw := min(tile, cols-j0)
			src := v.Data[j0*v.ColStride+i0:]
			if iw != tile || !tileNear(buf[:], tile, src, v.ColStride, jw, &invs) {
				for c := 0; c < iw; c += 16 {
					bufNear(buf[c:], tile, src[c:], v.ColStride, jw, min(16, iw-c), (*[16]float64)(invs[c:c+16]))
				}
			}
			flushTile(out[i0*os+j0:], os, buf, jw, iw)
		}
	case noDiv:
		// Stochastic rounding, through the same tiles: window row i0+c+l,
		// column j is element (i0+c+l)·os+j, so its counter steps by
		// Golden down a tile's memory rows.
		for j0 := 0; j0 < cols; j0 += tile {
			jw := min(tile, cols-j0)
			src := v.Data[j0*v.ColStride+i0:]
			for c := 0; c < iw; c += 16 {
				for l := range sc.z {
					sc.z[l] = rnd.counter((i0+c+l)*os + j0)
				}
				bufStoch(buf[c:], tile, src[c:], v.ColStride, jw, min(16, iw-c), (*[16]float64)(invs[c:c+16]), &sc.z, Golden)
			}
			flushTile(out[i0*os+j0:], os, buf, jw, iw)
		}
	default:
		for j := range cols {
			col := v.Data[j*v.ColStride+i0 : j*v.ColStride+i0+iw]
			for l, x := range col {
				i := i0 + l
				out[i*os+j] = quantOne(float64(x), invs[l], divs[l], i*os+j, rnd)
			}
		}
	}
}
