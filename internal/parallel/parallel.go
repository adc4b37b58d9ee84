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
//
// The helpers are long-lived goroutines that, after a loop, watch for the
// next one for a short while (spinWait) before they sleep: a mined product
// is a chain of short parallel phases, and a core that went to sleep between
// two of them is a core woken again for the next (80–130 µs on the virtual
// machines measured, longer than many phases).
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinWait is how long a helper watches for the next loop, and a caller for
// its helpers' last items, before sleeping.
//
// About half what waking a sleeping core costs on the machines measured:
// enough to bridge the gaps between a product's phases and between the
// products of a training step (MNIST's MLP epoch 0.93× against no spinning,
// for 3–6 % more CPU time; 20, 50, 100 and 300 µs measured alike within the
// noise, the CPU growing with the wait).
const spinWait = 50 * time.Microsecond

// job is one For loop.
type job struct {
	seq      uint64 // tells loops apart without holding on to them
	items    int64
	workers  int32
	fn       func(worker, item int)
	next     atomic.Int64 // the next item to hand out
	done     atomic.Int64 // items finished
	ids      atomic.Int32 // worker ids handed to helpers so far
	finished chan struct{}
}

// work runs items of j as worker w until none is left.
func (j *job) work(w int) {
	for {
		it := j.next.Add(1) - 1
		if it >= j.items {
			return
		}
		j.fn(w, int(it))
		if j.done.Add(1) == j.items {
			close(j.finished)
		}
	}
}

// helpers is the pool of long-lived helper goroutines.
var helpers struct {
	mu      sync.Mutex
	started int                 // goroutines started
	offer   atomic.Pointer[job] // the newest loop, nil when there is none
	loops   atomic.Uint64       // loops offered so far
	asleep  atomic.Int32        // helpers blocked on wake
	wake    chan struct{}
}

// ensureHelpers starts helpers until there are n.
func ensureHelpers(n int) {
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	if helpers.wake == nil {
		helpers.wake = make(chan struct{}, 1024)
	}
	for ; helpers.started < n; helpers.started++ {
		go helperLoop()
	}
}

// helperLoop joins every loop on offer it has not seen, then waits for the
// next: spinning for spinWait, then asleep until For wakes it. It keeps
// loops by number only: a loop, and what its fn holds, are let go of when
// the loop ends.
func helperLoop() {
	var seen uint64 // the last loop joined
	for {
		if j := helpers.offer.Load(); j != nil && j.seq != seen {
			seen = j.seq
			if w := j.ids.Add(1); w < j.workers {
				j.work(int(w))
			}
			continue
		}
		news := func() bool { j := helpers.offer.Load(); return j != nil && j.seq != seen }
		if spinUntil(news) {
			continue
		}
		helpers.asleep.Add(1)
		if !news() { // For offers, then counts sleepers
			<-helpers.wake
		}
		helpers.asleep.Add(-1)
	}
}

// spinUntil polls cond for up to spinWait, yielding the processor now and
// then, and reports whether it came true.
func spinUntil(cond func() bool) bool {
	start := time.Now()
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		pause()
		if i%64 == 63 {
			if time.Since(start) > spinWait {
				return false
			}
			runtime.Gosched()
		}
	}
}

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
	ensureHelpers(workers - 1)
	j := &job{seq: helpers.loops.Add(1), items: int64(items), workers: int32(workers), fn: fn, finished: make(chan struct{})}
	helpers.offer.Store(j)
	for n := helpers.asleep.Load(); n > 0; n-- {
		select {
		case helpers.wake <- struct{}{}:
		default:
		}
	}
	j.work(0)
	if !spinUntil(func() bool { return j.done.Load() == j.items }) {
		<-j.finished
	}
	// Let go of fn (and what it holds) unless a newer loop is on offer.
	helpers.offer.CompareAndSwap(j, nil)
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
