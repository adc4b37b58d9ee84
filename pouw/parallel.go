package pouw

import (
	"runtime"
	"sync"
)

// parallelRange calls fn on disjoint ranges covering [0, n), on up to
// GOMAXPROCS goroutines, each range at least grain long; the last range
// runs on the calling goroutine, which would otherwise only wait. The
// results of the callers never depend on the split.
func parallelRange(n, grain int, fn func(lo, hi int)) {
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
