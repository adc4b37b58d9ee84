package pouw

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randInt7 returns a rows×cols matrix of uniform entries in [−64, 64].
func randInt7(rng *rand.Rand, rows, cols int) Matrix {
	x := Matrix{Rows: rows, Cols: cols, Data: make([]int8, rows*cols)}
	for i := range x.Data {
		x.Data[i] = int8(rng.IntN(129) - 64)
	}
	return x
}

// plainProduct is the textbook triple loop over A (m×k) and Bᵀ (n×k).
func plainProduct(a, bt Matrix) []int32 {
	c := make([]int32, a.Rows*bt.Rows)
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < bt.Rows; j++ {
			var s int32
			for l := 0; l < a.Cols; l++ {
				s += int32(a.Data[i*a.Cols+l]) * int32(bt.Data[j*bt.Cols+l])
			}
			c[i*bt.Rows+j] = s
		}
	}
	return c
}

// testJob is a development job whose target makes about one tile in eight win.
func testJob(t testing.TB, cfg Config) Job {
	t.Helper()
	work := float64(cfg.TileH() * cfg.TileW() * cfg.DotLen())
	return Job{Header: Header{Version: 1, Bits: NbitsForExpectedMACs(8 * work), Timestamp: 1700000000}, CertVersion: CertSalted}
}

func TestDenoisedProductIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	shapes := []struct{ m, k, n, r, h, w int }{
		{17, 33, 19, 32, 2, 2},   // k barely over r, tail of 1
		{18, 32, 22, 32, 4, 4},   // k = r
		{35, 100, 29, 32, 16, 4}, // tail of k mod r = 4
		{64, 200, 48, 64, 8, 8},
		{33, 1029, 47, 128, 16, 16}, // large k with a tail
		{16, 4096, 16, 256, 16, 16},
		{20, 1500, 18, 512, 4, 4},   // r = 512: the plain-Go noise path
		{18, 2100, 20, 1024, 16, 2}, // r = 1024, the largest rank
		{7, 40, 9, 32, 2, 2},
	}
	for _, s := range shapes {
		a, b := randInt7(rng, s.m, s.k), randInt7(rng, s.n, s.k)
		cfg := contiguousConfig(t, s.k, s.r, s.h, s.w)
		p, err := MineProduct(testJob(t, cfg), Local, cfg, a, b, RefKernel{})
		require.NoError(t, err)
		require.True(t, p.Mined, p.Unmined)
		assert.Equal(t, plainProduct(a, b), p.C, "shape %+v", s)
		wantTiles := (s.m / s.h) * (s.n / s.w)
		assert.Len(t, p.Tickets, wantTiles)
		assert.Equal(t, uint64(wantTiles*s.h*s.w*cfg.DotLen()), p.MACs)
	}
}

func TestUnminedProductIsExactWithReason(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randInt7(rng, 9, 20), randInt7(rng, 5, 20)
	cfg := contiguousConfig(t, 20, 32, 2, 2) // k < r: no profile admits it
	p, err := MineProduct(testJob(t, cfg), Local, cfg, a, b, RefKernel{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Contains(t, p.Unmined, "k=20")
	assert.Equal(t, plainProduct(a, b), p.C)
	assert.Empty(t, p.Tickets)
}

func TestMineProductRejectsOutOfRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := randInt7(rng, 4, 64), randInt7(rng, 4, 64)
	a.Data[2*64+3] = 65
	cfg := contiguousConfig(t, 64, 32, 2, 2)
	_, err := MineProduct(testJob(t, cfg), Local, cfg, a, b, RefKernel{})
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
	assert.Contains(t, err.Error(), "A[2][3] = 65")
	b.Data[0] = -65
	a.Data[2*64+3] = 0
	_, err = MineProduct(testJob(t, cfg), Local, cfg, a, b, RefKernel{})
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))

	_, err = MineProduct(testJob(t, cfg), Local, cfg, a, randInt7(rng, 4, 63), RefKernel{})
	assert.Equal(t, ErrBadInput, CodeOf(err))
}

// The noisy operands stay inside int8 and the noise really is there.
func TestNoiseRanges(t *testing.T) {
	var s Seeds
	s.SA[0], s.SB[0] = 1, 2
	nz := NewNoise(s, 40, 30, 500, 64)
	for _, f := range [][]int8{nz.AL, nz.BRT} {
		for _, v := range f {
			require.True(t, v >= -32 && v <= 31)
		}
	}
	for _, ps := range [][]NoisePair{nz.PairsA, nz.PairsB} {
		for _, p := range ps {
			require.NotEqual(t, p.First, p.Second)
			require.Less(t, int(p.First), 64)
			require.Less(t, int(p.Second), 64)
		}
	}
	src := make([]int8, 500)
	for i := range src {
		src[i] = 64
		if i%2 == 1 {
			src[i] = -64
		}
	}
	dst := make([]int8, 500)
	addNoiseRow(dst, src, nz.AL[:64], nz.PairsA)
	changed := 0
	for l := range dst {
		v := int(src[l]) + int(nz.AL[nz.PairsA[l].First]) - int(nz.AL[nz.PairsA[l].Second])
		require.Equal(t, v, int(dst[l]))
		require.True(t, v >= -127 && v <= 127)
		if dst[l] != src[l] {
			changed++
		}
	}
	assert.Greater(t, changed, 400)
}

// Bad shapes and hand-built configurations are errors, never panics.
func TestBadShapesAndConfigsAreErrors(t *testing.T) {
	for _, x := range []Matrix{
		{Rows: -1, Cols: 4},
		{Rows: 4, Cols: -1},
		{Rows: 1 << 32, Cols: 1 << 32}, // Rows·Cols wraps to 0 = len(nil)
		{Rows: 2, Cols: 2, Data: make([]int8, 3)},
	} {
		_, err := Multiply(RefKernel{}, x, Matrix{Rows: 1, Cols: x.Cols, Data: make([]int8, max(x.Cols, 0))})
		assert.Equal(t, ErrBadInput, CodeOf(err), "%dx%d", x.Rows, x.Cols)
	}
	for _, pol := range []DefaultPolicy{{TileH: -1}, {TileW: -2}, {Rank: -32}} {
		_, err := pol.Choose(Local, 64, 64, 64)
		assert.Equal(t, ErrBadParams, CodeOf(err), "%+v", pol)
	}
	_, err := Contiguous(0)
	assert.Equal(t, ErrBadParams, CodeOf(err))
	_, err = Contiguous(257)
	assert.Equal(t, ErrBadParams, CodeOf(err))

	// A pattern written by hand that is not canonical: (1,4) then (2,2).
	bad := Pattern{Dims: [3]PatternDim{{1, 4}, {2, 2}, {8, 1}}}
	c4, err := Contiguous(4)
	require.NoError(t, err)
	cfg := Config{K: 64, Rank: 32, Rows: bad, Cols: c4}
	assert.Equal(t, ErrBadParams, CodeOf(Local.Check(cfg, 64, 64)))
	rng := rand.New(rand.NewPCG(1, 3))
	p, err := MineProduct(testJob(t, contiguousConfig(t, 64, 32, 4, 4)), Local, cfg, randInt7(rng, 16, 64), randInt7(rng, 16, 64), RefKernel{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
}
