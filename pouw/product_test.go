package pouw

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
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

// testJob is a development job whose target makes about one tile in eight
// win (under the plain bound).
func testJob(t testing.TB, cfg Config) Job {
	t.Helper()
	work := float64(cfg.TileH() * cfg.TileW() * cfg.DotLen())
	return Job{Header: Header{Version: 1, Bits: Local.Nbits(8*work, int(cfg.Rank)), Timestamp: 1700000000}, CertVersion: CertSalted}
}

// keepingTickets makes the products mined during t keep every tile's
// ticket in Product.tickets.
func keepingTickets(t *testing.T) {
	keepTickets = true
	t.Cleanup(func() { keepTickets = false })
}

func TestDenoisedProductIsExact(t *testing.T) {
	keepingTickets(t)
	rng := rand.New(rand.NewPCG(7, 11))
	shapes := []struct{ m, k, n, r, h, w int }{
		{17, 33, 19, 32, 2, 2},   // k barely over r, tail of 1
		{18, 32, 22, 32, 4, 4},   // k = r
		{35, 100, 29, 32, 16, 4}, // tail of k mod r = 4
		{64, 200, 48, 64, 8, 8},
		{33, 1029, 47, 128, 16, 16}, // large k with a tail
		{16, 4096, 16, 256, 16, 16}, // meets Pearl's rules
		{20, 1500, 18, 512, 4, 4},   // r = 512: the plain-Go noise path
		{18, 2100, 20, 1024, 16, 2}, // r = 1024, the largest rank
		{7, 40, 9, 32, 2, 2},
	}
	type input struct {
		a, b Matrix
		cfg  Config
		prof Profile
	}
	var ins []input
	for _, s := range shapes {
		cfg := contiguousConfig(t, s.k, s.r, s.h, s.w)
		ins = append(ins, input{randInt7(rng, s.m, s.k), randInt7(rng, s.n, s.k), cfg, requiredProfile(cfg, uint64(s.m), uint64(s.n))})
	}
	for _, kern := range []kernel{refKernel{}, gemmKernel{}} {
		impltest.Run(t, func(t *testing.T) {
			for i, in := range ins {
				s := shapes[i]
				p, err := mineProduct(testJob(t, in.cfg), in.prof, in.cfg, in.a, in.b, kern, nil)
				require.NoError(t, err)
				require.True(t, p.Mined, p.Reason)
				assert.Nil(t, p.Reason)
				assert.Equal(t, plainProduct(in.a, in.b), p.C, "shape %+v", s)
				wantTiles := (s.m / s.h) * (s.n / s.w)
				assert.Equal(t, wantTiles, p.Tiles)
				assert.Len(t, p.tickets, wantTiles)
				assert.Equal(t, uint64(wantTiles*s.h*s.w*in.cfg.DotLen()), p.MACs)
				assert.Zero(t, p.SelfCheckFailures)
				for _, w := range p.Wins {
					v, err := w.Proof.Verify(VerifyOptions{})
					require.NoError(t, err)
					assert.Equal(t, w.Ticket, v.Ticket)
					assert.Equal(t, in.prof, w.Proof.Profile)
				}
			}
		}, "gemm", "vec8")
	}
}

func TestUnminedProductIsExactWithReason(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randInt7(rng, 9, 20), randInt7(rng, 5, 20)
	cfg := contiguousConfig(t, 20, 32, 2, 2) // k < r: no profile admits it
	p, err := MineProduct(testJob(t, cfg), Local, cfg, a, b)
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrInnerDim, CodeOf(p.Reason))
	assert.ErrorContains(t, p.Reason, "k=20")
	assert.Equal(t, plainProduct(a, b), p.C)
	assert.Empty(t, p.tickets)
	assert.Zero(t, p.Tiles)

	// A configuration for another k.
	cfg = contiguousConfig(t, 64, 32, 2, 2)
	p, err = MineProduct(testJob(t, cfg), Local, cfg, a, b)
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrInnerDim, CodeOf(p.Reason))
	assert.Equal(t, plainProduct(a, b), p.C)
}

// A configuration that meets Pearl's rules has its proofs judged by Pearl's
// bound (VerifyOptions): mined under the local profile, its wins could never
// be reported, so it is not mined under local at all.
func TestMineProductPearlConfigUnderLocal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	a, b := randInt7(rng, 32, 2048), randInt7(rng, 32, 2048)
	cfg := contiguousConfig(t, 2048, 128, 16, 16)
	require.NoError(t, Pearl.Check(cfg, 32, 32))
	job := testJob(t, cfg)
	job.Header.Bits = 0x207fffff // every tile wins
	p, err := MineProduct(job, Local, cfg, a, b)
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrProfile, CodeOf(p.Reason), "%v", p.Reason)
	assert.Equal(t, plainProduct(a, b), p.C)

	p, err = MineProduct(job, Pearl, cfg, a, b)
	require.NoError(t, err)
	require.True(t, p.Mined, p.Reason)
	assert.Len(t, p.Wins, 4)
	assert.InDelta(t, 4, p.ExpectedWins, 1e-9, "the bound saturates: every tile wins")
	assert.Zero(t, p.SelfCheckFailures, p.SelfCheckErr)
}

func TestMineProductRejectsBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := randInt7(rng, 4, 64), randInt7(rng, 4, 64)
	a.Data[2*64+3] = 65
	cfg := contiguousConfig(t, 64, 32, 2, 2)
	job := testJob(t, cfg)
	_, err := MineProduct(job, Local, cfg, a, b)
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
	assert.ErrorContains(t, err, "A[2][3] = 65")
	b.Data[0] = -65
	a.Data[2*64+3] = 0
	_, err = MineProduct(job, Local, cfg, a, b)
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
	assert.ErrorContains(t, err, "Bᵀ[0][0] = -65")
	b.Data[0] = 0

	_, err = MineProduct(job, Local, cfg, a, randInt7(rng, 4, 63))
	assert.Equal(t, ErrInnerDim, CodeOf(err))
	_, err = MineProduct(job, Local, cfg, a, Matrix{Rows: 4, Cols: 64, Data: make([]int8, 10)})
	assert.Equal(t, ErrShape, CodeOf(err))

	// A job that cannot be mined is an error of MineProduct.
	legacy := job
	legacy.CertVersion = CertV2
	_, err = MineProduct(legacy, Local, cfg, a, b)
	assert.Equal(t, ErrCertVersion, CodeOf(err))
	badTarget := job
	badTarget.Header.Bits = 0
	_, err = MineProduct(badTarget, Local, cfg, a, b)
	assert.Equal(t, ErrTarget, CodeOf(err))
	// An unknown profile is a reason not to mine.
	p, err := MineProduct(job, Profile(5), cfg, a, b)
	require.NoError(t, err)
	assert.Equal(t, ErrProfile, CodeOf(p.Reason))
}

// The noisy operands stay inside int8 and the noise really is there.
func TestNoiseRanges(t *testing.T) {
	var s seeds
	s.sA[0], s.sB[0] = 1, 2
	nz := newNoise(s, 40, 30, 500, 64)
	for _, f := range [][]int8{nz.al, nz.brt} {
		for _, v := range f {
			require.True(t, v >= -32 && v <= 31)
		}
	}
	for _, ps := range [][]noisePair{nz.pairsA, nz.pairsB} {
		for _, p := range ps {
			require.NotEqual(t, p.first, p.second)
			require.Less(t, int(p.first), 64)
			require.Less(t, int(p.second), 64)
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
	addNoiseRow(dst, src, nz.al[:64], nz.pairsA)
	changed := 0
	for l := range dst {
		v := int(src[l]) + int(nz.al[nz.pairsA[l].first]) - int(nz.al[nz.pairsA[l].second])
		require.Equal(t, v, int(dst[l]))
		require.True(t, v >= -127 && v <= 127)
		if dst[l] != src[l] {
			changed++
		}
	}
	assert.Greater(t, changed, 400)

	// noisyRows (the byte look-up kernel, or plain Go beyond r = 128) adds
	// the same noise row by row, also when it cuts a long k into pieces
	// (more workers forced than this machine may have).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	impltest.Run(t, func(t *testing.T) {
		for _, c := range []struct{ r, rows, k int }{{32, 5, 300}, {128, 5, 300}, {256, 5, 300}, {32, 9, 40001}, {128, 33, 33000}} {
			r, rows, k := c.r, c.rows, c.k
			nz := newNoise(s, rows, 1, k, r)
			src := make([]int8, rows*k)
			for i := range src {
				src[i] = int8(i%129 - 64)
			}
			got := make([]int8, rows*k)
			noisyRows(got, src, nz.al, nz.pairsA, rows, k, r)
			want := make([]int8, k)
			for i := 0; i < rows; i++ {
				addNoiseRow(want, src[i*k:(i+1)*k], nz.al[i*r:(i+1)*r], nz.pairsA)
				require.Equal(t, want, got[i*k:(i+1)*k], "r %d row %d", r, i)
			}
		}
	}, "vec8")
}

// Bad shapes and hand-built configurations are errors, never panics.
func TestBadShapesAndConfigsAreErrors(t *testing.T) {
	for _, x := range []Matrix{
		{Rows: -1, Cols: 4},
		{Rows: 4, Cols: -1},
		{Rows: 1 << 32, Cols: 1 << 32}, // Rows·Cols wraps to 0 = len(nil)
		{Rows: 2, Cols: 2, Data: make([]int8, 3)},
	} {
		_, err := Multiply(nil, x, Matrix{Rows: 1, Cols: x.Cols, Data: make([]int8, max(x.Cols, 0))})
		assert.Equal(t, ErrShape, CodeOf(err), "%dx%d", x.Rows, x.Cols)
	}
	_, err := Multiply(nil, Matrix{Rows: 1, Cols: 2, Data: []int8{1, 64}}, Matrix{Rows: 1, Cols: 2, Data: []int8{-64, -65}})
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
	for _, pol := range []DefaultPolicy{{TileH: -1}, {TileW: -2}, {Rank: -32}} {
		_, err := pol.Choose(Local, 64, 64, 64)
		assert.Equal(t, ErrBadInput, CodeOf(err), "%+v", pol)
	}
	_, err = Contiguous(0)
	assert.Equal(t, ErrPattern, CodeOf(err))
	_, err = Contiguous(257)
	assert.Equal(t, ErrPattern, CodeOf(err))

	// A configuration holding the zero Pattern is not mined.
	cfg := contiguousConfig(t, 64, 32, 4, 4)
	cfg.Rows = Pattern{}
	rng := rand.New(rand.NewPCG(1, 3))
	a, bt := randInt7(rng, 16, 64), randInt7(rng, 16, 64)
	p, err := MineProduct(testJob(t, contiguousConfig(t, 64, 32, 4, 4)), Local, cfg, a, bt)
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrTile, CodeOf(p.Reason))
	assert.Equal(t, plainProduct(a, bt), p.C)
}

func TestTranspose(t *testing.T) {
	x := Matrix{Rows: 2, Cols: 3, Data: []int8{1, 2, 3, 4, 5, 6}}
	assert.Equal(t, Matrix{Rows: 3, Cols: 2, Data: []int8{1, 4, 2, 5, 3, 6}}, x.Transpose())
	assert.Equal(t, x, x.Transpose().Transpose())
}

// A large operand is range-checked in pieces on all cores; the error still
// names its first bad entry, wherever the others are.
func TestCheckInt7NamesFirstBadEntry(t *testing.T) {
	const rows, cols = 3000, 1024 // 3 MB: the check cut into pieces over the cores
	x := Matrix{Rows: rows, Cols: cols, Data: make([]int8, rows*cols)}
	for _, bad := range [][]int{{2999*cols + 5}, {17, 2000 * cols}, {1500*cols + 1, 1500*cols + 2, 10 * cols}, {rows*cols - 1}} {
		clear(x.Data)
		first := bad[0]
		for _, i := range bad {
			x.Data[i] = -100
			first = min(first, i)
		}
		err := x.checkInt7("A")
		assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
		assert.ErrorContains(t, err, fmt.Sprintf("A[%d][%d] = -100", first/cols, first%cols))
	}
	clear(x.Data)
	assert.NoError(t, x.checkInt7("A"))
}

// When many tiles win, their tickets drawn on all cores, the wins come in
// tile order: row by row of tiles, and along each row by column.
func TestMineProductWinsInTileOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	a, b := randInt7(rng, 32*16, 64), randInt7(rng, 20*16, 64) // 32×20 tiles: 40 batches of tickets
	cfg := contiguousConfig(t, 64, 32, 16, 16)
	job := testJob(t, cfg)
	job.Header.Bits = 0x207fffff // every tile wins
	p, err := MineProduct(job, Local, cfg, a, b)
	require.NoError(t, err)
	require.True(t, p.Mined, p.Reason)
	require.Len(t, p.Wins, 32*20)
	for i, w := range p.Wins {
		require.Equal(t, [2]int{16 * (i / 20), 16 * (i % 20)}, [2]int{w.RowOffset, w.ColOffset}, "win %d", i)
	}
}
