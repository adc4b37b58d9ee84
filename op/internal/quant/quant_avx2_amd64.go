//go:build amd64 && !purego

package quant

import (
	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

// hasAVX2 switches on the AVX2 lane kernels (quant_avx2_amd64.s), which
// run where AVX-512 does not (kern prefers those). Tests switch it through
// package impl.
var hasAVX2 = cpu.X86.HasAVX2

func init() { impl.Register("quant", "avx2", &hasAVX2) }

// avx2Kernels handle whole groups of 16 lanes in assembly, and 64 lanes at
// once for whole tile rows. A ragged group (w < 16) is read through masked
// loads where its writes have room for 16 bytes (absmax writes nothing, the
// tile buffers have room); elsewhere it runs in Go: AVX2 has no byte-masked
// store.
var avx2Kernels = laneKernels{
	name:        "avx2",
	absmax32:    absmax32AVX2,
	absmax64:    absmax64AVX2,
	near32:      near32AVX2,
	near64:      near64AVX2,
	absmax32x64: absmax32x64AVX2,
	near32x64:   near32x64AVX2,
	near32Pad:   near32PadAVX2,
	stoch32:     stoch32AVX2,
	stoch32Pad:  stoch32PadAVX2,
	tile64:      tile64AVX2,
	tilePart:    tilePartAVX2,
	deq32:       deq32AVX2,
	deq64:       deq64AVX2,
	rowsMax32:   rowsMax32AVX2,
	rowsNear32:  rowsNear32AVX2,
}

//go:noescape
func absmaxEachRow32AVX2(src *float32, stride, groups, rows int, out *uint32)

//go:noescape
func nearEachRow32AVX2(dst *int8, ds int, src *float32, ss, groups, rows int, inv *float64)

// rowsMax32AVX2 and rowsNear32AVX2 bounds-check the last row's last entry
// the assembly touches, then run it over len(out) (len(inv)) rows.
func rowsMax32AVX2(src []float32, stride, groups int, out []uint32) {
	if len(out) == 0 || groups <= 0 {
		clear(out)
		return
	}
	_ = src[(len(out)-1)*stride+16*groups-1]
	absmaxEachRow32AVX2(&src[0], stride, groups, len(out), &out[0])
}

func rowsNear32AVX2(dst []int8, ds int, src []float32, ss, groups int, inv []float64) {
	if len(inv) == 0 || groups <= 0 {
		return
	}
	_ = src[(len(inv)-1)*ss+16*groups-1]
	_ = dst[(len(inv)-1)*ds+16*groups-1]
	nearEachRow32AVX2(&dst[0], ds, &src[0], ss, groups, len(inv), &inv[0])
}

func absmax32x64AVX2(src []float32, stride, rows int, acc *[tile]uint32) {
	_ = src[(rows-1)*stride+tile-1]
	absmaxRows32x64AVX2(&src[0], stride, rows, acc)
}

func near32x64AVX2(dst []int8, ds int, src []float32, ss, rows int, inv *[tile]float64) {
	_ = src[(rows-1)*ss+tile-1]
	_ = dst[(rows-1)*ds+tile-1]
	nearRows32x64AVX2(&dst[0], ds, &src[0], ss, rows, inv)
}

//go:noescape
func nearRows32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64)

//go:noescape
func nearRows64AVX2(dst *int8, ds int, src *float64, ss, rows int, inv *[16]float64)

//go:noescape
func absmaxRows32AVX2(src *float32, stride, rows int, acc *[16]uint32)

//go:noescape
func absmaxRows64AVX2(src *float64, stride, rows int, acc *[16]uint64)

//go:noescape
func dequantRow32AVX2(y *float32, c *int32, sb *float64, s float64, blocks int, incr bool)

//go:noescape
func dequantRow64AVX2(y *float64, c *int32, sb *float64, s float64, blocks int, incr bool)

// The wrappers bounds-check the last lane of the last row, then call
// assembly, which reads and writes exactly 16 lanes a row.

func absmax32AVX2(src []float32, stride, rows, w int, acc *[16]uint32) {
	switch {
	case rows <= 0 || w <= 0 || w > 16:
		absmaxGo(src, stride, rows, w, acc)
	case w < 16:
		_ = src[(rows-1)*stride+w-1]
		absmaxRowsMask32AVX2(&src[0], stride, rows, &laneMasks[w], acc)
	default:
		_ = src[(rows-1)*stride+15]
		absmaxRows32AVX2(&src[0], stride, rows, acc)
	}
}

// laneMasks[w] selects lanes [0, w) for the masked loads of ragged groups.
var laneMasks = func() (m [17][16]int32) {
	for w := range m {
		for l := 0; l < w; l++ {
			m[w][l] = -1
		}
	}
	return m
}()

//go:noescape
func absmaxRowsMask32AVX2(src *float32, stride, rows int, mask *[16]int32, acc *[16]uint32)

//go:noescape
func nearRowsMask32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64, mask *[16]int32)

//go:noescape
func stochRowsMask32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64, z *[16]uint64, zstep uint64, mask *[16]int32)

// near32PadAVX2 is near32AVX2 for a group of w ≤ 16 lanes whose dst rows
// have room for 16 bytes: ragged groups are read through masks.
func near32PadAVX2(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64) {
	if w == 16 || rows <= 0 || w <= 0 || w > 16 {
		near32AVX2(dst, ds, src, ss, rows, w, inv)
		return
	}
	_ = src[(rows-1)*ss+w-1]
	_ = dst[(rows-1)*ds+15]
	nearRowsMask32AVX2(&dst[0], ds, &src[0], ss, rows, inv, &laneMasks[w])
}

// stoch32PadAVX2 is stoch32AVX2 for a group of w ≤ 16 lanes whose dst rows
// have room for 16 bytes.
func stoch32PadAVX2(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64, z *[16]uint64, zstep uint64) {
	if w <= 0 || w > 16 || rows <= 0 {
		stochGo(dst, ds, src, ss, rows, w, inv, z, zstep)
		return
	}
	_ = src[(rows-1)*ss+w-1]
	_ = dst[(rows-1)*ds+15]
	stochRowsMask32AVX2(&dst[0], ds, &src[0], ss, rows, inv, z, zstep, &laneMasks[w])
}

func absmax64AVX2(src []float64, stride, rows, w int, acc *[16]uint64) {
	if w != 16 || rows <= 0 {
		absmaxGo(src, stride, rows, w, acc)
		return
	}
	_ = src[(rows-1)*stride+15]
	absmaxRows64AVX2(&src[0], stride, rows, acc)
}

func near32AVX2(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64) {
	if w != 16 || rows <= 0 {
		nearGo(dst, ds, src, ss, rows, w, inv)
		return
	}
	_ = src[(rows-1)*ss+15]
	_ = dst[(rows-1)*ds+15]
	nearRows32AVX2(&dst[0], ds, &src[0], ss, rows, inv)
}

func near64AVX2(dst []int8, ds int, src []float64, ss, rows, w int, inv *[16]float64) {
	if w != 16 || rows <= 0 {
		nearGo(dst, ds, src, ss, rows, w, inv)
		return
	}
	_ = src[(rows-1)*ss+15]
	_ = dst[(rows-1)*ds+15]
	nearRows64AVX2(&dst[0], ds, &src[0], ss, rows, inv)
}

//go:noescape
func nearRows32x64AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[tile]float64)

//go:noescape
func absmaxRows32x64AVX2(src *float32, stride, rows int, acc *[tile]uint32)

//go:noescape
func stochRows32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64, z *[16]uint64, zstep uint64)

func stoch32AVX2(dst []int8, ds int, src []float32, ss, rows int, inv *[16]float64, z *[16]uint64, zstep uint64) {
	_ = src[(rows-1)*ss+15]
	_ = dst[(rows-1)*ds+15]
	stochRows32AVX2(&dst[0], ds, &src[0], ss, rows, inv, z, zstep)
}

//go:noescape
func transposeTileAVX2(dst *int8, os int, src *[tile * tile]int8, jw, iw int)

func tile64AVX2(out []int8, os int, t *[tile * tile]int8) {
	_ = out[(tile-1)*os+tile-1]
	transposeTileAVX2(&out[0], os, t, tile, tile)
}

// tilePartAVX2 is transposeTile for any jw × iw: the part of 8-row and
// 32-column blocks in assembly (a convolution's 32 channels make tiles of
// 32 columns), the rest byte by byte.
func tilePartAVX2(out []int8, os int, t *[tile * tile]int8, jw, iw int) {
	j8, l32 := jw&^7, iw&^31
	if j8 == 0 || l32 == 0 {
		transposeTile(out, os, t, jw, iw)
		return
	}
	_ = out[(iw-1)*os+jw-1]
	transposeTileAVX2(&out[0], os, t, j8, l32)
	for l := range iw {
		j0 := j8 // rows l ≥ l32 take every source row, the others the last jw−j8
		if l >= l32 {
			j0 = 0
		}
		for j := j0; j < jw; j++ {
			out[l*os+j] = t[j*tile+l]
		}
	}
}

func deq32AVX2(y []float32, c []int32, sb []float64, s float64, incr bool) int {
	return deqBlocks(y, c, sb, s, incr, dequantRow32AVX2)
}

func deq64AVX2(y []float64, c []int32, sb []float64, s float64, incr bool) int {
	return deqBlocks(y, c, sb, s, incr, dequantRow64AVX2)
}
