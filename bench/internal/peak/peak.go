// Package peak measures this CPU's vector ceilings with loops of independent
// register-only instructions (no loads), on every core at once: the figures
// the GEMM kernel's efficiency and the mining floors are quoted against.
//
// Three ceilings, each with the instructions the project's kernels use on
// this CPU (the same test as package gemm's: AVX-512 F, BW, VL and VNNI, else
// AVX2):
//
//   - Int8: exact int8 multiply-accumulates. AVX-512 VNNI: VPDPBUSD zmm (64
//     MACs). AVX2: VPMADDWD ymm on int16 pairs plus the VPADDD that
//     accumulates it (16 MACs a pair), the AVX2 kernel's inner step, since
//     VPMADDUBSW saturates and cannot multiply int8 exactly.
//   - Int16: int16 multiply-accumulates, the denoising epilogue's rate.
//     VPDPWSSD zmm (32 MACs); on AVX2 the same loop as Int8.
//   - Xor32: 32-bit lanes XORed per second, the transcript fold's unit
//     (VPXORD zmm, 16 lanes; VPXOR ymm, 8 lanes).
package peak

import (
	"runtime"
	"sync"
	"time"
)

// Kind is one ceiling.
type Kind int

const (
	Int8  Kind = iota // int8 multiply-accumulates per second
	Int16             // int16 multiply-accumulates per second
	Xor32             // 32-bit lanes XORed per second
)

// Rate runs kind's loop on GOMAXPROCS goroutines for about d and returns its
// operations per second, in billions (MACs, or lanes for Xor32); 0 where the
// CPU has neither AVX-512 VNNI nor AVX2.
func Rate(kind Kind, d time.Duration) float64 {
	l := loopFor(kind)
	if l.fn == nil {
		return 0
	}
	// Calibrate one goroutine's iteration count to about d.
	iters := 1 << 14
	for {
		start := time.Now()
		l.fn(iters)
		if el := time.Since(start); el > d/4 {
			iters = int(float64(iters) * float64(d) / float64(el))
			break
		}
		iters *= 4
	}
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	start := time.Now()
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.fn(iters)
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	return float64(procs) * float64(iters) * l.opsPerIter / el / 1e9
}

// Int8GMACs is Rate(Int8, d).
func Int8GMACs(d time.Duration) float64 { return Rate(Int8, d) }

// Instr names the instructions kind's loop runs on this CPU, e.g.
// "VPDPBUSD zmm", or "none".
func Instr(kind Kind) string {
	l := loopFor(kind)
	if l.fn == nil {
		return "none"
	}
	return l.instr
}

// loop is one measured instruction loop: fn(iters) runs iters iterations of
// opsPerIter operations.
type loop struct {
	fn         func(iters int)
	opsPerIter float64
	instr      string
}
