package pouw

import (
	"fmt"
	"math"
	"math/big"
)

// Verification is everything a verifier derives from a plain proof: what a
// pool operator compares when two implementations disagree on bytes. Fields
// are filled in as far as verification got.
type Verification struct {
	Profile     Profile
	CertVersion uint32
	M, N, K     uint64
	Config      Config
	RowOffset   uint64 // first row of A in the tile
	ColOffset   uint64 // first column of B in the tile
	JobKey      [32]byte
	HashA       [32]byte // raw commitment roots carried by the proof
	HashB       [32]byte
	HA          [32]byte // commitments fed to the seed chain: salted (v3) or raw (v1–2)
	HB          [32]byte
	Seeds       Seeds
	Jackpot     Jackpot
	Ticket      [32]byte
	Nbits       uint32   // the nbits the ticket was checked against
	Bound       *big.Int // the largest winning ticket
	Win         bool
}

// VerifyOptions adjusts verification.
type VerifyOptions struct {
	// NbitsOverride, when non-zero, replaces the header's nbits in the final
	// bound check: pools verify shares against an easier target this way.
	NbitsOverride uint32
}

// Verify checks a plain proof for job under profile (§9), cheapest checks
// first: sizes, parameters, Merkle openings, value ranges, then seeds, noise
// for the opened rows and columns only, the one-tile transcript and the bound.
// It returns the derived values and nil, or the values derived so far and a
// RuleError saying why the proof is rejected (ErrHighHash if everything is
// right but the ticket is above the bound).
func Verify(job Job, profile Profile, p *PlainProof, opts VerifyOptions) (*Verification, error) {
	v := &Verification{Profile: profile, CertVersion: job.CertVersion, M: p.M, N: p.N, K: p.K}
	if err := v.run(job, profile, p, opts); err != nil {
		return v, err
	}
	return v, nil
}

func (v *Verification) run(job Job, profile Profile, p *PlainProof, opts VerifyOptions) error {
	if job.CertVersion < CertV1 || job.CertVersion > CertSalted {
		return ruleErr(ErrUnsupportedVersion, "certificate version %d (want 1, 2 or 3)", job.CertVersion)
	}
	if profile != Local && profile != Pearl {
		return ruleErr(ErrUnsupportedVersion, "unknown profile %d", int(profile))
	}
	v.Nbits = job.Header.Bits
	if opts.NbitsOverride != 0 {
		v.Nbits = opts.NbitsOverride
	}
	target, err := Target(v.Nbits)
	if err != nil {
		return err
	}
	// 1. Sizes: everything must fit the configuration's fields, and the
	// trees must be exactly as large as the matrices they commit to.
	if p.M > math.MaxUint32 || p.N > math.MaxUint32 || p.K > math.MaxUint32 || p.NoiseRank > math.MaxUint16 {
		return ruleErr(ErrBadParams, "m=%d n=%d k=%d r=%d overflow their fields", p.M, p.N, p.K, p.NoiseRank)
	}
	if p.M == 0 || p.N == 0 || p.K == 0 || p.NoiseRank == 0 {
		return ruleErr(ErrBadParams, "m=%d n=%d k=%d r=%d: zero dimension", p.M, p.N, p.K, p.NoiseRank)
	}
	if want := treeLeaves(p.M, p.K); p.A.Proof.TotalLeaves != want {
		return ruleErr(ErrBadParams, "A tree has %d leaves, a %dx%d matrix needs %d", p.A.Proof.TotalLeaves, p.M, p.K, want)
	}
	if want := treeLeaves(p.N, p.K); p.BT.Proof.TotalLeaves != want {
		return ruleErr(ErrBadParams, "Bᵀ tree has %d leaves, a %dx%d matrix needs %d", p.BT.Proof.TotalLeaves, p.N, p.K, want)
	}
	// 2. The tile and the configuration, rebuilt from the opened indices.
	rowOff, rows, err := tilePattern("A rows", p.A.RowIndices, p.M)
	if err != nil {
		return err
	}
	colOff, cols, err := tilePattern("B columns", p.BT.RowIndices, p.N)
	if err != nil {
		return err
	}
	v.RowOffset, v.ColOffset = rowOff, colOff
	v.Config = Config{K: uint32(p.K), Rank: uint16(p.NoiseRank), Rows: rows, Cols: cols}
	if err := profile.Check(v.Config, p.M, p.N); err != nil {
		return err
	}
	// 3. The openings, against the roots the seeds are derived from.
	v.JobKey = JobKey(job.Header, v.Config)
	v.HashA, v.HashB = p.A.Proof.Root, p.BT.Proof.Root
	aRows, err := p.A.VerifyRows(&v.JobKey, p.M, p.K)
	if err != nil {
		return fmt.Errorf("A: %w", err)
	}
	btRows, err := p.BT.VerifyRows(&v.JobKey, p.N, p.K)
	if err != nil {
		return fmt.Errorf("Bᵀ: %w", err)
	}
	// 4. Values. Like Pearl, only the hashed part of each row (its first
	// dot_len entries) is range-checked: the tail never reaches the ticket.
	dotLen := v.Config.DotLen()
	if err := checkStrips("A", aRows, p.A.RowIndices, dotLen); err != nil {
		return err
	}
	if err := checkStrips("Bᵀ", btRows, p.BT.RowIndices, dotLen); err != nil {
		return err
	}
	// 5. Seeds, the noise of the opened lines, the transcript, the ticket.
	v.HA, v.HB, err = chainCommitments(job.CertVersion, v.HashA, v.HashB, uint32(p.M), uint32(p.N))
	if err != nil {
		return err
	}
	v.Seeds = seedsFrom(v.JobKey, v.HA, v.HB)
	r, k := int(p.NoiseRank), int(p.K)
	noisyA := noisyLines(aRows, p.A.RowIndices, &v.Seeds.SA, &labelA, k, r)
	noisyBT := noisyLines(btRows, p.BT.RowIndices, &v.Seeds.SB, &labelB, k, r)
	h, w := len(aRows), len(btRows)
	grid := &TileGrid{Rows: [][]int{indexRange(h)}, Cols: [][]int{indexRange(w)}, Rank: r}
	jackpots := make([]Jackpot, 1)
	RefKernel{}.Mul(make([]int32, h*w), noisyA, noisyBT, h, w, k, grid, jackpots)
	v.Jackpot = jackpots[0]
	v.Ticket = v.Jackpot.Ticket(&v.Seeds.SA)
	// 6. The bound.
	v.Bound = profile.Bound(v.Config, target)
	if TicketInt(v.Ticket).Cmp(v.Bound) > 0 {
		return ruleErr(ErrHighHash, "ticket %x is above the bound for nbits %#08x", v.Ticket, v.Nbits)
	}
	v.Win = true
	return nil
}

// treeLeaves is ceil(rows·k/1024), the leaf count of a rows×k commitment,
// or 0 when the product overflows (no tree has that many leaves).
func treeLeaves(rows, k uint64) uint64 {
	if k != 0 && rows > math.MaxUint64/k {
		return 0
	}
	return (rows*k + ChunkSize - 1) / ChunkSize
}

// tilePattern rebuilds a tile's offset and pattern from its opened indices:
// offset = first index, pattern = FromList(indices − offset), and the offset
// must be valid for the pattern (§8).
func tilePattern(what string, idx []uint64, size uint64) (uint64, Pattern, error) {
	if len(idx) == 0 {
		return 0, Pattern{}, ruleErr(ErrBadParams, "%s: no indices opened", what)
	}
	if len(idx) > maxTileArea {
		return 0, Pattern{}, ruleErr(ErrBadParams, "%s: %d indices opened, at most %d", what, len(idx), maxTileArea)
	}
	off := idx[0]
	rel := make([]uint32, len(idx))
	for i, x := range idx {
		if x >= size {
			return 0, Pattern{}, ruleErr(ErrBadParams, "%s: index %d is outside [0, %d)", what, x, size)
		}
		if x < off {
			return 0, Pattern{}, ruleErr(ErrBadParams, "%s: indices not ascending at position %d", what, i)
		}
		rel[i] = uint32(x - off)
	}
	pat, err := FromList(rel)
	if err != nil {
		return 0, Pattern{}, fmt.Errorf("%s: %w", what, err)
	}
	if !pat.ValidOffset(off) {
		return 0, Pattern{}, ruleErr(ErrBadParams, "%s: offset %d is not a valid tile offset", what, off)
	}
	return off, pat, nil
}

// checkStrips range-checks the first dotLen entries of every opened line.
func checkStrips(what string, lines [][]int8, idx []uint64, dotLen int) error {
	for i, line := range lines {
		for l, x := range line[:dotLen] {
			if x < -64 || x > 64 {
				return ruleErr(ErrValueOutOfRange, "%s[%d][%d] = %d is outside [-64, 64]", what, idx[i], l, x)
			}
		}
	}
	return nil
}

// noisyLines adds noise to the opened lines only: each needs its own row of
// the dense factor (r/32 PRF calls) and the k sparse pairs.
func noisyLines(lines [][]int8, idx []uint64, seed, label *[32]byte, k, r int) []int8 {
	pairs := sparsePairs(seed, label, k, r)
	out := make([]int8, len(lines)*k)
	f := make([]int8, r)
	for i, line := range lines {
		denseNoiseRow(f, seed, label, int(idx[i]))
		addNoiseRow(out[i*k:(i+1)*k], line, f, pairs)
	}
	return out
}

func indexRange(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
