package quant

import "math"

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
	// absmax32x64 and near32x64 are absmax32 and near32 on 64 lanes, a
	// whole tile row (nil: four calls of 16 lanes).
	absmax32x64 func(src []float32, stride, rows int, acc *[tile]uint32)
	near32x64   func(dst []int8, ds int, src []float32, ss, rows int, inv *[tile]float64)
	// near32Pad and stoch32Pad are near32 and stochGo for float32 and any
	// w ≤ 16, writing all 16 bytes of each dst row, which must have room:
	// for the tiles of the column-contiguous quantiser (nil: near32, stochGo).
	near32Pad  func(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64)
	stoch32Pad func(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64, z *[16]uint64, zstep uint64)
	// stoch32 is stochGo for float32 and 16 lanes (nil: stochGo).
	stoch32 func(dst []int8, ds int, src []float32, ss, rows int, inv *[16]float64, z *[16]uint64, zstep uint64)
	// tile64 is transposeTile for a whole tile (nil: transposeTile), and
	// tilePart for any part of one (nil: transposeTile).
	tile64   func(out []int8, os int, t *[tile * tile]int8)
	tilePart func(out []int8, os int, t *[tile * tile]int8, jw, iw int)
	// deq dequantises a prefix of a row (dequantRow's loop) and returns its
	// length (nil: none).
	deq32 func(y []float32, c []int32, sb []float64, s float64, incr bool) int
	deq64 func(y []float64, c []int32, sb []float64, s float64, incr bool) int
	// rowsMax32 sets out[i] to the largest magnitude bits among the first
	// 16·groups entries of row i (rows stride apart), and rowsNear32 rounds
	// those entries to dst (rows ds apart) with row i's multiplier inv[i]:
	// a block of whole rows a call, for the many short rows of an im2col
	// operand, which per-row calls of the 16-lane kernels spend most of
	// their time setting up (nil: per-row calls).
	rowsMax32  func(src []float32, stride, groups int, out []uint32)
	rowsNear32 func(dst []int8, ds int, src []float32, ss, groups int, inv []float64)
}

// goKernels are the portable kernels: the fallback when no assembly runs.
var goKernels = laneKernels{
	name:     "go",
	absmax32: absmaxGo[float32, uint32],
	absmax64: absmaxGo[float64, uint64],
	near32:   nearGo[float32],
	near64:   nearGo[float64],
}

// kern returns the lane kernels to run now: the AVX-512 ones while the
// boolean registered with package impl (hasAVX512) is on, else the AVX2
// ones while hasAVX2 is, which they are wherever the CPU supports them
// unless a test switched them off. It is read
// at every call, one load and a branch, so switching takes effect at once.
func kern() *laneKernels {
	switch {
	case hasAVX512:
		return &asmKernels
	case hasAVX2:
		return &avx2Kernels
	}
	return &goKernels
}

// absBits returns the bits of |x|.
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

// lanes is the per-call scratch of the lane kernels. The kernels are
// called through function values, so arrays passed to them by address
// escape: one heap object per quantiser call, not one per row.
type lanes struct {
	tile32 [tile]uint32
	acc32  [16]uint32
	acc64  [16]uint64
	inv    [16]float64
	z      [16]uint64
}

// laneMax returns the maxima of lanes [0, w) over rows, as float64, and
// whether any element is NaN or ±Inf.
func laneMax[F float32 | float64](src []F, stride, rows, w int, sc *lanes) (m [16]float64, bad bool) {
	switch s := any(src).(type) {
	case []float32:
		kern().absmax32(s, stride, rows, w, &sc.acc32)
		for l, b := range sc.acc32[:w] {
			bad = bad || b >= 0x7f800000
			m[l] = float64(math.Float32frombits(b))
		}
	case []float64:
		kern().absmax64(s, stride, rows, w, &sc.acc64)
		for l, b := range sc.acc64[:w] {
			bad = bad || b >= 0x7ff0000000000000
			m[l] = math.Float64frombits(b)
		}
	}
	return m, bad
}

// stochGo rounds stochastically, lane by lane: dst[r·ds+l] takes
// src[r·ss+l]·inv[l] plus the uniform number of counter z[l] + r·zstep,
// floored (roundStochastic). A Noise's element idx has the counter
// Key + (Base+idx)·Golden, so a run of elements whose indices step evenly
// has counters that step evenly too.
func stochGo[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64, z *[16]uint64, zstep uint64) {
	for r := range rows {
		s, d := src[r*ss:r*ss+w], dst[r*ds:r*ds+w]
		for l, x := range s {
			u := float64(Mix64(z[l]+uint64(r)*zstep)>>11) * 0x1p-53
			d[l] = roundStochastic(float64(x), inv[l], u)
		}
	}
}

// laneStoch is stochGo on the kernels of this CPU.
func laneStoch[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64, z *[16]uint64, zstep uint64) {
	if s, ok := any(src).([]float32); ok && w == 16 && rows > 0 && kern().stoch32 != nil {
		kern().stoch32(dst, ds, s, ss, rows, inv, z, zstep)
		return
	}
	stochGo(dst, ds, src, ss, rows, w, inv, z, zstep)
}

// bufNear and bufStoch are laneNear and laneStoch into a tile buffer,
// whose rows have room for 16 bytes whatever w: a ragged group runs on the
// kernels' padded forms where they have them.
func bufNear[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64) {
	if s, ok := any(src).([]float32); ok && w < 16 && kern().near32Pad != nil {
		kern().near32Pad(dst, ds, s, ss, rows, w, inv)
		return
	}
	laneNear(dst, ds, src, ss, rows, w, inv)
}

func bufStoch[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64, z *[16]uint64, zstep uint64) {
	if s, ok := any(src).([]float32); ok && w < 16 && kern().stoch32Pad != nil {
		kern().stoch32Pad(dst, ds, s, ss, rows, w, inv, z, zstep)
		return
	}
	laneStoch(dst, ds, src, ss, rows, w, inv, z, zstep)
}

// tileMax is laneMax over a whole tile row of 64 lanes, in one pass when
// the kernels have one; ok is false when they do not.
func tileMax[F float32 | float64](src []F, stride, rows int, sc *lanes) (m [tile]float64, bad, ok bool) {
	s, is32 := any(src).([]float32)
	if !is32 || kern().absmax32x64 == nil || rows <= 0 {
		return m, false, false
	}
	kern().absmax32x64(s, stride, rows, &sc.tile32)
	for l, b := range sc.tile32 {
		bad = bad || b >= 0x7f800000
		m[l] = float64(math.Float32frombits(b))
	}
	return m, bad, true
}

// tileNear is laneNear over a whole tile row of 64 lanes, in one pass when
// the kernels have one; it reports whether they did.
func tileNear[F float32 | float64](dst []int8, ds int, src []F, ss, rows int, inv *[tile]float64) bool {
	s, is32 := any(src).([]float32)
	if !is32 || kern().near32x64 == nil || rows <= 0 {
		return false
	}
	kern().near32x64(dst, ds, s, ss, rows, inv)
	return true
}

func laneNear[F float32 | float64](dst []int8, ds int, src []F, ss, rows, w int, inv *[16]float64) {
	switch s := any(src).(type) {
	case []float32:
		kern().near32(dst, ds, s, ss, rows, w, inv)
	case []float64:
		kern().near64(dst, ds, s, ss, rows, w, inv)
	}
}
