// Package peak measures this CPU's int8 multiply-accumulate ceiling: a loop of
// independent VPDPBUSD instructions with no loads, on every core at once. It
// is the figure the GEMM kernel's efficiency is quoted against.
package peak

import (
	"runtime"
	"sync"
	"time"
)

// Int8GMACs runs the VPDPBUSD loop on GOMAXPROCS goroutines for about d and
// returns the int8 multiply-accumulates per second, in billions; 0 where the
// CPU has no AVX-512 VNNI.
func Int8GMACs(d time.Duration) float64 {
	if !available() {
		return 0
	}
	// Calibrate one goroutine's iteration count to about d.
	iters := 1 << 16
	for {
		start := time.Now()
		vnniLoop(iters)
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
			vnniLoop(iters)
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	return float64(procs) * float64(iters) * macsPerIter / el / 1e9
}
