package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRangeCoversOnce checks that every index is visited exactly once, for
// inputs below, at and far above the grain.
func TestRangeCoversOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 16, 17, 1000, 100003} {
		for _, grain := range []int{0, 1, 16, 4096} {
			seen := make([]atomic.Int32, n)
			Range(n, grain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("n=%d grain=%d: index %d visited %d times", n, grain, i, c)
				}
			}
		}
	}
}

func TestRangePiecesAtLeastGrain(t *testing.T) {
	for _, n := range []int{1, 31, 32, 33, 1000, 100003} {
		for _, grain := range []int{1, 16, 4096} {
			var calls atomic.Int32
			Range(n, grain, func(lo, hi int) {
				calls.Add(1)
				if hi-lo < grain && !(lo == 0 && hi == n) {
					t.Errorf("n=%d grain=%d: piece [%d, %d) shorter than the grain", n, grain, lo, hi)
				}
			})
			if n < 2*grain && calls.Load() != 1 {
				t.Errorf("n=%d grain=%d: %d calls, want one below two grains", n, grain, calls.Load())
			}
		}
	}
}

func TestForEveryItemOnceOnAWorker(t *testing.T) {
	for _, items := range []int{0, 1, 2, 3, 64, 1001} {
		workers := Workers(items)
		seen := make([]atomic.Int32, items)
		var done atomic.Int32
		For(items, func(w, it int) {
			if w < 0 || w >= workers {
				t.Errorf("items=%d: worker %d outside [0, %d)", items, w, workers)
			}
			seen[it].Add(1)
			done.Add(1)
		})
		// Every call has returned by now, helpers' included.
		if int(done.Load()) != items {
			t.Fatalf("items=%d: For returned after %d calls", items, done.Load())
		}
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("items=%d: item %d visited %d times", items, i, c)
			}
		}
	}
}

// TestForCallerTakesAllWhenHelpersAreLate runs For while the only other
// processor is held by a goroutine that does not yield: the helper For
// starts cannot run before the caller is done, so the caller must take every
// item itself, and For must return without the helper ever running one.
func TestForCallerTakesAllWhenHelpersAreLate(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var stop atomic.Bool
	held := make(chan struct{})
	go func() {
		close(held)
		for !stop.Load() {
		}
	}()
	<-held
	defer stop.Store(true)
	const items = 100
	var byCaller atomic.Int32
	For(items, func(w, _ int) {
		if w == 0 {
			byCaller.Add(1)
		}
	})
	if got := byCaller.Load(); got != items {
		t.Fatalf("the calling goroutine took %d of %d items; a late helper took the rest", got, items)
	}
}

// TestForConcurrentLoops runs loops from many goroutines at once, nested
// loops among them: each newer loop replaces the one the helpers are
// offered, and every loop must still run each of its items exactly once and
// return only when all have run.
func TestForConcurrentLoops(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 50 {
				items := 1 + (g*50+round)%97
				seen := make([]atomic.Int32, items)
				For(items, func(_, it int) {
					if it%31 == 0 {
						Range(100, 1, func(lo, hi int) {}) // a loop inside a loop
					}
					seen[it].Add(1)
				})
				for i := range seen {
					if c := seen[i].Load(); c != 1 {
						t.Errorf("goroutine %d round %d: item %d of %d ran %d times", g, round, i, items, c)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestForHelpersJoin checks that a helper joins every loop, whether it was
// still watching for one or had gone to sleep: the caller's item waits for
// the other item to start, which only a helper can do.
func TestForHelpersJoin(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one processor: no helper")
	}
	for round := range 20 {
		var started atomic.Bool
		For(2, func(w, _ int) {
			if w != 0 {
				started.Store(true)
				return
			}
			for deadline := time.Now().Add(5 * time.Second); !started.Load() && time.Now().Before(deadline); {
				runtime.Gosched()
			}
		})
		if !started.Load() {
			t.Fatalf("round %d: no helper joined the loop within 5 s", round)
		}
		if round%2 == 1 {
			time.Sleep(2 * time.Millisecond) // long enough for the helpers to sleep
		}
	}
}
