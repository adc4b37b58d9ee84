//go:build amd64 && !purego

package train

import (
	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

// hasAVX2 switches on the AVX2 float32 step (adam_amd64.s). Tests switch it
// off through package impl to run the Go loop.
var hasAVX2 = cpu.X86.HasAVX2

func init() { impl.Register("train", "avx2", &hasAVX2) }

// adamStep32 steps float32 elements eight at a time with AVX2 and the rest in
// Go. VMULPS, VADDPS, VDIVPS and VSQRTPS round each result to float32 as the
// Go loop's operations do (and the correctly rounded float32 square root is
// the float64 one rounded to float32), so both leave the same bits.
func adamStep32(w, g, m, v []float32, p *adamParams[float32]) {
	n := len(w) &^ 7
	if hasAVX2 && n > 0 {
		_, _, _ = g[n-1], m[n-1], v[n-1]
		k := constants32(p)
		adamStep32AVX2(&w[0], &g[0], &m[0], &v[0], n, &k)
	} else {
		n = 0
	}
	adamStep(w[n:], g[n:], m[n:], v[n:], p)
}

// constants32 lists p in the order adam_amd64.s reads it, the divisor by
// the batch as 1 where adamStep does not divide (x·1 is x exactly).
func constants32(p *adamParams[float32]) [9]float32 {
	b := p.onePerBatch
	if !p.batched {
		b = 1
	}
	return [9]float32{b, p.beta1, p.beta2, p.omb1, p.omb2, p.cv1, p.cv2, p.eps, p.negEta}
}

// adamStep32AVX2 steps n elements, n a multiple of 8, with the constants k.
//
//go:noescape
func adamStep32AVX2(w, grad, m, v *float32, n int, k *[9]float32)
