package bufcache

import "testing"

func TestCache(t *testing.T) {
	c := New[int8](2)
	a := c.Get(100)
	if len(a) != 100 {
		t.Fatal(len(a))
	}
	c.Put(a)
	b := c.Get(50)
	if cap(b) != cap(a) || len(b) != 50 {
		t.Fatalf("reuse: cap %d len %d", cap(b), len(b))
	}
	c.Put(b)
	c.Put(make([]int8, 10))
	c.Put(make([]int8, 1000)) // full: drops the 10
	if got := c.Get(500); cap(got) != 1000 {
		t.Fatalf("want the 1000-buffer, got cap %d", cap(got))
	}
	if got := c.Get(5); cap(got) != cap(a) {
		t.Fatalf("want the 100-buffer, got cap %d", cap(got))
	}
}
