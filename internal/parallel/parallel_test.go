package parallel

import (
	"sync/atomic"
	"testing"
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
