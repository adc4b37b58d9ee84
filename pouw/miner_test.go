package pouw

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type pausedJobs struct{}

func (pausedJobs) CurrentJob() (Job, error) { return Job{}, fmt.Errorf("gateway: %w", ErrPaused) }

func TestMinerConcurrentStatsAndProofs(t *testing.T) {
	var mu sync.Mutex
	var found []Found
	miner, err := NewMiner(MinerConfig{
		// About one proof per 200k MACs: a few per product below.
		Jobs:    DevJob(NbitsForExpectedMACs(2e5)),
		OnProof: func(f Found) { mu.Lock(); found = append(found, f); mu.Unlock() },
	})
	require.NoError(t, err)
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
			assert.True(t, p.Mined, p.Unmined)
			assert.Equal(t, plainProduct(a, bt), p.C)
			// Too small for a tile: exact, unmined, with a reason.
			a2, bt2 := randInt7(rng, 1, 96), randInt7(rng, 5, 96)
			p2, err := miner.MatMul(a2, bt2, Tag{Role: "forward"})
			assert.NoError(t, err)
			assert.False(t, p2.Mined)
			assert.Equal(t, plainProduct(a2, bt2), p2.C)
		}(g)
	}
	wg.Wait()

	s := miner.Stats()
	assert.Equal(t, int64(8), s.Products)
	assert.Equal(t, int64(4), s.Mined)
	assert.Equal(t, int64(4), s.Unmined())
	assert.Equal(t, map[string]int64{"1x96x5: product too small for a tile": 4}, stripCodes(s.UnminedReasons))
	// 40x36 with 16x16 tiles: 2x2 tiles, dot_len 96.
	assert.Equal(t, int64(16), s.Tiles)
	assert.Equal(t, uint64(16*256*96), s.MinedMACs)
	assert.Equal(t, uint64(4*(40*36*96+5*96)), s.MACs)
	assert.Equal(t, int64(2), s.ByRole["grad-B"].Mined)
	assert.Equal(t, int64(6), s.ByRole["forward"].Products)
	assert.Equal(t, s.Proofs, int64(len(found)))
	assert.NotZero(t, s.Proofs, "expected a few proofs at this difficulty")
	for _, f := range found {
		v, err := f.Proof.Verify(VerifyOptions{})
		require.NoError(t, err)
		assert.Equal(t, f.Ticket, v.Ticket)
		assert.Equal(t, int64(7), f.Proof.Meta["step"])
		assert.Contains(t, []any{"forward", "grad-B"}, f.Proof.Meta["role"])
	}
}

// stripCodes drops the "ErrBadParams: " prefix of reasons.
func stripCodes(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if i := len("ErrBadParams: "); len(k) > i && k[:i] == "ErrBadParams: " {
			k = k[i:]
		}
		out[k] = v
	}
	return out
}

func TestMinerPausedComputesExactly(t *testing.T) {
	miner, err := NewMiner(MinerConfig{Jobs: pausedJobs{}})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	a, bt := randInt7(rng, 32, 64), randInt7(rng, 32, 64)
	p, err := miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Contains(t, p.Unmined, "mining paused")
	assert.Equal(t, plainProduct(a, bt), p.C)

	a.Data[5] = -100
	_, err = miner.MatMul(a, bt, Tag{})
	assert.Equal(t, ErrValueOutOfRange, CodeOf(err))
}

func TestNewMinerErrors(t *testing.T) {
	_, err := NewMiner(MinerConfig{})
	assert.Error(t, err)
	_, err = NewMiner(MinerConfig{Jobs: DevJob(0x207fffff), Profile: 9})
	assert.Error(t, err)
}

func TestDefaultPolicy(t *testing.T) {
	cfg, err := DefaultPolicy{}.Choose(Local, 100, 784, 10)
	require.NoError(t, err)
	assert.Equal(t, "k=784 r=32 tile=16x10", cfg.String())
	cfg, err = DefaultPolicy{}.Choose(Pearl, 4096, 4096, 4096)
	require.NoError(t, err)
	assert.Equal(t, "k=4096 r=128 tile=16x16", cfg.String())
	_, err = DefaultPolicy{}.Choose(Pearl, 128, 784, 128)
	assert.Equal(t, ErrBadParams, CodeOf(err))
	_, err = DefaultPolicy{}.Choose(Local, 100, 16, 100)
	assert.Equal(t, ErrBadParams, CodeOf(err))
}

// k beyond 65536 is split into parts that each fit, mined and counted
// separately, and the parts add up to the exact product.
func TestMinerSplitsLongK(t *testing.T) {
	var found []Found
	miner, err := NewMiner(MinerConfig{Jobs: DevJob(NbitsForExpectedMACs(2e5)), OnProof: func(f Found) { found = append(found, f) }})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(70000, 1))
	a, bt := randInt7(rng, 4, 70000), randInt7(rng, 6, 70000)
	p, err := miner.MatMul(a, bt, Tag{Role: "grad-B"})
	require.NoError(t, err)
	assert.True(t, p.Mined, p.Unmined)
	assert.Equal(t, plainProduct(a, bt), p.C)
	s := miner.Stats()
	assert.Equal(t, int64(2), s.Mined, "two parts of k=35008 and 34992")
	assert.Equal(t, uint64(4*6*70000), s.MACs)
	require.NotEmpty(t, found)
	for _, f := range found {
		v, err := f.Proof.Verify(VerifyOptions{})
		require.NoError(t, err)
		assert.Contains(t, []uint64{35008, 34992}, v.K)
	}
	_, err = miner.MatMul(Matrix{Rows: 1, Cols: maxSplitInner, Data: make([]int8, maxSplitInner)},
		Matrix{Rows: 1, Cols: maxSplitInner, Data: make([]int8, maxSplitInner)}, Tag{})
	assert.Equal(t, ErrBadInput, CodeOf(err))
}

// A job the miner cannot mine (a legacy certificate version) does not stop
// training: the product is exact and counted unmined; pauses are counted.
func TestMinerUnminableJobAndPauses(t *testing.T) {
	job := DevJob(0x207fffff)
	job.J.CertVersion = CertV2
	miner, err := NewMiner(MinerConfig{Jobs: job})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(2, 2))
	a, bt := randInt7(rng, 16, 64), randInt7(rng, 16, 64)
	p, err := miner.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.False(t, p.Mined)
	assert.Contains(t, p.Unmined, "certificate version 2")
	assert.Equal(t, plainProduct(a, bt), p.C)
	assert.Zero(t, miner.Stats().Paused)

	paused, err := NewMiner(MinerConfig{Jobs: pausedJobs{}})
	require.NoError(t, err)
	_, err = paused.MatMul(a, bt, Tag{})
	require.NoError(t, err)
	assert.Equal(t, int64(1), paused.Stats().Paused)
	assert.Equal(t, int64(1), paused.Stats().WorkShare().Paused)
}
