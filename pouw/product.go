package pouw

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"time"
	"unsafe"

	"github.com/usefulwork/minedmatmul/pouw/internal/hash16"
	"github.com/usefulwork/minedmatmul/pouw/internal/vec8"
)

// Job is what a miner works on: a header (whose nbits is the network target)
// and the certificate version its proofs are checked under.
type Job struct {
	Header      Header
	CertVersion uint32
}

// Target expands the header's nbits.
func (j Job) Target() (*big.Int, error) { return Target(j.Header.Bits) }

// Matrix is a dense row-major int8 matrix whose entries, for mining, lie in
// [−64, 64] (int7, §1).
type Matrix struct {
	Rows, Cols int
	Data       []int8
}

// Transpose returns the transposed copy of x.
func (x Matrix) Transpose() Matrix {
	t := Matrix{Rows: x.Cols, Cols: x.Rows, Data: make([]int8, len(x.Data))}
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < x.Cols; j++ {
			t.Data[j*x.Rows+i] = x.Data[i*x.Cols+j]
		}
	}
	return t
}

// checkInt7 returns ErrValueOutOfRange naming the first entry outside [−64, 64].
func (x Matrix) checkInt7(name string) error {
	if !x.shapeOK() {
		return ruleErr(ErrBadInput, "%s: %d entries for a %dx%d matrix", name, len(x.Data), x.Rows, x.Cols)
	}
	if idx := vec8.FirstOutside(x.Data, -64, 64); idx >= 0 {
		return ruleErr(ErrValueOutOfRange, "%s[%d][%d] = %d is outside [-64, 64]", name, idx/x.Cols, idx%x.Cols, x.Data[idx])
	}
	return nil
}

// TileTicket is the lottery ticket of one tile, placed by its offsets.
type TileTicket struct {
	RowOffset, ColOffset int
	Ticket               [32]byte
}

// Win is a tile whose ticket is at or below the bound, with its proof.
type Win struct {
	TileTicket
	Proof *PlainProof
}

// Phases is the time a mined product spent in each step.
type Phases struct {
	Commit  time.Duration // hashing A and Bᵀ
	Noise   time.Duration // seeds, noise factors, A' and B'
	GEMM    time.Duration // the product and its transcript (with a gemm kernel, also the denoising epilogue)
	Tickets time.Duration // one keyed hash per tile, and proofs for wins
	Denoise time.Duration // peeling the noise off (with a gemm kernel, preparing the correction it applies)
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
	Unmined string // why the product was not mined, when it was not
	Config  Config // the configuration mined under, when mined
	Tickets []TileTicket
	Wins    []Win
	MACs    uint64 // multiply-accumulates inside tiles: the work the lottery counts
	Phases  Phases
}

// Multiply computes the exact product a·b with kernel kern, without mining.
// bt is Bᵀ (n×k).
func Multiply(kern Kernel, a, bt Matrix) ([]int32, error) {
	if err := checkShapes(a, bt); err != nil {
		return nil, err
	}
	c := make([]int32, a.Rows*bt.Rows)
	kern.Mul(c, a.Data, bt.Data, a.Rows, bt.Rows, a.Cols, nil, nil)
	return c, nil
}

func checkShapes(a, bt Matrix) error {
	if !a.shapeOK() || !bt.shapeOK() {
		return ruleErr(ErrBadInput, "matrix data does not match its shape: A is %dx%d with %d entries, Bᵀ is %dx%d with %d",
			a.Rows, a.Cols, len(a.Data), bt.Rows, bt.Cols, len(bt.Data))
	}
	if a.Cols != bt.Cols {
		return ruleErr(ErrBadInput, "inner dimensions differ: A is %dx%d, Bᵀ is %dx%d", a.Rows, a.Cols, bt.Rows, bt.Cols)
	}
	return nil
}

// shapeOK reports whether x's shape is non-negative and matches its data,
// without trusting Rows·Cols not to overflow.
func (x Matrix) shapeOK() bool {
	if x.Rows < 0 || x.Cols < 0 {
		return false
	}
	hi, lo := bits.Mul64(uint64(x.Rows), uint64(x.Cols))
	return hi == 0 && lo == uint64(len(x.Data))
}

// MineProduct computes the exact product A·B of a (m×k) and bt = Bᵀ (n×k),
// mining it under job, profile and cfg: the ticket of every tile, and a plain
// proof for every winning tile. A product the profile does not admit is
// still computed exactly and returned with Mined false and the reason.
// Entries outside [−64, 64] are an error (ErrValueOutOfRange).
func MineProduct(job Job, profile Profile, cfg Config, a, bt Matrix, kern Kernel) (*Product, error) {
	if err := checkShapes(a, bt); err != nil {
		return nil, err
	}
	if err := a.checkInt7("A"); err != nil {
		return nil, err
	}
	if err := bt.checkInt7("Bᵀ"); err != nil {
		return nil, err
	}
	m, n, k := a.Rows, bt.Rows, a.Cols
	p := &Product{M: m, N: n, K: k}
	target, err := job.Target()
	if err != nil {
		return nil, err
	}
	if job.CertVersion != CertSalted {
		return nil, ruleErr(ErrUnsupportedVersion, "mining needs certificate version %d, job has %d", CertSalted, job.CertVersion)
	}
	if int(cfg.K) != k {
		err = ruleErr(ErrBadParams, "config k=%d, product k=%d", cfg.K, k)
	} else {
		err = profile.Check(cfg, uint64(m), uint64(n))
	}
	if err != nil {
		p.Unmined = err.Error()
		start := time.Now()
		p.C = make([]int32, m*n)
		kern.Mul(p.C, a.Data, bt.Data, m, n, k, nil, nil)
		p.Phases.GEMM = time.Since(start)
		return p, nil
	}
	p.Mined, p.Config = true, cfg

	start := time.Now()
	jobKey := JobKey(job.Header, cfg)
	var hashA, hashB [32]byte
	commitmentRoots(&jobKey, [][]byte{int8Bytes(a.Data), int8Bytes(bt.Data)}, []*[32]byte{&hashA, &hashB})
	p.Phases.Commit = time.Since(start)

	start = time.Now()
	seeds, err := DeriveSeeds(job.CertVersion, jobKey, hashA, hashB, uint32(m), uint32(n))
	if err != nil {
		return nil, err
	}
	nz := NewNoise(seeds, m, n, k, int(cfg.Rank))
	noisyA, noisyBT := operands.Get(m*k), operands.Get(n*k)
	defer operands.Put(noisyA)
	defer operands.Put(noisyBT)
	noisyRows(noisyA, a.Data, nz.AL, nz.PairsA, m, k, nz.Rank)
	noisyRows(noisyBT, bt.Data, nz.BRT, nz.PairsB, n, k, nz.Rank)
	p.Phases.Noise = time.Since(start)

	grid := newTileGrid(cfg, m, n)
	jackpots := make([]Jackpot, grid.NumTiles())
	p.C = make([]int32, m*n)
	// A gemm kernel on a regular grid denoises in its epilogue: the
	// correction is prepared first (Denoise) and applied inside the product
	// (GEMM). Any other kernel multiplies, then denoise peels the noise off.
	gk, fused := kern.(gemmKernel)
	if fused {
		_, fused = regularGrid(grid)
	}
	if fused {
		start = time.Now()
		corr := denoiseCorrection(gk.impl, a.Data, noisyBT, m, n, k, nz)
		p.Phases.Denoise = time.Since(start)
		start = time.Now()
		gk.mulDenoised(p.C, noisyA, noisyBT, m, n, k, grid, jackpots, corr)
		releaseCorrection(corr)
		p.Phases.GEMM = time.Since(start)
	} else {
		start = time.Now()
		kern.Mul(p.C, noisyA, noisyBT, m, n, k, grid, jackpots)
		p.Phases.GEMM = time.Since(start)
	}

	start = time.Now()
	bound := newLEBound(profile.Bound(cfg, target))
	p.Tickets = make([]TileTicket, len(jackpots))
	// One keyed hash per tile, on all cores; proofs, rare, stay in order.
	parallelRange((len(jackpots)+15)/16, 16, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			t0 := 16 * b
			tickets16(jackpots[t0:min(t0+16, len(jackpots))], &seeds.SA, func(i int, ticket [32]byte) {
				t := t0 + i
				rows, cols := grid.Rows[t/len(grid.Cols)], grid.Cols[t%len(grid.Cols)]
				p.Tickets[t] = TileTicket{RowOffset: rows[0], ColOffset: cols[0], Ticket: ticket}
			})
		}
	})
	for t := range jackpots {
		rows, cols := grid.Rows[t/len(grid.Cols)], grid.Cols[t%len(grid.Cols)]
		tt := p.Tickets[t]
		if !bound.wins(&tt.Ticket) {
			continue
		}
		proof, err := buildPlainProof(&jobKey, a, bt, cfg, rows, cols)
		if err != nil {
			return nil, fmt.Errorf("proof for tile (%d, %d): %w", tt.RowOffset, tt.ColOffset, err)
		}
		p.Wins = append(p.Wins, Win{TileTicket: tt, Proof: proof})
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

// tickets16 computes the tickets of up to 16 jackpots at once (the same
// values as Jackpot.Ticket) and hands each to put.
func tickets16(jackpots []Jackpot, sA *[32]byte, put func(i int, ticket [32]byte)) {
	var msgs [16][16]uint32
	for i, j := range jackpots {
		for w, x := range j {
			msgs[w][i] = x
		}
	}
	kw := keyWords(sA)
	var out [8][16]uint32
	hash16.Sum16(&kw, &msgs, &out)
	for i := range jackpots {
		var t [32]byte
		for w := 0; w < 8; w++ {
			binary.LittleEndian.PutUint32(t[4*w:], out[w][i])
		}
		put(i, t)
	}
}

// buildPlainProof opens the tile's rows of A and columns of B (rows of Bᵀ).
func buildPlainProof(jobKey *[32]byte, a, bt Matrix, cfg Config, rows, cols []int) (*PlainProof, error) {
	pa, err := OpenRows(jobKey, int8Bytes(a.Data), a.Cols, toU64(rows))
	if err != nil {
		return nil, fmt.Errorf("open A: %w", err)
	}
	pb, err := OpenRows(jobKey, int8Bytes(bt.Data), bt.Cols, toU64(cols))
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

// int8Bytes views int8 data as the two's-complement bytes that are hashed.
func int8Bytes(x []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}
