package pouw

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
)

// randNoisy returns rows×cols entries in [−127, 127], a quarter of them at
// the extremes, as noisy operands can be.
func randNoisy(rng *rand.Rand, rows, cols int) []int8 {
	x := make([]int8, rows*cols)
	for i := range x {
		switch rng.IntN(8) {
		case 0:
			x[i] = 127
		case 1:
			x[i] = -127
		default:
			x[i] = int8(rng.IntN(255) - 127)
		}
	}
	return x
}

func patternOf(t *testing.T, idx ...uint32) Pattern {
	t.Helper()
	p, err := FromList(idx)
	require.NoError(t, err)
	return p
}

// TestKernelsMatchReference forces every kernel usable here in turn and
// checks the product and every tile's jackpot against RefKernel, on odd
// shapes, regular and irregular grids, and under several GOMAXPROCS.
func TestKernelsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	cases := []struct {
		m, k, n int
		r       int // 0: unmined (grid nil)
		rows    Pattern
		cols    Pattern
	}{
		{m: 1, k: 1, n: 1},
		{m: 19, k: 77, n: 23},
		{m: 130, k: 300, n: 70},
		{m: 18, k: 31, n: 22, r: 32, rows: mustContiguous(2), cols: mustContiguous(4)}, // k < r
		{m: 18, k: 32, n: 22, r: 32, rows: mustContiguous(4), cols: mustContiguous(4)}, // k = r
		{m: 35, k: 101, n: 29, r: 32, rows: mustContiguous(16), cols: mustContiguous(4)},
		{m: 50, k: 1029, n: 47, r: 128, rows: mustContiguous(16), cols: mustContiguous(16)},
		{m: 33, k: 2051, n: 17, r: 64, rows: mustContiguous(10), cols: mustContiguous(14)},
		{m: 20, k: 97, n: 33, r: 32, rows: patternOf(t, 0, 2), cols: patternOf(t, 0, 1, 4, 5)}, // irregular
	}
	for _, c := range cases {
		a, bt := randNoisy(rng, c.m, c.k), randNoisy(rng, c.n, c.k)
		var grid *TileGrid
		if c.r > 0 {
			grid = newTileGrid(Config{K: uint32(c.k), Rank: uint16(c.r), Rows: c.rows, Cols: c.cols}, c.m, c.n)
		}
		want := make([]int32, c.m*c.n)
		var wantJ []Jackpot
		if grid != nil {
			wantJ = make([]Jackpot, grid.NumTiles())
		}
		RefKernel{}.Mul(want, a, bt, c.m, c.n, c.k, grid, wantJ)
		for _, kern := range Kernels() {
			for _, procs := range []int{1, 2, 7} {
				t.Run(fmt.Sprintf("%s/%dx%dx%d/r%d/procs%d", kern.Name(), c.m, c.k, c.n, c.r, procs), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					got := make([]int32, c.m*c.n)
					var gotJ []Jackpot
					if grid != nil {
						gotJ = make([]Jackpot, grid.NumTiles())
					}
					kern.Mul(got, a, bt, c.m, c.n, c.k, grid, gotJ)
					require.Equal(t, want, got)
					require.Equal(t, wantJ, gotJ)
				})
			}
		}
	}
}

func mustContiguous(n int) Pattern {
	p, err := Contiguous(n)
	if err != nil {
		panic(err)
	}
	return p
}

// TestMinedProductSameWithEveryKernel mines the same product with every
// kernel (the fast ones denoise in their epilogue) and with RefKernel: the
// exact product, every ticket and every win must agree.
func TestMinedProductSameWithEveryKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := []struct{ m, k, n, r, h, w int }{
		{17, 33, 19, 32, 2, 2},
		{35, 100, 29, 32, 16, 4},
		{40, 1029, 33, 128, 16, 16},
		{16, 4096, 24, 256, 16, 8},
		{20, 1500, 18, 512, 4, 4},
		{18, 2100, 20, 1024, 16, 2},
		{64, 512, 64, 32, 16, 16},
	}
	for _, s := range shapes {
		a, b := randInt7(rng, s.m, s.k), randInt7(rng, s.n, s.k)
		cfg := contiguousConfig(t, s.k, s.r, s.h, s.w)
		job := testJob(t, cfg)
		ref, err := MineProduct(job, Local, cfg, a, b, RefKernel{})
		require.NoError(t, err)
		require.Equal(t, plainProduct(a, b), ref.C)
		for _, kern := range Kernels() {
			p, err := MineProduct(job, Local, cfg, a, b, kern)
			require.NoError(t, err)
			require.Equal(t, ref.C, p.C, "%s %+v", kern.Name(), s)
			require.Equal(t, ref.Tickets, p.Tickets, "%s %+v", kern.Name(), s)
			require.Equal(t, len(ref.Wins), len(p.Wins), "%s %+v", kern.Name(), s)
		}
	}
}

// TestDenoiseCorrectionSplit checks that the split (4r) layout of the
// fused correction, which real inputs almost never need, gives the same
// L·Rᵀ as the plain one.
func TestDenoiseCorrectionSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const m, n, r = 5, 7, 32
	nz := &Noise{Rank: r, AL: randNoisy(rng, m, r), BRT: randNoisy(rng, n, r)}
	for i := range nz.AL {
		nz.AL[i] = nz.AL[i]/4 - 1 // [−32, 31]
	}
	p, qt := make([]int32, m*r), make([]int32, n*r)
	for i := range p {
		p[i] = int32(rng.IntN(65535) - 32767)
	}
	for i := range qt {
		qt[i] = int32(rng.IntN(65535) - 32767)
	}
	lr := func(c *gemm.Correction) []int32 {
		out := make([]int32, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				for f := 0; f < c.Q; f++ {
					out[i*n+j] += int32(c.L[i*c.Q+f]) * int32(c.R[j*c.Q+f])
				}
			}
		}
		return out
	}
	plain, split := buildCorrection(p, qt, nz, m, n, false), buildCorrection(p, qt, nz, m, n, true)
	require.Equal(t, 2*r, plain.Q)
	require.Equal(t, 4*r, split.Q)
	require.Equal(t, lr(plain), lr(split))
	// The one-pass narrow layout is the plain one, and refuses what needs
	// the split.
	narrow := narrowCorrection(p, qt, nz, m, n)
	require.NotNil(t, narrow)
	require.Equal(t, *plain, *narrow)
	// And with entries beyond int16 the split form still equals −P·E_BR − E_AL·Q.
	for i := range p {
		p[i] *= 100
	}
	for i := range qt {
		qt[i] *= 100
	}
	want := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			for f := 0; f < r; f++ {
				want[i*n+j] -= p[i*r+f]*int32(nz.BRT[j*r+f]) + int32(nz.AL[i*r+f])*qt[j*r+f]
			}
		}
	}
	require.Equal(t, want, lr(buildCorrection(p, qt, nz, m, n, true)))
	require.Nil(t, narrowCorrection(p, qt, nz, m, n))
}
