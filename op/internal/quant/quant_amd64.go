//go:build amd64 && !purego

package quant

import (
	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

// hasAVX512 switches on the AVX-512 lane kernels (quant_amd64.s): F for the
// arithmetic, BW and VL for the byte stores, DQ for the 256-bit halves.
// Tests switch it off through package impl to run the Go kernels.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ

func init() { impl.Register("quant", "avx512", &hasAVX512) }

// asmKernels are the AVX-512 lane kernels, run while hasAVX512 is on (kern).
var asmKernels = laneKernels{
	name:     "avx512",
	absmax32: absmax32AVX512,
	absmax64: absmax64AVX512,
	near32:   near32AVX512,
	near64:   near64AVX512,
	tile64:   tile64AVX512,
	stoch32:  stoch32AVX2, // AVX2 code: every AVX-512 CPU has AVX2
	deq32:    deq32AVX512,
	deq64:    deq64AVX512,
}

// laneMask is the mask of lanes [0, w).
func laneMask(w int) uint16 { return uint16(1<<w - 1) }

//go:noescape
func absmaxLanes32(src *float32, stride, rows int, mask uint16, acc *[16]uint32)

//go:noescape
func absmaxLanes64(src *float64, stride, rows int, mask uint16, acc *[16]uint64)

//go:noescape
func nearLanes32(dst *int8, ds int, src *float32, ss, rows int, mask uint16, inv *[16]float64)

//go:noescape
func nearLanes64(dst *int8, ds int, src *float64, ss, rows int, mask uint16, inv *[16]float64)

// The wrappers bounds-check the last lane of the last row (the masked
// loads and stores never touch lanes at or beyond w), then call assembly.

func absmax32AVX512(src []float32, stride, rows, w int, acc *[16]uint32) {
	if rows <= 0 {
		*acc = [16]uint32{}
		return
	}
	_ = src[(rows-1)*stride+w-1]
	absmaxLanes32(&src[0], stride, rows, laneMask(w), acc)
}

func absmax64AVX512(src []float64, stride, rows, w int, acc *[16]uint64) {
	if rows <= 0 {
		*acc = [16]uint64{}
		return
	}
	_ = src[(rows-1)*stride+w-1]
	absmaxLanes64(&src[0], stride, rows, laneMask(w), acc)
}

func near32AVX512(dst []int8, ds int, src []float32, ss, rows, w int, inv *[16]float64) {
	if rows <= 0 {
		return
	}
	_ = src[(rows-1)*ss+w-1]
	_ = dst[(rows-1)*ds+w-1]
	nearLanes32(&dst[0], ds, &src[0], ss, rows, laneMask(w), inv)
}

func near64AVX512(dst []int8, ds int, src []float64, ss, rows, w int, inv *[16]float64) {
	if rows <= 0 {
		return
	}
	_ = src[(rows-1)*ss+w-1]
	_ = dst[(rows-1)*ds+w-1]
	nearLanes64(&dst[0], ds, &src[0], ss, rows, laneMask(w), inv)
}

//go:noescape
func transposeTile64(dst *int8, os int, src *[tile * tile]int8)

func tile64AVX512(out []int8, os int, t *[tile * tile]int8) {
	_ = out[(tile-1)*os+tile-1]
	transposeTile64(&out[0], os, t)
}

//go:noescape
func dequantRow32(y *float32, c *int32, sb *float64, s float64, blocks int, incr bool)

//go:noescape
func dequantRow64(y *float64, c *int32, sb *float64, s float64, blocks int, incr bool)

// deqBlocks runs an assembly dequantiser over the whole blocks of 8 of a
// row and returns how many entries it did; the caller finishes the row.
func deqBlocks[F float32 | float64](y []F, c []int32, sb []float64, s float64, incr bool,
	row func(y *F, c *int32, sb *float64, s float64, blocks int, incr bool)) int {
	n := len(y) &^ 7
	if n == 0 {
		return 0
	}
	_, _ = c[n-1], sb[n-1]
	row(&y[0], &c[0], &sb[0], s, n/8, incr)
	return n
}

func deq32AVX512(y []float32, c []int32, sb []float64, s float64, incr bool) int {
	return deqBlocks(y, c, sb, s, incr, dequantRow32)
}

func deq64AVX512(y []float64, c []int32, sb []float64, s float64, incr bool) int {
	return deqBlocks(y, c, sb, s, incr, dequantRow64)
}
