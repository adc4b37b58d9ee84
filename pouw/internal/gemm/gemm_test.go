package gemm

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/usefulwork/minedmatmul/internal/impl"
	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// refMul is the oracle: a plain triple loop, chunk by chunk, written from
// PROTOCOL.md §5 independently of every implementation.
func refMul(a, bt []int8, m, n, k int, g *Grid, c *Correction) ([]int32, []Jackpot) {
	dst := make([]int32, m*n)
	var jp []Jackpot
	var xs [][]uint32
	if g != nil {
		jp = make([]Jackpot, g.RowTiles*g.ColTiles)
		xs = make([][]uint32, len(jp))
		for t := range xs {
			xs[t] = make([]uint32, k/g.R)
		}
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var x []uint32
			if g != nil && i < g.RowTiles*g.H && j < g.ColTiles*g.W {
				x = xs[(i/g.H)*g.ColTiles+j/g.W]
			}
			var acc int32
			for l := 0; l < k; l++ {
				acc += int32(a[i*k+l]) * int32(bt[j*k+l])
				if g != nil && (l+1)%g.R == 0 && x != nil {
					x[(l+1)/g.R-1] ^= uint32(acc)
				}
			}
			if c != nil {
				for f := 0; f < c.Q; f++ {
					acc += int32(c.L[i*c.Q+f]) * int32(c.R[j*c.Q+f])
				}
			}
			dst[i*n+j] = acc
		}
	}
	for t := range xs {
		for s, x := range xs[t] {
			w := s % 16
			jp[t][w] = bits.RotateLeft32(jp[t][w], 13) ^ x
		}
	}
	return dst, jp
}

func randInt8(r *rand.Rand, n int, extreme bool) []int8 {
	x := make([]int8, n)
	for i := range x {
		if extreme {
			x[i] = int8(127 - 254*r.IntN(2))
		} else {
			x[i] = int8(r.IntN(255) - 127)
		}
	}
	return x
}

type shape struct {
	m, n, k int
	g       *Grid // R, H, W; tile counts are filled in
	q       int
	extreme bool
}

func shapes() []shape {
	return []shape{
		{m: 1, n: 1, k: 1},
		{m: 3, n: 5, k: 7},
		{m: 17, n: 33, k: 13},
		{m: 16, n: 16, k: 64},
		{m: 37, n: 29, k: 257, q: 6},
		{m: 9, n: 33, k: 40, q: 20},
		{m: 70, n: 50, k: 1001},
		{m: 16, n: 16, k: 32, g: &Grid{H: 16, W: 16, R: 32}},
		{m: 16, n: 16, k: 31, g: &Grid{H: 16, W: 16, R: 32}},
		{m: 33, n: 47, k: 100, g: &Grid{H: 16, W: 16, R: 32}, q: 64},
		{m: 50, n: 35, k: 200, g: &Grid{H: 10, W: 6, R: 64}, q: 8},
		{m: 48, n: 64, k: 1024, g: &Grid{H: 16, W: 16, R: 32}, q: 64, extreme: true},
		{m: 31, n: 18, k: 517, g: &Grid{H: 2, W: 16, R: 128}},
		{m: 64, n: 40, k: 4099, g: &Grid{H: 16, W: 8, R: 256}, q: 2, extreme: true},
		{m: 20, n: 17, k: 96, g: &Grid{H: 14, W: 12, R: 32}, q: 128},
	}
}

func TestImplsMatchReference(t *testing.T) {
	impltest.Run(t, testMatchesReference, "gemm")
	// The AVX2 kernel's two loop orders, each on every shape.
	if !impl.Select("gemm", "avx2") {
		return
	}
	defer impl.Reset("gemm")
	defer func(old int) { residentA = old }(residentA)
	for _, limit := range []int{0, 1 << 40} {
		residentA = limit
		t.Run(fmt.Sprintf("residentA=%d", limit), testMatchesReference)
	}
}

// poisonScratch fills the scratch caches with buffers of garbage, so that
// the next products run on recycled scratch whose contents they must not
// rely on.
func poisonScratch() {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 18} {
		b := make([]byte, 2*n)
		for i := range b {
			b[i] = 0x5a
		}
		packed.Put(b)
		w16, w32, acc := make([]int16, n), make([]uint32, n), make([]int32, n)
		for i := range w16 {
			w16[i], w32[i], acc[i] = 0x5a5a, 0x5a5a5a5a, -0x5a5a5a5a
		}
		scratch16.Put(w16)
		scratch32.Put(w32)
		scratchAcc.Put(acc)
	}
}

func testMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes() {
		poisonScratch()
		a := randInt8(r, s.m*s.k, s.extreme)
		bt := randInt8(r, s.n*s.k, s.extreme)
		var g *Grid
		if s.g != nil {
			gg := *s.g
			gg.RowTiles, gg.ColTiles = s.m/gg.H, s.n/gg.W
			g = &gg
		}
		var c *Correction
		if s.q > 0 {
			c = &Correction{Q: s.q, L: make([]int16, s.m*s.q), R: make([]int16, s.n*s.q)}
			for i := range c.L {
				c.L[i] = int16(r.IntN(65536) - 32768)
			}
			for i := range c.R {
				c.R[i] = int16(r.IntN(65536) - 32768)
			}
		}
		want, wantJ := refMul(a, bt, s.m, s.n, s.k, g, c)
		{
			for _, procs := range []int{1, 2, 7} {
				name := fmt.Sprintf("%s/%dx%dx%d/procs=%d", Name(), s.m, s.k, s.n, procs)
				old := runtime.GOMAXPROCS(procs)
				dst := make([]int32, s.m*s.n)
				for i := range dst {
					dst[i] = -1
				}
				var jp []Jackpot
				if g != nil {
					jp = make([]Jackpot, g.RowTiles*g.ColTiles)
					for i := range jp {
						jp[i][3] = 99 // must be overwritten
					}
				}
				Mul(dst, a, bt, s.m, s.n, s.k, g, jp, c)
				runtime.GOMAXPROCS(old)
				for i := range want {
					if dst[i] != want[i] {
						t.Fatalf("%s: dst[%d][%d] = %d, want %d", name, i/s.n, i%s.n, dst[i], want[i])
					}
				}
				for i := range wantJ {
					if jp[i] != wantJ[i] {
						t.Fatalf("%s: jackpot %d = %x, want %x", name, i, jp[i], wantJ[i])
					}
				}
			}
		}
	}
}

// TestSparseMulMatchesReference checks SparseMul under every implementation
// against the dense product with S written out, on ragged shapes and on
// extreme entries (±127, where int16 column sums would overflow).
func TestSparseMulMatchesReference(t *testing.T) {
	impltest.Run(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 5))
		for _, m := range []int{1, 15, 16, 17, 40} {
			for _, k := range []int{1, 2, 7, 16, 100, 785} {
				for _, r := range []int{2, 32, 128} {
					a := randInt8(rng, m*k, m == 17)
					idx := make([]uint16, 2*k)
					for l := 0; l < k; l++ {
						f := rng.IntN(r)
						s := (f + 1 + rng.IntN(r-1)) % r
						idx[2*l], idx[2*l+1] = uint16(f), uint16(s)
					}
					if k == 785 { // every entry in one column pair: the largest sums
						for l := 0; l < k; l++ {
							idx[2*l], idx[2*l+1] = 0, 1
						}
					}
					dense := make([]int8, r*k) // Sᵀ, r×k
					for l := 0; l < k; l++ {
						dense[int(idx[2*l])*k+l] = 1
						dense[int(idx[2*l+1])*k+l] = -1
					}
					want, _ := refMul(a, dense, m, r, k, nil, nil)
					got := make([]int32, m*r)
					for i := range got {
						got[i] = -1 // every entry must be written
					}
					poisonScratch()
					SparseMul(got, a, m, k, idx, r)
					if !slices.Equal(want, got) {
						t.Fatalf("m=%d k=%d r=%d: got %v, want %v", m, k, r, got, want)
					}
				}
			}
		}
	}, "gemm")
}

// TestSparseMulLongK checks SparseMul on operands of few rows and long k,
// which it cuts along k as well (more workers forced than this machine may
// have), against the sparse sums entry by entry: odd k, a single row, a
// ragged panel, and columns that fit int16 (r = 512) and that do not.
func TestSparseMulLongK(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	impltest.Run(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(6, 6))
		for _, c := range []struct{ m, k, r int }{{1, 33001, 32}, {9, 20000, 32}, {16, 40000, 512}, {17, 33000, 128}, {40, 20001, 32}} {
			a := randInt8(rng, c.m*c.k, false)
			idx := make([]uint16, 2*c.k)
			for l := 0; l < c.k; l++ {
				f := rng.IntN(c.r)
				s := (f + 1 + rng.IntN(c.r-1)) % c.r
				idx[2*l], idx[2*l+1] = uint16(f), uint16(s)
			}
			want := make([]int32, c.m*c.r)
			for i := 0; i < c.m; i++ {
				for l := 0; l < c.k; l++ {
					want[i*c.r+int(idx[2*l])] += int32(a[i*c.k+l])
					want[i*c.r+int(idx[2*l+1])] -= int32(a[i*c.k+l])
				}
			}
			got := make([]int32, c.m*c.r)
			poisonScratch()
			SparseMul(got, a, c.m, c.k, idx, c.r)
			if !slices.Equal(want, got) {
				t.Fatalf("m=%d k=%d r=%d: the sums differ", c.m, c.k, c.r)
			}
		}
	}, "gemm")
}

// TestSparseMulColumnSums checks the largest column sums: 255, 256 and 257
// entries of −128 (and of 127) added into one column, or subtracted from it,
// around the most an int16 sum could hold (the AVX2 path sums in int16 when
// every column has at most 255 entries).
func TestSparseMulColumnSums(t *testing.T) {
	impltest.Run(t, func(t *testing.T) {
		for _, n := range []int{255, 256, 257} {
			for _, v := range []int8{-128, 127} {
				for _, second := range []bool{false, true} {
					const m, r = 17, 32
					k := n + 40
					a := make([]int8, m*k)
					for i := range a {
						a[i] = v
					}
					idx := make([]uint16, 2*k)
					for l := 0; l < k; l++ {
						f := 0 // the first n entries all go into column 0
						if l >= n {
							f = 2 + l%(r-2)
						}
						g := uint16(1 + l%(r-1))
						if g == uint16(f) {
							g = r - 1
						}
						idx[2*l], idx[2*l+1] = uint16(f), g
						if second {
							idx[2*l], idx[2*l+1] = g, uint16(f)
						}
					}
					want := make([]int32, m*r)
					for i := 0; i < m; i++ {
						for l := 0; l < k; l++ {
							want[i*r+int(idx[2*l])] += int32(a[i*k+l])
							want[i*r+int(idx[2*l+1])] -= int32(a[i*k+l])
						}
					}
					got := make([]int32, m*r)
					SparseMul(got, a, m, k, idx, r)
					if !slices.Equal(want, got) {
						t.Fatalf("%d entries of %d (second %v): got %v, want %v", n, v, second, got[:r], want[:r])
					}
				}
			}
		}
	}, "gemm")
}

// TestSparseMulRejectsBadFactor: a row of S with one column twice, or a
// column outside r, is a caller's bug and panics before any memory is read.
func TestSparseMulRejectsBadFactor(t *testing.T) {
	a := make([]int8, 4)
	for _, idx := range [][]uint16{{0, 1, 1, 1, 0, 1, 0, 1}, {0, 2, 1, 0, 0, 1, 0, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SparseMul accepted %v", idx)
				}
			}()
			SparseMul(make([]int32, 2), a, 1, 4, idx, 2)
		}()
	}
	// A long factor is checked on all cores (more workers forced than this
	// machine may have); the panic still names the first bad entry.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const k = 100000
	idx := make([]uint16, 2*k)
	for l := range k {
		idx[2*l], idx[2*l+1] = 0, 1
	}
	idx[2*90000+1] = 0            // the columns are equal
	idx[2*60001] = 32             // a column beyond r
	idx[2*60000+1] = idx[2*60000] // the first bad entry: equal columns
	defer func() {
		if got := recover(); got != "gemm: bad sparse factor entry 60000 (r=32)" {
			t.Errorf("SparseMul panicked with %v", got)
		}
	}()
	SparseMul(make([]int32, 32), make([]int8, k), 1, k, idx, 32)
}
