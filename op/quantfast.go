package op

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The fast quantiser. quantPart (quant.go) is the reference: one element at
// a time, clear enough to audit. quantPartFast computes the same bits with
// two kinds of layout-aware loops built on 16-lane kernels, which are
// AVX-512 assembly where the CPU has it (quant_amd64.s) and plain Go
// elsewhere (the same kernels, goKernels):
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
// Stochastic rounding and rows whose 64/max overflows take the reference's
// per-element quantOne inside the same layouts.

// quantImpl selects the quantiser quantRows uses.
type quantImpl uint8

const (
	implFast quantImpl = iota // quantPartFast with kern
	implRef                   // quantPart, the reference loops
)

// quantUse is the quantiser in use; tests switch it (never in parallel).
var quantUse = implFast

// laneKernels work on rows of up to 16 lanes: rows·stride apart in src,
// lanes [0, w) of each, 1 ≤ w ≤ 16.
type laneKernels struct {
	name string
	// absmax sets acc[l] to the largest |src[r·stride+l]| bits over the rows
	// (0 for l ≥ w and for rows = 0).
	absmax32 func(src []float32, stride, rows, w int, acc *[16]uint32)
	absmax64 func(src []float64, stride, rows, w int, acc *[16]uint64)
	// near sets dst[r·ds+l] = nearest(src[r·ss+l], inv[l]) for l < w.
	near32 func(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64)
	near64 func(dst []int8, ds int, src []float64, ss, rows, w int, inv *[16]float64)
	// tile64 is transposeTile for a whole tile (nil: transposeTile).
	tile64 func(out []int8, os int, t *[tile * tile]int8)
	// deq dequantises a prefix of a row (dequantRow's loop) and returns its
	// length (nil: none).
	deq32 func(y []float32, c []int32, sb []float64, s float64, incr bool) int
	deq64 func(y []float64, c []int32, sb []float64, s float64, incr bool) int
}

// goKernels are the portable kernels (and the fallback when no assembly
// runs); kern is what quantPartFast uses, set in init on capable CPUs.
var (
	goKernels = laneKernels{
		name:     "go",
		absmax32: absmaxGo[float32, uint32],
		absmax64: absmaxGo[float64, uint64],
		near32:   nearGo[float32],
		near64:   nearGo[float64],
	}
	kern = goKernels
)

// bitsOf returns the bits of |x|.
func absBits[F float32 | float64, U uint32 | uint64](x F) U {
	switch x := any(x).(type) {
	case float32:
		return U(math.Float32bits(x) &^ (1 << 31))
	case float64:
		return U(math.Float64bits(x) &^ (1 << 63))
	}
	panic("unreachable")
}

func absmaxGo[F float32 | float64, U uint32 | uint64](src []F, stride, rows, w int, acc *[16]U) {
	*acc = [16]U{}
	for r := range rows {
		row := src[r*stride : r*stride+w]
		for l, x := range row {
			acc[l] = max(acc[l], absBits[F, U](x))
		}
	}
}

func nearGo[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64) {
	for r := range rows {
		s, d := src[r*ss:r*ss+w], dst[r*ds:r*ds+w]
		for l, x := range s {
			d[l] = nearest(float64(x), inv[l])
		}
	}
}

// laneMax returns the maxima of lanes [0, w) over rows, as float64, and
// whether any element is NaN or ±Inf.
func laneMax[F float32 | float64](src []F, stride, rows, w int) (m [16]float64, bad bool) {
	switch s := any(src).(type) {
	case []float32:
		var acc [16]uint32
		kern.absmax32(s, stride, rows, w, &acc)
		for l, b := range acc[:w] {
			bad = bad || b >= 0x7f800000
			m[l] = float64(math.Float32frombits(b))
		}
	case []float64:
		var acc [16]uint64
		kern.absmax64(s, stride, rows, w, &acc)
		for l, b := range acc[:w] {
			bad = bad || b >= 0x7ff0000000000000
			m[l] = math.Float64frombits(b)
		}
	}
	return m, bad
}

func laneNear[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64) {
	switch s := any(src).(type) {
	case []float32:
		kern.near32(dst, ds, s, ss, rows, w, inv)
	case []float64:
		kern.near64(dst, ds, s, ss, rows, w, inv)
	}
}

// shortRow is the row length below which the scalar loops beat the vector
// kernels: their per-call setup costs more than a short row (an im2col
// operand of a 3×3 convolution has rows of 9).
const shortRow = 32

// rowMax is the largest magnitude of a contiguous row, seen as rows of 16.
func rowMax[F float32 | float64](row []F) (float64, bool) {
	if len(row) < shortRow {
		return rowMaxScalar(row)
	}
	n := len(row) / 16
	m, bad := laneMax(row, 16, n, 16)
	if t := len(row) - 16*n; t > 0 {
		mt, badt := laneMax(row[16*n:], 0, 1, t)
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

func quantPartFast[F float32 | float64](v strided[F], out []int8, scale []float64, rnd *noise) error {
	if err := v.check(); err != nil {
		return err
	}
	switch {
	case v.cs == 1:
		return quantRowsContig(v, out, scale, rnd)
	case v.rs == 1:
		return quantColsContig(v, out, scale, rnd)
	}
	return quantPart(v, out, scale, rnd)
}

func quantRowsContig[F float32 | float64](v strided[F], out []int8, scale []float64, rnd *noise) error {
	cols := v.cols
	n := cols / 16
	for i := range v.rows {
		row := v.data[i*v.rs : i*v.rs+cols]
		m, bad := rowMax(row)
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
			var invs [16]float64
			for l := range invs {
				invs[l] = inv
			}
			laneNear(o, 16, row, 16, n, 16, &invs)
			if t := cols - 16*n; t > 0 {
				laneNear(o[16*n:], 0, row[16*n:], 0, 1, t, &invs)
			}
		case div == 0: // stochastic rounding
			base := i * cols
			for j, x := range row {
				o[j] = roundStochastic(float64(x), inv, rnd.uniform(base+j))
			}
		default:
			for j, x := range row {
				o[j] = quantOne(float64(x), inv, div, i*cols+j, rnd)
			}
		}
		scale[i] = m / qmax
	}
	return nil
}

// tile is the side of the square blocks the column-contiguous quantiser
// transposes through: 64×64 int8 is 4 KiB, and 64 rows of float32 are
// exactly four 64-byte lines per memory row.
const tile = 64

func quantColsContig[F float32 | float64](v strided[F], out []int8, scale []float64, rnd *noise) error {
	rows, cols := v.rows, v.cols
	var buf [tile * tile]int8
	for i0 := 0; i0 < rows; i0 += tile {
		iw := min(tile, rows-i0)
		var maxes [tile]float64
		var invs [tile / 16][16]float64
		var divs [tile]float64
		noDiv := true
		for c := 0; c < iw; c += 16 {
			w := min(16, iw-c)
			m, bad := laneMax(v.data[i0+c:], v.cs, cols, w)
			if bad {
				return firstBad(v)
			}
			copy(maxes[c:c+w], m[:w])
			for l := range w {
				invs[c/16][l], divs[c+l] = factor(m[l])
				noDiv = noDiv && divs[c+l] == 0
			}
		}
		switch {
		case rnd == nil && noDiv:
			for j0 := 0; j0 < cols; j0 += tile {
				jw := min(tile, cols-j0)
				for c := 0; c < iw; c += 16 {
					laneNear(buf[c:], tile, v.data[j0*v.cs+i0+c:], v.cs, jw, min(16, iw-c), &invs[c/16])
				}
				if jw == tile && iw == tile && kern.tile64 != nil {
					kern.tile64(out[i0*cols+j0:], cols, &buf)
				} else {
					transposeTile(out[i0*cols+j0:], cols, &buf, jw, iw)
				}
			}
		case noDiv:
			// Stochastic rounding, in memory order: each memory row holds
			// iw adjacent window rows.
			for j := range cols {
				col := v.data[j*v.cs+i0 : j*v.cs+i0+iw]
				for l, x := range col {
					i := i0 + l
					out[i*cols+j] = roundStochastic(float64(x), invs[l/16][l%16], rnd.uniform(i*cols+j))
				}
			}
		default:
			for j := range cols {
				col := v.data[j*v.cs+i0 : j*v.cs+i0+iw]
				for l, x := range col {
					i := i0 + l
					out[i*cols+j] = quantOne(float64(x), invs[l/16][l%16], divs[l], i*cols+j, rnd)
				}
			}
		}
		for l, m := range maxes[:iw] {
			scale[i0+l] = m / qmax
		}
	}
	return nil
}

// transposeTile sets out[l·os+j] = t[j·tile+l] for j < jw, l < iw: 8×8 byte
// blocks transposed in uint64 registers (three rounds of masked swaps), the
// ragged edges byte by byte.
func transposeTile(out []int8, os int, t *[tile * tile]int8, jw, iw int) {
	if iw > 0 && jw > 0 {
		_ = out[(iw-1)*os+jw-1]
	}
	src := unsafe.Slice((*byte)(unsafe.Pointer(t)), len(t))
	dst := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), len(out))
	le := binary.LittleEndian
	j8, l8 := jw&^7, iw&^7
	for j := 0; j < j8; j += 8 {
		for l := 0; l < l8; l += 8 {
			s := src[j*tile+l:]
			r0 := le.Uint64(s[0*tile:])
			r1 := le.Uint64(s[1*tile:])
			r2 := le.Uint64(s[2*tile:])
			r3 := le.Uint64(s[3*tile:])
			r4 := le.Uint64(s[4*tile:])
			r5 := le.Uint64(s[5*tile:])
			r6 := le.Uint64(s[6*tile:])
			r7 := le.Uint64(s[7*tile:])
			r0, r1 = swap8(r0, r1, 8, 0x00ff00ff00ff00ff)
			r2, r3 = swap8(r2, r3, 8, 0x00ff00ff00ff00ff)
			r4, r5 = swap8(r4, r5, 8, 0x00ff00ff00ff00ff)
			r6, r7 = swap8(r6, r7, 8, 0x00ff00ff00ff00ff)
			r0, r2 = swap8(r0, r2, 16, 0x0000ffff0000ffff)
			r1, r3 = swap8(r1, r3, 16, 0x0000ffff0000ffff)
			r4, r6 = swap8(r4, r6, 16, 0x0000ffff0000ffff)
			r5, r7 = swap8(r5, r7, 16, 0x0000ffff0000ffff)
			r0, r4 = swap8(r0, r4, 32, 0x00000000ffffffff)
			r1, r5 = swap8(r1, r5, 32, 0x00000000ffffffff)
			r2, r6 = swap8(r2, r6, 32, 0x00000000ffffffff)
			r3, r7 = swap8(r3, r7, 32, 0x00000000ffffffff)
			d := dst[l*os+j:]
			le.PutUint64(d[0*os:], r0)
			le.PutUint64(d[1*os:], r1)
			le.PutUint64(d[2*os:], r2)
			le.PutUint64(d[3*os:], r3)
			le.PutUint64(d[4*os:], r4)
			le.PutUint64(d[5*os:], r5)
			le.PutUint64(d[6*os:], r6)
			le.PutUint64(d[7*os:], r7)
		}
		for l := l8; l < iw; l++ {
			for jj := j; jj < j+8; jj++ {
				out[l*os+jj] = t[jj*tile+l]
			}
		}
	}
	for j := j8; j < jw; j++ {
		for l := range iw {
			out[l*os+j] = t[j*tile+l]
		}
	}
}

// swap8 exchanges the off-diagonal sub-blocks of width s bits between a and
// b: a's odd sub-blocks with b's even ones.
func swap8(a, b uint64, s uint, mask uint64) (uint64, uint64) {
	t := ((a >> s) ^ b) & mask
	return a ^ t<<s, b ^ t
}
