// Package parallel spreads a loop over the cores. The callers' results never
// depend on how the loop is cut or on which goroutine runs which part: every
// element is computed the same wherever it lands.
//
// Work is handed out from a shared counter, and the calling goroutine starts
// on it at once instead of waiting for helpers. A helper that starts late (on
// a virtual machine, waking an idle core can take longer than a whole small
// loop) takes whatever is left, or finds nothing and leaves, and nobody waits
// for a helper that took nothing: a loop takes about as long as the calling
// goroutine alone would at most, plus the rest of an item a helper is still
// on.
package parallel

import (
	"runtime"
	"sync/atomic"
)

// For calls fn(worker, item) once for every item in [0, items), on up to
// Workers(items) goroutines; worker, in [0, Workers(items)), tells them apart
// (for per-worker scratch), and the calling goroutine is worker 0. Items are
// handed out in increasing order. For returns when every call has returned.
func For(items int, fn func(worker, item int)) {
	workers := Workers(items)
	if workers <= 1 {
		for it := range items {
			fn(0, it)
		}
		return
	}
	var next, done atomic.Int64
	finished := make(chan struct{})
	work := func(w int) {
		for {
			it := next.Add(1) - 1
			if it >= int64(items) {
				return
			}
			fn(w, int(it))
			if done.Add(1) == int64(items) {
				close(finished)
			}
		}
	}
	for w := 1; w < workers; w++ {
		go work(w)
	}
	work(0)
	<-finished
}

// Workers is the most goroutines For would use for items: GOMAXPROCS, or
// fewer when there are fewer items, and at least one.
func Workers(items int) int { return max(1, min(runtime.GOMAXPROCS(0), items)) }

// chunksPerWorker is how many pieces Range cuts a loop into per goroutine:
// enough that a helper arriving late still finds a share to take, few
// enough that handing them out costs nothing measurable.
const chunksPerWorker = 4

// Range calls fn on disjoint ranges covering [0, n) (For on consecutive
// pieces), each at least grain long (a single call fn(0, n) when n is below
// two grains).
func Range(n, grain int, fn func(lo, hi int)) {
	pieces := n / max(grain, 1)
	if Workers(pieces) <= 1 {
		fn(0, n)
		return
	}
	pieces = min(pieces, chunksPerWorker*Workers(pieces))
	For(pieces, func(_, c int) { fn(c*n/pieces, (c+1)*n/pieces) })
}
