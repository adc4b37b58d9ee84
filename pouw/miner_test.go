package pouw

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
)

type pausedJobs struct{}

func (pausedJobs) CurrentJob() (Job, error) { return Job{}, fmt.Errorf("gateway: %w", ErrPaused) }

// switchJobs is a job source whose job a test changes while it mines.
type switchJobs struct{ job atomic.Pointer[Job] }

func (s *switchJobs) CurrentJob() (Job, error) {
	if j := s.job.Load(); j != nil {
		return *j, nil
	}
	return Job{}, ErrPaused
}

// recorder collects what a miner reports through OnProof.
type recorder struct {
	mu    sync.Mutex
	found []Found
}

func (r *recorder) onProof(f Found) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.found = append(r.found, f)
}

func (r *recorder) all() []Found {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Found(nil), r.found...)
}

func TestMinerConcurrentStatsAndProofs(t *testing.T) {
	var rec recorder
	miner, err := NewMiner(MinerConfig{
		// About one proof per 200k MACs: a few per product below.
		Jobs:    DevJob(Local.Nbits(2e5, 32)),
		OnProof: rec.onProof,
	})
	require.NoError(t, err)
	assert.Equal(t, Local, miner.Profile())
	miner.SetStep(7)

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			a, bt := randInt7(rng, 40, 96), randInt7(rng, 36, 96)
			p, err := miner.MatMul(a, bt, Tag{Role: []string{"forward", "grad-B"}[g%2], Node: fmt.Sprint("n", g)})
			assert.NoError(t, err)
			assert.True(t, p.Mined, p.Reason)
			assert.Equal(t, plainProduct(a, bt), p.C)
			// Too small for a tile: exact, unmined, with a reason.
			a2, bt2 := randInt7(rng, 1, 96), randInt7(rng, 5, 96)
			p2, err := miner.MatMul(a2, bt2, Tag{Role: "forward"})
			assert.NoError(t, err)
			assert.False(t, p2.Mined)
			assert.Equal(t, ErrTile, CodeOf(p2.Reason))
			assert.Equal(t, plainProduct(a2, bt2), p2.C)
		}(g)
	}
	wg.Wait()

	s := miner.Stats()
	assert.Equal(t, int64(8), s.Products)
	assert.Equal(t, int64(4), s.Mined)
	assert.Equal(t, int64(4), s.UnminedProducts())
	assert.Equal(t, map[UnminedReason]int64{{Code: ErrTile, M: 1, K: 96, N: 5}: 4}, s.Unmined)
	assert.Zero(t, s.Paused)
	// 40x36 with 16x16 tiles: 2x2 tiles, dot_len 96.
	assert.Equal(t, int64(16), s.Tiles)
	assert.Equal(t, uint64(16*256*96), s.MinedMACs)
	assert.Equal(t, uint64(4*(40*36*96+5*96)), s.MACs)
	// Each tile wins with chance h·w·dot_len / 2e5.
	assert.InEpsilon(t, 16*256*96/2e5, s.ExpectedProofs, 1e-3)
	assert.Equal(t, int64(2), s.ByRole["grad-B"].Mined)
	assert.Equal(t, int64(6), s.ByRole["forward"].Products)
	assert.Equal(t, s.Proofs, s.ByRole["forward"].Proofs+s.ByRole["grad-B"].Proofs)
	found := rec.all()
	assert.Equal(t, s.Proofs, int64(len(found)))
	assert.NotZero(t, s.Proofs, "expected a few proofs at this difficulty")
	assert.Zero(t, s.Duplicates)
	assert.Zero(t, s.SelfCheckFailures)
	assert.NoError(t, s.LastSelfCheck)
	for _, f := range found {
		v, err := f.Proof.Verify(VerifyOptions{})
		require.NoError(t, err)
		assert.Equal(t, f.Ticket, v.Ticket)
		assert.Equal(t, uint64(f.RowOffset), v.RowOffset)
		assert.Equal(t, uint64(f.ColOffset), v.ColOffset)
		assert.Equal(t, int64(7), f.Proof.Meta["step"])
		assert.Equal(t, "40x96x36", f.Proof.Meta["shape"])
		assert.Contains(t, []any{"forward", "grad-B"}, f.Proof.Meta["role"])
		assert.Contains(t, []any{"n0", "n1", "n2", "n3"}, f.Proof.Meta["node"])
	}

	// Stats is a copy: changing it changes nothing in the miner.
	s.Unmined[UnminedReason{}] = 99
	s.ByRole["x"] = RoleStats{}
	assert.NotContains(t, miner.Stats().Unmined, UnminedReason{})
	assert.NotContains(t, miner.Stats().ByRole, "x")
}

// A recomputed product (the same operands under the same job) finds the
// same proofs: each is reported and counted once, the repeats counted as
// duplicates.
func TestMinerReportsEachProofOnce(t *testing.T) {
	var rec recorder
	miner, err := NewMiner(MinerConfig{Jobs: DevJob(Local.Nbits(5e4, 32)), OnProof: rec.onProof})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(12, 34))
	a, bt := randInt7(rng, 48, 64), randInt7(rng, 48, 64)
	first, err := miner.MatMul(a, bt, Tag{Role: "forward"})
	require.NoError(t, err)
	wins := len(first.Wins)
	require.Greater(t, wins, 1, "expected several wins at this difficulty")
	require.Len(t, rec.all(), wins)

	for range 2 {
		again, err := miner.MatMul(a, bt, Tag{Role: "forward"})
		require.NoError(t, err)
		require.Len(t, again.Wins, wins, "a recomputation finds the same wins")
	}
	found := rec.all()
	require.Len(t, found, wins, "OnProof once per distinct proof")
	ids := map[string]bool{}
	for _, f := range found {
		id, err := f.Proof.ID()
		require.NoError(t, err)
		ids[id] = true
	}
	assert.Len(t, ids, wins)
	s := miner.Stats()
	assert.Equal(t, int64(wins), s.Proofs)
	assert.Equal(t, int64(wins), s.ByRole["forward"].Proofs)
	assert.Equal(t, int64(2*wins), s.Duplicates)
	assert.Equal(t, int64(3), s.Mined)

	// Other operands are other proofs.
	a.Data[0] ^= 1
	p, err := miner.MatMul(a, bt, Tag{Role: "forward"})
	require.NoError(t, err)
	assert.Equal(t, int64(wins+len(p.Wins)), miner.Stats().Proofs)
}

// jackpotCorrupter is a faulty kernel: its products are exact, but it flips
// a bit of every tile's transcript, so its tickets are not the verifier's.
type jackpotCorrupter struct{ kernel }

func (k jackpotCorrupter) mul(dst []int32, a, bt []int8, m, n, kk int, grid *tileGrid, jackpots []jackpot) {
	k.kernel.mul(dst, a, bt, m, n, kk, grid, jackpots)
	for t := range jackpots {
		jackpots[t][t%jackpotWords] ^= 1 << (t % 32)
	}
}

// A kernel that computes wrong transcripts finds "wins" whose proofs fail
// the self-check: none is reported, each is counted.
func TestMinerWithWrongKernelReportsNoProof(t *testing.T) {
	var rec recorder
	// 36 tiles of 4×4×64 MACs; about one in 32 wins: a few wins, and at
	// this difficulty a tile whose true ticket wins too is rare (and does
	// not happen with these operands).
	miner, err := NewMiner(MinerConfig{
		Jobs:    DevJob(Local.Nbits(32*4*4*64, 32)),
		Policy:  DefaultPolicy{TileH: 4, TileW: 4},
		OnProof: rec.onProof,
	})
	require.NoError(t, err)
	miner.kern = jackpotCorrupter{refKernel{}}
	assert.Equal(t, "pouw.jackpotCorrupter", miner.Kernel())
	rng := rand.New(rand.NewPCG(8, 8))
	failures := 0
	for range 8 {
		a, bt := randInt7(rng, 24, 64), randInt7(rng, 24, 64)
		p, err := miner.MatMul(a, bt, Tag{Role: "forward"})
		require.NoError(t, err)
		require.True(t, p.Mined, p.Reason)
		assert.Equal(t, plainProduct(a, bt), p.C, "the product is still exact")
		assert.Empty(t, p.Wins)
		failures += p.SelfCheckFailures
		if p.SelfCheckFailures > 0 {
			assert.Equal(t, ErrSelfCheck, CodeOf(p.SelfCheckErr), "%v", p.SelfCheckErr)
		}
	}
	require.Greater(t, failures, 2, "the corrupted tickets should win now and then")
	assert.Empty(t, rec.all())
	s := miner.Stats()
	assert.Zero(t, s.Proofs)
	assert.Equal(t, int64(failures), s.SelfCheckFailures)
	assert.Equal(t, ErrSelfCheck, CodeOf(s.LastSelfCheck))
	assert.ErrorContains(t, s.LastSelfCheck, "ErrHighHash", "the verifier's ticket does not win")
}

// Whatever the kernel, what is reported is what the verifier accepts, with
// the verifier's ticket: at an easy target a faulty kernel's "win" is now
// and then also a true win, and only those are reported.
func TestMinerWithWrongKernelReportsOnlyTrueWins(t *testing.T) {
	var rec recorder
	miner, err := NewMiner(MinerConfig{
		Jobs:    DevJob(Local.Nbits(2*4*4*64, 32)), // half the tiles win
		Policy:  DefaultPolicy{TileH: 4, TileW: 4},
		OnProof: rec.onProof,
	})
	require.NoError(t, err)
	miner.kern = jackpotCorrupter{gemmKernel{}}
	rng := rand.New(rand.NewPCG(9, 9))
	a, bt := randInt7(rng, 32, 64), randInt7(rng, 32, 64)
	p, err := miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.Equal(t, plainProduct(a, bt), p.C)

	// The true wins, from a correct kernel.
	honest, err := NewMiner(MinerConfig{Jobs: DevJob(Local.Nbits(2*4*4*64, 32)), Policy: DefaultPolicy{TileH: 4, TileW: 4}})
	require.NoError(t, err)
	want, err := honest.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	trueWin := map[[2]int][32]byte{}
	for _, w := range want.Wins {
		trueWin[[2]int{w.RowOffset, w.ColOffset}] = w.Ticket
	}
	found := rec.all()
	require.NotEmpty(t, found, "at this target some corrupted wins are true wins")
	require.NotZero(t, p.SelfCheckFailures, "and some are not")
	for _, f := range found {
		ticket, ok := trueWin[[2]int{f.RowOffset, f.ColOffset}]
		require.True(t, ok, "tile (%d, %d) reported but not a true win", f.RowOffset, f.ColOffset)
		assert.Equal(t, ticket, f.Ticket, "the reported ticket is the proof's")
		v, err := f.Proof.Verify(VerifyOptions{})
		require.NoError(t, err)
		assert.Equal(t, v.Ticket, f.Ticket)
	}
	assert.Equal(t, int64(len(found)), miner.Stats().Proofs)
}

func TestMinerKernelName(t *testing.T) {
	impltest.Run(t, func(t *testing.T) {
		miner, err := NewMiner(MinerConfig{Jobs: pausedJobs{}})
		require.NoError(t, err)
		assert.Equal(t, gemm.Name(), miner.Kernel())
		assert.Contains(t, []string{"avx512-vnni", "avx2", "generic"}, miner.Kernel())
	}, "gemm")
}

func TestMinerPausedComputesExactly(t *testing.T) {
	miner, err := NewMiner(MinerConfig{Jobs: pausedJobs{}})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	a, bt := randInt7(rng, 32, 64), randInt7(rng, 32, 64)
	p, err := miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrNoJob, CodeOf(p.Reason))
	assert.ErrorContains(t, p.Reason, "mining paused")
	assert.Equal(t, plainProduct(a, bt), p.C)

	a.Data[5] = -100
	_, err = miner.MatMul(a, bt, Tag{})
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
	_, err = miner.MatMul(a, randInt7(rng, 3, 63), Tag{})
	assert.Equal(t, ErrInnerDim, CodeOf(err))
	_, err = miner.MatMul(Matrix{Rows: 2, Cols: 2}, bt, Tag{})
	assert.Equal(t, ErrShape, CodeOf(err))
	assert.Equal(t, int64(1), miner.Stats().Products, "rejected operands are not counted")
}

func TestNewMinerErrors(t *testing.T) {
	_, err := NewMiner(MinerConfig{})
	assert.Equal(t, ErrBadInput, CodeOf(err))
	_, err = NewMiner(MinerConfig{Jobs: DevJob(0x207fffff), Profile: 9})
	assert.Equal(t, ErrProfile, CodeOf(err))
	// An unusable first job fails here, not on the first product.
	_, err = NewMiner(MinerConfig{Jobs: DevJob(0)})
	assert.Equal(t, ErrTarget, CodeOf(err))
	_, err = NewMiner(MinerConfig{Jobs: DevJob(0x22123456)})
	assert.Equal(t, ErrTarget, CodeOf(err))
	for _, v := range []uint32{0, CertV1, CertV2, 4} {
		job := DevJob(0x207fffff)
		job.J.CertVersion = v
		_, err = NewMiner(MinerConfig{Jobs: job})
		assert.Equal(t, ErrCertVersion, CodeOf(err), "version %d", v)
	}
	// No job yet is fine: the miner computes unmined until one comes.
	_, err = NewMiner(MinerConfig{Jobs: pausedJobs{}, Profile: Pearl})
	assert.NoError(t, err)
}

func TestDefaultPolicy(t *testing.T) {
	cfg, err := DefaultPolicy{}.Choose(Local, 100, 784, 10)
	require.NoError(t, err)
	assert.Equal(t, "k=784 r=32 tile=16x10", cfg.String())
	cfg, err = DefaultPolicy{}.Choose(Pearl, 4096, 4096, 4096)
	require.NoError(t, err)
	assert.Equal(t, "k=4096 r=128 tile=16x16", cfg.String())
	cfg, err = DefaultPolicy{Rank: 64, TileH: 8, TileW: 4}.Choose(Local, 7, 100, 100)
	require.NoError(t, err)
	assert.Equal(t, "k=100 r=64 tile=6x4", cfg.String())
	_, err = DefaultPolicy{}.Choose(Pearl, 128, 784, 128) // k%64 != 0, k < 16r
	assert.Equal(t, ErrInnerDim, CodeOf(err))
	_, err = DefaultPolicy{}.Choose(Local, 100, 16, 100) // k < r
	assert.Equal(t, ErrInnerDim, CodeOf(err))
	_, err = DefaultPolicy{}.Choose(Local, 100, 70000, 100)
	assert.Equal(t, ErrInnerDim, CodeOf(err))
	_, err = DefaultPolicy{}.Choose(Local, 64, 784, 1) // a matrix × vector
	assert.Equal(t, ErrTile, CodeOf(err))
	_, err = DefaultPolicy{Rank: 48}.Choose(Local, 64, 784, 64)
	assert.Equal(t, ErrRank, CodeOf(err))
	_, err = DefaultPolicy{TileH: 2, TileW: 2}.Choose(Pearl, 4096, 4096, 4096) // h·w < 32
	assert.Equal(t, ErrTile, CodeOf(err))
}

// k beyond 65536 is split into parts that each fit, mined and counted
// separately, and the parts add up to the exact product.
func TestMinerSplitsLongK(t *testing.T) {
	var rec recorder
	miner, err := NewMiner(MinerConfig{Jobs: DevJob(Local.Nbits(2e5, 32)), OnProof: rec.onProof})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(70000, 1))
	a, bt := randInt7(rng, 4, 70000), randInt7(rng, 6, 70000)
	p, err := miner.MatMul(a, bt, Tag{Role: "grad-B"})
	require.NoError(t, err)
	assert.True(t, p.Mined, p.Reason)
	assert.Equal(t, plainProduct(a, bt), p.C)
	s := miner.Stats()
	assert.Equal(t, int64(2), s.Mined, "two parts of k=35008 and 34992")
	assert.Equal(t, int64(2), s.Products)
	assert.Equal(t, uint64(4*6*70000), s.MACs)
	assert.Equal(t, int64(p.Tiles), s.Tiles)
	found := rec.all()
	require.NotEmpty(t, found)
	assert.Len(t, p.Wins, len(found))
	for _, f := range found {
		v, err := f.Proof.Verify(VerifyOptions{})
		require.NoError(t, err)
		assert.Contains(t, []uint64{35008, 34992}, v.K)
	}
	_, err = miner.MatMul(Matrix{Rows: 1, Cols: maxSplitInner, Data: make([]int8, maxSplitInner)},
		Matrix{Rows: 1, Cols: maxSplitInner, Data: make([]int8, maxSplitInner)}, Tag{})
	assert.Equal(t, ErrInnerDim, CodeOf(err))

	// A split product whose parts are not mined says why.
	small := Matrix{Rows: 1, Cols: 70000, Data: make([]int8, 70000)}
	p, err = miner.MatMul(small, small, Tag{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrTile, CodeOf(p.Reason))
	assert.Equal(t, []int32{0}, p.C)
}

// A job the miner cannot mine (a legacy certificate version, or a bad
// target) arriving mid-session does not stop training: the product is
// exact and counted unmined; pauses are counted apart.
func TestMinerUnminableJobAndPauses(t *testing.T) {
	var jobs switchJobs
	miner, err := NewMiner(MinerConfig{Jobs: &jobs})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(2, 2))
	a, bt := randInt7(rng, 16, 64), randInt7(rng, 16, 64)

	p, err := miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.Equal(t, ErrNoJob, CodeOf(p.Reason))

	legacy := DevJob(0x207fffff).J
	legacy.CertVersion = CertV2
	jobs.job.Store(&legacy)
	p, err = miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Equal(t, ErrCertVersion, CodeOf(p.Reason))
	assert.ErrorContains(t, p.Reason, "certificate version 2")
	assert.Equal(t, plainProduct(a, bt), p.C)

	bad := DevJob(0).J
	jobs.job.Store(&bad)
	p, err = miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.Equal(t, ErrTarget, CodeOf(p.Reason))

	good := DevJob(0x207fffff).J
	jobs.job.Store(&good)
	p, err = miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.True(t, p.Mined)

	s := miner.Stats()
	assert.Equal(t, int64(1), s.Paused)
	assert.Equal(t, int64(3), s.UnminedProducts())
	assert.Equal(t, map[UnminedReason]int64{
		{Code: ErrNoJob, M: 16, K: 64, N: 16}:       1,
		{Code: ErrCertVersion, M: 16, K: 64, N: 16}: 1,
		{Code: ErrTarget, M: 16, K: 64, N: 16}:      1,
	}, s.Unmined)
	w := s.WorkShare()
	assert.Equal(t, int64(1), w.Paused)
	assert.Equal(t, int64(2), w.Ineligible)
	assert.Len(t, w.Reasons, 3)
}

// Under the local profile a product whose configuration meets Pearl's
// rules is mined under pearl: its proofs are Pearl proofs.
func TestMinerMinesPearlShapesUnderPearl(t *testing.T) {
	var rec recorder
	miner, err := NewMiner(MinerConfig{Jobs: DevJob(0x207fffff), Policy: DefaultPolicy{Rank: 128}, OnProof: rec.onProof})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(6, 6))
	a, bt := randInt7(rng, 16, 2048), randInt7(rng, 16, 2048)
	p, err := miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	require.True(t, p.Mined, p.Reason)
	require.Len(t, p.Wins, 1)
	assert.Equal(t, Pearl, p.Wins[0].Proof.Profile)
	// And a smaller one stays local.
	a, bt = randInt7(rng, 16, 1024), randInt7(rng, 16, 1024)
	p, err = miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	require.Len(t, p.Wins, 1)
	assert.Equal(t, Local, p.Wins[0].Proof.Profile)
	for _, f := range rec.all() {
		_, err := f.Proof.Verify(VerifyOptions{})
		assert.NoError(t, err)
	}
}

func TestWorkShareString(t *testing.T) {
	s := Stats{
		Products: 60, Mined: 40, MACs: 126_000_000, MinedMACs: 84_000_000, Paused: 10,
		Unmined: map[UnminedReason]int64{
			{Code: ErrNoJob, M: 128, K: 784, N: 512}:   10,
			{Code: ErrInnerDim, M: 32, K: 1024, N: 32}: 10,
		},
	}
	assert.Equal(t, int64(20), s.UnminedProducts())
	w := s.WorkShare()
	assert.InDelta(t, 2.0/3, w.Share, 1e-12)
	assert.Equal(t, "mined 40 of 60 products, 66.7% of 1.26e+08 MACs in the lottery\n"+
		"unmined 20: 10 paused, 10 ineligible\n"+
		"  10  ErrInnerDim 32x1024x32\n"+
		"  10  ErrNoJob 128x784x512", w.String())
	assert.Equal(t, "mined 0 of 0 products, 0.0% of 0 MACs in the lottery", Stats{}.WorkShare().String())
	assert.Equal(t, "ErrTile 64x784x1", UnminedReason{Code: ErrTile, M: 64, K: 784, N: 1}.String())
}

// Unmined predicts, from the shape and the current job alone, whether
// MatMul would mine a product, with the same reason MatMul records; Skipped
// counts a product computed elsewhere exactly as MatMul counts an unmined
// one.
func TestMinerUnminedPredictsMatMul(t *testing.T) {
	var jobs switchJobs
	miner, err := NewMiner(MinerConfig{Jobs: &jobs})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(4, 4))
	shapes := [][3]int{{16, 64, 16}, {16, 64, 1}, {1, 64, 1}, {16, 8, 16}, {2, 32, 2}, {1, 70000, 2}, {4, 70000, 4}}
	dev := DevJob(0x207fffff).J
	for _, job := range []*Job{nil, &dev} {
		jobs.job.Store(job)
		for _, s := range shapes {
			m, k, n := s[0], s[1], s[2]
			predicted := miner.Unmined(m, k, n)
			p, err := miner.MatMul(randInt7(rng, m, k), randInt7(rng, n, k), Tag{})
			require.NoError(t, err)
			if predicted == nil {
				assert.True(t, p.Mined, "%v: predicted mined, was not: %v", s, p.Reason)
			} else {
				assert.False(t, p.Mined, "%v", s)
				assert.Equal(t, CodeOf(p.Reason), CodeOf(predicted), "%v: %v vs %v", s, p.Reason, predicted)
			}
		}
	}
	assert.Equal(t, ErrShape, CodeOf(miner.Unmined(0, 64, 16)))
	assert.Equal(t, ErrInnerDim, CodeOf(miner.Unmined(16, maxSplitInner, 16)))

	before := miner.Stats()
	reason := miner.Unmined(16, 64, 1)
	require.Equal(t, ErrTile, CodeOf(reason))
	miner.Skipped(16, 64, 1, Tag{Role: "forward"}, reason)
	after := miner.Stats()
	assert.Equal(t, before.Products+1, after.Products)
	assert.Equal(t, before.Mined, after.Mined)
	assert.Equal(t, before.MACs+16*64, after.MACs)
	assert.Equal(t, before.Unmined[UnminedReason{ErrTile, 16, 64, 1}]+1, after.Unmined[UnminedReason{ErrTile, 16, 64, 1}])
	assert.Equal(t, before.ByRole["forward"].Products+1, after.ByRole["forward"].Products)
}

// A proof's meta.step is the Tag's step until SetStep is called, and the
// session's step from then on.
func TestMinerStepMeta(t *testing.T) {
	var rec recorder
	miner, err := NewMiner(MinerConfig{Jobs: DevJob(0x207fffff), OnProof: rec.onProof})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 5))
	p, err := miner.MatMul(randInt7(rng, 16, 64), randInt7(rng, 16, 64), Tag{Step: 7})
	require.NoError(t, err)
	require.NotEmpty(t, p.Wins)
	assert.Equal(t, int64(7), p.Wins[0].Proof.Meta["step"])
	miner.SetStep(3)
	p, err = miner.MatMul(randInt7(rng, 16, 64), randInt7(rng, 16, 64), Tag{Step: 7})
	require.NoError(t, err)
	require.NotEmpty(t, p.Wins)
	assert.Equal(t, int64(3), p.Wins[0].Proof.Meta["step"])
}

// OnMined receives every mined product once, with the commitment roots its
// proofs carry and their IDs; unmined products are not reported.
func TestMinerOnMined(t *testing.T) {
	var rec recorder
	var mined []MinedProduct
	miner, err := NewMiner(MinerConfig{Jobs: DevJob(Local.Nbits(5e4, 32)), OnProof: rec.onProof,
		OnMined: func(p MinedProduct) { mined = append(mined, p) }})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(6, 6))
	a, bt := randInt7(rng, 48, 64), randInt7(rng, 48, 64)
	p, err := miner.MatMul(a, bt, Tag{Role: "forward", Node: "n"})
	require.NoError(t, err)
	require.NotEmpty(t, p.Wins)
	_, err = miner.MatMul(a, randInt7(rng, 1, 64), Tag{Role: "forward"}) // unmined: no tile
	require.NoError(t, err)
	require.Len(t, mined, 1)
	got := mined[0]
	assert.Equal(t, Tag{Role: "forward", Node: "n"}, got.Tag)
	assert.Equal(t, [3]int{48, 64, 48}, [3]int{got.M, got.K, got.N})
	key := JobKey(got.Job.Header, got.Config)
	assert.Equal(t, CommitmentRoot(&key, int8Bytes(a.Data)), got.RootA)
	assert.Equal(t, CommitmentRoot(&key, int8Bytes(bt.Data)), got.RootB)
	require.Len(t, got.Proofs, len(p.Wins))
	for i, w := range p.Wins {
		id, err := w.Proof.ID()
		require.NoError(t, err)
		assert.Equal(t, id, got.Proofs[i])
		assert.Equal(t, got.RootA, w.Proof.Plain.A.Proof.Root)
		assert.Equal(t, got.RootB, w.Proof.Plain.BT.Proof.Root)
	}
}

// MatMulInto writes into the caller's buffer, whatever it held, and gives
// the same product, wins and proofs as MatMul.
func TestMinerMatMulInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, shape := range [][3]int{{48, 64, 40}, {16, 64, 1}, {4, 70000, 4}} {
		m, k, n := shape[0], shape[1], shape[2]
		a, bt := randInt7(rng, m, k), randInt7(rng, n, k)
		fresh, err := NewMiner(MinerConfig{Jobs: DevJob(Local.Nbits(5e4, 32))})
		require.NoError(t, err)
		want, err := fresh.MatMul(a, bt, Tag{})
		require.NoError(t, err)
		reuse, err := NewMiner(MinerConfig{Jobs: DevJob(Local.Nbits(5e4, 32))})
		require.NoError(t, err)
		dst := make([]int32, m*n+7)
		for i := range dst {
			dst[i] = -12345
		}
		got, err := reuse.MatMulInto(dst, a, bt, Tag{})
		require.NoError(t, err)
		assert.Equal(t, want.C, got.C, "%v", shape)
		assert.Same(t, &dst[0], &got.C[0], "%v: the product is not in dst", shape)
		assert.Equal(t, len(want.Wins), len(got.Wins))
		assert.Equal(t, want.Mined, got.Mined)
	}
}
