// Package parallel cuts a loop over [0, n) into one range per core. The
// callers' results never depend on the cut: every element is computed the
// same whichever range holds it.
package parallel

import (
	"runtime"
	"sync"
)

// Range calls fn on disjoint ranges covering [0, n), on up to GOMAXPROCS
// goroutines, each range at least grain long (a single call fn(0, n) when
// n is below two grains); the last range runs on the calling goroutine,
// which would otherwise only wait.
func Range(n, grain int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if parts <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < parts-1; p++ {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Go(func() { fn(lo, hi) })
	}
	fn((parts-1)*n/parts, n)
	wg.Wait()
}
