package pouw

import (
	"fmt"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
)

// implPackages are the packages whose CPU-specific implementations the
// miner's results must not depend on.
var implPackages = []string{"gemm", "hash16", "vec8"}

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

func mustContiguous(n int) Pattern {
	p, err := Contiguous(n)
	if err != nil {
		panic(err)
	}
	return p
}

// TestKernelsMatchReference runs gemmKernel under every implementation this
// CPU has (and the portable one) and checks the product and every tile's
// jackpot against refKernel, on odd shapes, regular and irregular grids,
// and under several GOMAXPROCS.
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
	type want struct {
		c []int32
		j []jackpot
	}
	wants := make([]want, len(cases))
	as, bts := make([][]int8, len(cases)), make([][]int8, len(cases))
	grids := make([]*tileGrid, len(cases))
	for i, c := range cases {
		as[i], bts[i] = randNoisy(rng, c.m, c.k), randNoisy(rng, c.n, c.k)
		if c.r > 0 {
			grids[i] = newTileGrid(Config{K: uint32(c.k), Rank: uint16(c.r), Rows: c.rows, Cols: c.cols}, c.m, c.n)
			wants[i].j = make([]jackpot, grids[i].numTiles())
		}
		wants[i].c = make([]int32, c.m*c.n)
		refKernel{}.mul(wants[i].c, as[i], bts[i], c.m, c.n, c.k, grids[i], wants[i].j)
	}
	impltest.Run(t, func(t *testing.T) {
		for i, c := range cases {
			for _, procs := range []int{1, 3} {
				t.Run(fmt.Sprintf("%dx%dx%d/r%d/procs%d", c.m, c.k, c.n, c.r, procs), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					got := make([]int32, c.m*c.n)
					var gotJ []jackpot
					if grids[i] != nil {
						gotJ = make([]jackpot, grids[i].numTiles())
					}
					gemmKernel{}.mul(got, as[i], bts[i], c.m, c.n, c.k, grids[i], gotJ)
					require.Equal(t, wants[i].c, got)
					require.Equal(t, wants[i].j, gotJ)
				})
			}
		}
	}, implPackages...)
}

// TestMinedProductSameWithEveryKernel mines the same product with gemmKernel
// under every implementation (the fast ones denoise in their epilogue, or,
// for a short k, multiply A and Bᵀ again) and with refKernel: the exact
// product, every ticket and every win must agree, and the wins must be the
// same when the tickets are not kept.
func TestMinedProductSameWithEveryKernel(t *testing.T) {
	keepingTickets(t)
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := []struct{ m, k, n, r, h, w int }{
		{17, 33, 19, 32, 2, 2},
		{35, 100, 29, 32, 16, 4},
		{40, 1029, 33, 128, 16, 16},
		{16, 4096, 24, 256, 16, 8}, // meets Pearl's rules: mined under pearl
		{20, 1500, 18, 512, 4, 4},
		{18, 2100, 20, 1024, 16, 2},
		{64, 512, 64, 32, 16, 16},
		{48, 56, 40, 32, 16, 16}, // k = 7r/4: A and Bᵀ multiplied again
		{33, 57, 47, 32, 16, 16}, // k = 7r/4 + 1: the correction
		{40, 200, 36, 128, 16, 4},
	}
	type mined struct {
		a, b Matrix
		cfg  Config
		job  Job
		prof Profile
		ref  *Product
	}
	var all []mined
	for _, s := range shapes {
		a, b := randInt7(rng, s.m, s.k), randInt7(rng, s.n, s.k)
		cfg := contiguousConfig(t, s.k, s.r, s.h, s.w)
		job := testJob(t, cfg)
		prof := requiredProfile(cfg, uint64(s.m), uint64(s.n))
		ref, err := mineProduct(job, prof, cfg, a, b, refKernel{}, nil)
		require.NoError(t, err)
		require.True(t, ref.Mined, ref.Reason)
		require.Equal(t, plainProduct(a, b), ref.C)
		require.Zero(t, ref.SelfCheckFailures, ref.SelfCheckErr)
		all = append(all, mined{a, b, cfg, job, prof, ref})
	}
	impltest.Run(t, func(t *testing.T) {
		for _, x := range all {
			p, err := MineProduct(x.job, x.prof, x.cfg, x.a, x.b)
			require.NoError(t, err)
			require.Equal(t, x.ref.C, p.C, "%s", x.cfg)
			require.Equal(t, x.ref.tickets, p.tickets, "%s", x.cfg)
			require.Equal(t, x.ref.Tiles, p.Tiles)
			require.Equal(t, x.ref.MACs, p.MACs)
			require.Zero(t, p.SelfCheckFailures, p.SelfCheckErr)
			require.Equal(t, len(x.ref.Wins), len(p.Wins), "%s", x.cfg)
			for i := range p.Wins {
				require.Equal(t, x.ref.Wins[i].Ticket, p.Wins[i].Ticket)
				require.Equal(t, x.ref.Wins[i].Proof.Plain, p.Wins[i].Proof.Plain)
			}
			keepTickets = false
			q, err := MineProduct(x.job, x.prof, x.cfg, x.a, x.b)
			keepTickets = true
			require.NoError(t, err)
			require.Nil(t, q.tickets)
			require.Equal(t, p.Wins, q.Wins, "%s, tickets not kept", x.cfg)
		}
	}, implPackages...)
}

// TestDenoiseCorrectionSplit checks that the split (4r) layout of the
// fused correction, which real inputs almost never need, gives the same
// L·Rᵀ as the plain one.
func TestDenoiseCorrectionSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const m, n, r = 5, 7, 32
	nz := &noise{rank: r, al: randNoisy(rng, m, r), brt: randNoisy(rng, n, r)}
	for i := range nz.al {
		nz.al[i] = nz.al[i]/4 - 1 // [−32, 31]
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
	impltest.Run(t, func(t *testing.T) {
		p, qt := append([]int32(nil), p...), append([]int32(nil), qt...)
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
					want[i*n+j] -= p[i*r+f]*int32(nz.brt[j*r+f]) + int32(nz.al[i*r+f])*qt[j*r+f]
				}
			}
		}
		require.Equal(t, want, lr(buildCorrection(p, qt, nz, m, n, true)))
		require.Nil(t, narrowCorrection(p, qt, nz, m, n))
	}, "vec8")
}

// The transcript's fold and the win test, straight from §5.
func TestJackpotFoldTicketAndBound(t *testing.T) {
	var j jackpot
	for s := 1; s <= 40; s++ {
		x := uint32(s) * 0x9e3779b9
		before := j
		j.fold(s, x)
		w := (s - 1) % jackpotWords
		want := before
		want[w] = bits.RotateLeft32(before[w], 13) ^ x
		require.Equal(t, want, j, "chunk %d", s)
	}
	sA := [32]byte{1, 2, 3}
	var msg [64]byte
	for i, w := range j {
		msg[4*i], msg[4*i+1], msg[4*i+2], msg[4*i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	ticket := j.ticket(&sA)
	assert.Equal(t, blake3Keyed(&sA, msg[:]), ticket)

	// ticketInt reads little-endian; leBound.wins is ticket ≤ bound.
	le := [32]byte{0: 1, 31: 0x80}
	want := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(0x80), 248), big.NewInt(1))
	assert.Equal(t, 0, want.Cmp(ticketInt(le)))
	for _, d := range []int64{-1, 0, 1} {
		b := newLEBound(new(big.Int).Add(want, big.NewInt(d)))
		assert.Equal(t, d >= 0, b.wins(&le), "bound = ticket %+d", d)
	}
	maxBound := newLEBound(maxUint256)
	all := [32]byte{}
	for i := range all {
		all[i] = 0xff
	}
	assert.True(t, maxBound.wins(&all))
	zero := newLEBound(new(big.Int))
	assert.True(t, zero.wins(&[32]byte{}))
	assert.False(t, zero.wins(&le))
}

func TestMultiplyIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	impltest.Run(t, func(t *testing.T) {
		for _, s := range [][3]int{{1, 1, 1}, {7, 65, 9}, {64, 300, 33}, {0, 5, 3}, {3, 0, 4}} {
			a, bt := randInt7(rng, s[0], s[1]), randInt7(rng, s[2], s[1])
			c, err := Multiply(nil, a, bt)
			require.NoError(t, err)
			require.Equal(t, plainProduct(a, bt), c, "%v", s)
		}
	}, "gemm")
}
