//go:build amd64 && !purego

package gemm

import "testing"

// BenchmarkKernel2L1 times the AVX2 microkernel alone, one goroutine, on a
// 4×16 block whose operands (4 rows and a panel of 256 pair steps, 18 KiB)
// stay in L1: the kernel's own ceiling, to set beside the VPMADDWD+VPADDD
// peak of one core (go run ./bench measures it on all cores), without and
// with the transcript (16 chunks of 16 pair steps: r = 32).
func BenchmarkKernel2L1(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2")
	}
	const steps = 256
	a := make([]int16, 4*2*steps)
	panel := make([]int16, 32*steps)
	for i := range a {
		a[i] = int16(i%127 - 63)
	}
	for i := range panel {
		panel[i] = int16(i%113 - 56)
	}
	var out [64]int32
	var lanes jackLanes
	var tile Jackpot
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			kernel2(&a[0], 2*2*steps, &panel[0], 0, 0, steps, &out[0], 16, nil, nil)
		}
		b.ReportMetric(float64(4*16*2*steps)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
	b.Run("transcript", func(b *testing.B) {
		for b.Loop() {
			kernel2(&a[0], 2*2*steps, &panel[0], 16, steps/16, 0, &out[0], 16, &lanes, &tile)
		}
		b.ReportMetric(float64(4*16*2*steps)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
}
