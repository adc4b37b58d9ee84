// Package bufcache keeps a few large scratch buffers alive between matrix
// products. A mined product needs operand-sized scratch (noisy operands,
// packed panels) for a few milliseconds; allocating it afresh costs page
// faults and zeroing comparable to the work itself, and sync.Pool is emptied
// by every garbage collection, which large products trigger often.
package bufcache

import "sync"

// Cache holds up to Max idle buffers. The zero value is not usable; use New.
type Cache[T any] struct {
	mu   sync.Mutex
	max  int
	free [][]T
}

// New returns a cache that keeps at most max idle buffers.
func New[T any](max int) *Cache[T] { return &Cache[T]{max: max} }

// Get returns a buffer of length n: the smallest idle one large enough, or a
// new one. Its contents are arbitrary.
func (c *Cache[T]) Get(n int) []T {
	c.mu.Lock()
	best := -1
	for i, b := range c.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(c.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := c.free[best]
		c.free = append(c.free[:best], c.free[best+1:]...)
		c.mu.Unlock()
		return b[:n]
	}
	c.mu.Unlock()
	return make([]T, n)
}

// Put gives b back. When the cache is full the smallest buffer is dropped,
// so the cache converges on the sizes of the largest products in use.
func (c *Cache[T]) Put(b []T) {
	if cap(b) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.free) < c.max {
		c.free = append(c.free, b)
		return
	}
	small := 0
	for i := range c.free {
		if cap(c.free[i]) < cap(c.free[small]) {
			small = i
		}
	}
	if cap(b) > cap(c.free[small]) {
		c.free[small] = b
	}
}
