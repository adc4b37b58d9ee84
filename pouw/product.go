package pouw

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/usefulwork/minedmatmul/internal/bufcache"
	"github.com/usefulwork/minedmatmul/internal/parallel"
	"github.com/usefulwork/minedmatmul/pouw/internal/hash16"
)

// Phases is the time a mined product spent in each step.
type Phases struct {
	Commit  time.Duration // hashing A and Bᵀ
	Noise   time.Duration // seeds, noise factors, A' and B'
	GEMM    time.Duration // the product and its transcript (with a gemm kernel, also the denoising epilogue)
	Tickets time.Duration // one keyed hash per tile, and the proofs of wins, each verified
	Denoise time.Duration // peeling the noise off (with a gemm kernel, preparing the correction it applies, or for a short k multiplying A and Bᵀ again)
}

// Add accumulates q into p.
func (p *Phases) Add(q Phases) {
	p.Commit += q.Commit
	p.Noise += q.Noise
	p.GEMM += q.GEMM
	p.Tickets += q.Tickets
	p.Denoise += q.Denoise
}

// Total is the sum of all phases.
func (p Phases) Total() time.Duration {
	return p.Commit + p.Noise + p.GEMM + p.Tickets + p.Denoise
}

// Product is the outcome of one mined (or unmined) matrix product.
type Product struct {
	M, N, K int
	C       []int32 // the exact product A·B, m×n row-major
	Mined   bool
	// Reason says why the product was not mined (a RuleError), when it
	// was not: the job source had none (ErrNoJob), or the profile or the
	// policy refused the shape (ErrTile, ErrInnerDim, …).
	Reason error
	Config Config // the configuration mined under, when mined
	// RootA and RootB are the commitment roots of A and of Bᵀ, keyed by
	// JobKey(job header, Config), when mined: they bind the product, and
	// every proof it wins, to exactly these operands.
	RootA, RootB [32]byte
	Tiles        int // tickets drawn: one per tile
	// Wins are the winning tiles, each with its proof, which has passed
	// Verify. A win whose proof failed verification (a kernel fault) is
	// not here but counted in SelfCheckFailures.
	Wins              []Found
	SelfCheckFailures int
	SelfCheckErr      error  // the first such failure
	MACs              uint64 // multiply-accumulates inside tiles: the work the lottery counts
	// ExpectedWins is the number of winning tiles this product was
	// expected to find: the sum of every tile's chance, bound/2²⁵⁶.
	ExpectedWins float64
	Phases       Phases

	tickets []tileTicket // every tile's ticket, kept only for tests (keepTickets)
}

// keepTickets makes mined products keep every tile's ticket in
// Product.tickets, for tests to compare; a product needs only the winners,
// and a slice as long as the tiles would be allocated and cleared every
// product (21 µs of a 784×100×512 product's 80 µs of tickets).
var keepTickets bool

// tileTicket is the lottery ticket of one tile, placed by its offsets.
type tileTicket struct {
	rowOffset, colOffset int
	ticket               [32]byte
}

// Multiply computes the exact product of a (m×k) and bt = Bᵀ (n×k), without
// mining, with the fastest kernel of this CPU, into dst when it holds m·n
// entries (a new slice otherwise), and returns it row-major. Entries must lie
// in [−64, 64] (ErrValueOutOfRange), so that no sum can overflow int32.
func Multiply(dst []int32, a, bt Matrix) ([]int32, error) {
	if err := checkOperands(a, bt); err != nil {
		return nil, err
	}
	c := dst
	if c == nil || cap(c) < a.Rows*bt.Rows {
		c = make([]int32, a.Rows*bt.Rows)
	}
	c = c[:a.Rows*bt.Rows]
	gemmKernel{}.mul(c, a.Data, bt.Data, a.Rows, bt.Rows, a.Cols, nil, nil)
	return c, nil
}

// MineProduct computes the exact product A·B of a (m×k) and bt = Bᵀ (n×k),
// mining it under job, profile and cfg: the ticket of every tile, and a
// verified plain proof for every winning tile. A product the profile does
// not admit is still computed exactly and returned with Mined false and the
// Reason. Operands that do not fit (mismatched shapes, entries outside
// [−64, 64]) and a job that cannot be mined are errors.
func MineProduct(job Job, profile Profile, cfg Config, a, bt Matrix) (*Product, error) {
	if err := checkOperands(a, bt); err != nil {
		return nil, err
	}
	return mineProduct(job, profile, cfg, a, bt, gemmKernel{}, nil)
}

// mineProduct is MineProduct on checked operands, with kernel kern.
// The product goes into dst when it holds m·n entries.
func mineProduct(job Job, profile Profile, cfg Config, a, bt Matrix, kern kernel, dst []int32) (*Product, error) {
	m, n, k := a.Rows, bt.Rows, a.Cols
	if err := checkMinable(job.CertVersion); err != nil {
		return nil, err
	}
	target, err := job.Target()
	if err != nil {
		return nil, err
	}
	if int(cfg.K) != k {
		err = ruleErr(ErrInnerDim, "config k=%d, product k=%d", cfg.K, k)
	} else {
		err = profile.Check(cfg, uint64(m), uint64(n))
	}
	if err == nil && requiredProfile(cfg, uint64(m), uint64(n)) != profile {
		// Verify judges such proofs under pearl only: mined under local,
		// none of them could ever be reported.
		err = ruleErr(ErrProfile, "%s meets Pearl's rules: it is mined under pearl, not %s", cfg, profile)
	}
	if err != nil {
		return unminedProduct(a, bt, kern, err, dst), nil
	}
	p := &Product{M: m, N: n, K: k, Mined: true, Config: cfg}

	start := time.Now()
	jobKey := JobKey(job.Header, cfg)
	var hashA, hashB [32]byte
	commitmentRoots(&jobKey, [][]byte{int8Bytes(a.Data), int8Bytes(bt.Data)}, []*[32]byte{&hashA, &hashB})
	p.Phases.Commit = time.Since(start)
	p.RootA, p.RootB = hashA, hashB

	start = time.Now()
	ha, hb := chainCommitments(job.CertVersion, hashA, hashB, uint32(m), uint32(n))
	sd := seedsFrom(jobKey, ha, hb)
	nz := newNoise(sd, m, n, k, int(cfg.Rank))
	defer nz.release()
	noisyA, noisyBT := operands.Get(m*k), operands.Get(n*k)
	defer operands.Put(noisyA)
	defer operands.Put(noisyBT)
	noisyRows(noisyA, a.Data, nz.al, nz.pairsA, m, k, nz.rank)
	noisyRows(noisyBT, bt.Data, nz.brt, nz.pairsB, n, k, nz.rank)
	p.Phases.Noise = time.Since(start)

	grid := newTileGrid(cfg, m, n)
	jackpots := jackpotBufs.Get(grid.numTiles())
	defer jackpotBufs.Put(jackpots)
	clear(jackpots)
	p.C = outputBuffer(dst, m*n)
	// A gemm kernel on a regular grid denoises in its epilogue: the
	// correction is prepared first (Denoise) and applied inside the product
	// (GEMM); for a k well below 2r it multiplies A and Bᵀ again instead
	// (Denoise).
	// Any other kernel multiplies, then denoise peels the noise off.
	gk, fused := kern.(gemmKernel)
	if fused {
		_, fused = grid.regular()
	}
	switch {
	case fused && k <= 2*nz.rank-nz.rank/4:
		// A k this short makes the exact product cheaper than the rank-2r
		// correction, and it needs no denoising operands: the kernel runs
		// over A′, B′ for the transcript, then over A, Bᵀ for C. (Measured
		// against the correction at r = 32: 0.90× at k = 48, 0.98× at 56,
		// 1.02× at 64, where the second pass's packing outweighs the rest.)
		start = time.Now()
		gk.mul(p.C, noisyA, noisyBT, m, n, k, grid, jackpots)
		p.Phases.GEMM = time.Since(start)
		start = time.Now()
		gk.mul(p.C, a.Data, bt.Data, m, n, k, nil, nil)
		p.Phases.Denoise = time.Since(start)
	case fused:
		start = time.Now()
		corr := denoiseCorrection(a.Data, noisyBT, m, n, k, nz)
		p.Phases.Denoise = time.Since(start)
		start = time.Now()
		gk.mulDenoised(p.C, noisyA, noisyBT, m, n, k, grid, jackpots, corr)
		releaseCorrection(corr)
		p.Phases.GEMM = time.Since(start)
	default:
		start = time.Now()
		kern.mul(p.C, noisyA, noisyBT, m, n, k, grid, jackpots)
		p.Phases.GEMM = time.Since(start)
	}

	start = time.Now()
	bigBound := profile.Bound(cfg, target)
	bound := newLEBound(bigBound)
	p.Tiles = len(jackpots)
	p.ExpectedWins = float64(p.Tiles) / expectedMACs(bigBound)
	if keepTickets {
		p.tickets = make([]tileTicket, len(jackpots))
	}
	// One keyed hash and one comparison per tile, on all cores; the winners,
	// rare, are proved in tile order below.
	var mu sync.Mutex
	var winners []int
	parallel.Range((len(jackpots)+15)/16, 16, func(lo, hi int) {
		t0, t1 := 16*lo, min(16*hi, len(jackpots))
		drawTickets(jackpots[t0:t1], &sd.sA, func(i int, ticket *[32]byte) {
			t := t0 + i
			if keepTickets {
				row, col := grid.offsets(t)
				p.tickets[t] = tileTicket{rowOffset: row, colOffset: col, ticket: *ticket}
			}
			if bound.wins(ticket) {
				mu.Lock()
				winners = append(winners, t)
				mu.Unlock()
			}
		})
	})
	slices.Sort(winners)
	for _, t := range winners {
		rowOffset, colOffset := grid.offsets(t)
		rows, cols := grid.rows.line(t/grid.cols.count()), grid.cols.line(t%grid.cols.count())
		plain, err := buildPlainProof(&jobKey, a, bt, cfg, rows, cols)
		if err != nil {
			return nil, fmt.Errorf("proof for tile (%d, %d): %w", rowOffset, colOffset, err)
		}
		proof := &Proof{Plain: plain, Job: job, Profile: profile}
		// The verifier's one-tile recomputation shares nothing with the
		// kernel that found the win: a kernel fault shows up here, and such a
		// proof is never handed on.
		v, err := proof.Verify(VerifyOptions{})
		if err != nil {
			p.SelfCheckFailures++
			if p.SelfCheckErr == nil {
				p.SelfCheckErr = ruleErr(ErrSelfCheck, "tile (%d, %d) of a %dx%dx%d product: the kernel's ticket won, but its proof fails verification: %v",
					rowOffset, colOffset, m, k, n, err)
			}
			continue
		}
		// The verifier's ticket, which a faulty kernel's may not be.
		p.Wins = append(p.Wins, Found{Proof: proof, Ticket: v.Ticket, RowOffset: rowOffset, ColOffset: colOffset})
	}
	p.MACs = uint64(len(jackpots)) * uint64(cfg.TileH()*cfg.TileW()) * uint64(cfg.DotLen())
	p.Phases.Tickets = time.Since(start)

	if !fused {
		start = time.Now()
		denoise(p.C, a.Data, noisyBT, m, n, k, nz)
		p.Phases.Denoise = time.Since(start)
	}
	return p, nil
}

// jackpotBufs recycles the tiles' transcripts between products.
var jackpotBufs = bufcache.New[jackpot](4)

// outputBuffer is dst[:n] when dst holds n entries, else a new slice. The
// kernels set every entry, so it is never cleared.
func outputBuffer(dst []int32, n int) []int32 {
	if cap(dst) >= n && dst != nil {
		return dst[:n]
	}
	return make([]int32, n)
}

// unminedProduct computes the product exactly, without mining, because of
// reason.
func unminedProduct(a, bt Matrix, kern kernel, reason error, dst []int32) *Product {
	m, n, k := a.Rows, bt.Rows, a.Cols
	p := &Product{M: m, N: n, K: k, Reason: reason, C: outputBuffer(dst, m*n)}
	start := time.Now()
	kern.mul(p.C, a.Data, bt.Data, m, n, k, nil, nil)
	p.Phases.GEMM = time.Since(start)
	return p
}

// drawTickets calls each(i, ticket) with the ticket of jackpots[i] (the same
// value as jackpot.ticket), for every i in order: hash16 takes the
// transcripts as they lie, sixteen words a tile. *ticket is valid only
// during the call.
func drawTickets(jackpots []jackpot, sA *[32]byte, each func(i int, ticket *[32]byte)) {
	kw := keyWords(sA)
	var out [64][8]uint32
	var ticket [32]byte
	for t0 := 0; t0 < len(jackpots); t0 += len(out) {
		js := jackpots[t0:min(t0+len(out), len(jackpots))]
		hash16.Blocks(&kw, js, out[:len(js)])
		for i, h := range out[:len(js)] {
			for w, x := range h {
				binary.LittleEndian.PutUint32(ticket[4*w:], x)
			}
			each(t0+i, &ticket)
		}
	}
}

// buildPlainProof opens the tile's rows of A and columns of B (rows of Bᵀ).
func buildPlainProof(jobKey *[32]byte, a, bt Matrix, cfg Config, rows, cols []int) (*PlainProof, error) {
	pa, err := openRows(jobKey, int8Bytes(a.Data), a.Cols, toU64(rows))
	if err != nil {
		return nil, fmt.Errorf("open A: %w", err)
	}
	pb, err := openRows(jobKey, int8Bytes(bt.Data), bt.Cols, toU64(cols))
	if err != nil {
		return nil, fmt.Errorf("open Bᵀ: %w", err)
	}
	return &PlainProof{
		M: uint64(a.Rows), N: uint64(bt.Rows), K: uint64(a.Cols), NoiseRank: uint64(cfg.Rank),
		A: pa, BT: pb,
	}, nil
}

func toU64(xs []int) []uint64 {
	out := make([]uint64, len(xs))
	for i, x := range xs {
		out[i] = uint64(x)
	}
	return out
}
