package pouw

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
)

// Verification is everything a verifier derives from a plain proof: what a
// pool operator compares when two implementations disagree on bytes. Fields
// are filled in as far as verification got.
type Verification struct {
	Profile     Profile // the profile the proof was checked under
	CertVersion uint32  // the certificate version it was checked under
	M, N, K     uint64
	Config      Config
	RowOffset   uint64 // first row of A in the tile
	ColOffset   uint64 // first column of B in the tile
	JobKey      [32]byte
	HashA       [32]byte // raw commitment roots carried by the proof
	HashB       [32]byte
	HA          [32]byte // commitments fed to the seed chain: salted (v3) or raw (v1–2)
	HB          [32]byte
	SeedB       [32]byte // s_B, B's noise seed
	SeedA       [32]byte // s_A, A's noise seed and the ticket's key
	Jackpot     [16]uint32
	Ticket      [32]byte
	Nbits       uint32   // the nbits the ticket was checked against
	Bound       *big.Int // the largest winning ticket
	Win         bool
}

// TicketInt is the ticket read as the little-endian 256-bit integer that is
// compared with the bound.
func (v *Verification) TicketInt() *big.Int { return ticketInt(v.Ticket) }

// VerifyOptions says what the caller expects of a proof. The zero value
// expects Pearl mainnet's certificate version and the profile that the
// proof's own configuration requires, and checks the job's target.
type VerifyOptions struct {
	// NbitsOverride, when non-zero, replaces the header's nbits in the final
	// bound check: pools verify shares against an easier target this way.
	NbitsOverride uint32
	// CertVersion is the certificate version the proof must be checked
	// under; 0 means CertSalted (3), the only one Pearl mainnet accepts.
	// Versions 1 and 2 (legacy seeds) verify only when asked for here.
	CertVersion uint32
	// Profile is the profile the proof must be checked under; 0 means the
	// one its configuration requires: pearl when it meets Pearl's rules
	// (so a Pearl proof is always judged by the rank-penalised bound),
	// local otherwise.
	Profile Profile
}

// Verify checks a plain proof for job under profile (§9), cheapest checks
// first: the expected version, sizes, parameters, Merkle openings, value
// ranges, then seeds, noise for the opened rows and columns only, the
// one-tile transcript and the bound. It returns the derived values and nil,
// or the values derived so far and a RuleError saying why the proof is
// rejected (ErrHighHash if everything is right but the ticket is above the
// bound). A job or profile other than opts expects is rejected
// (ErrCertVersion, ErrProfile), so a relabelled proof never verifies: by
// default, a proof labelled local whose configuration meets Pearl's rules,
// and one labelled pearl whose configuration breaks them but is a valid
// local one, are both ErrProfile.
func Verify(job Job, profile Profile, p *PlainProof, opts VerifyOptions) (*Verification, error) {
	v := &Verification{Profile: profile, CertVersion: job.CertVersion, M: p.M, N: p.N, K: p.K}
	if err := v.run(job, profile, p, opts); err != nil {
		return v, err
	}
	return v, nil
}

func (v *Verification) run(job Job, profile Profile, p *PlainProof, opts VerifyOptions) error {
	if err := checkCertVersion(job.CertVersion); err != nil {
		return err
	}
	if want := cmp.Or(opts.CertVersion, CertSalted); job.CertVersion != want {
		return ruleErr(ErrCertVersion, "the proof's job has certificate version %d, version %d was expected", job.CertVersion, want)
	}
	if err := profile.check(); err != nil {
		return err
	}
	v.Nbits = cmp.Or(opts.NbitsOverride, job.Header.Bits)
	target, err := Target(v.Nbits)
	if err != nil {
		return err
	}
	// 1. Sizes: everything must fit the configuration's fields.
	if p.M > math.MaxUint32 || p.N > math.MaxUint32 || p.K > math.MaxUint32 || p.NoiseRank > math.MaxUint16 {
		return ruleErr(ErrShape, "m=%d n=%d k=%d r=%d overflow their fields", p.M, p.N, p.K, p.NoiseRank)
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
	if opts.Profile != 0 && profile != opts.Profile {
		return ruleErr(ErrProfile, "the proof is labelled %s, profile %s was expected", profile, opts.Profile)
	}
	if err := profile.Check(v.Config, p.M, p.N); err != nil {
		if opts.Profile == 0 && profile == Pearl && Local.Check(v.Config, p.M, p.N) == nil {
			// A local proof relabelled pearl: the label is what is wrong.
			return ruleErr(ErrProfile, "the proof is labelled pearl, but its configuration (%s) breaks Pearl's rules (%v) and is checked under local", v.Config, err)
		}
		return err
	}
	if opts.Profile == 0 && profile != requiredProfile(v.Config, p.M, p.N) {
		return ruleErr(ErrProfile, "the proof is labelled %s, but its configuration (%s) meets Pearl's rules and is checked under pearl", profile, v.Config)
	}
	// 3. The openings, against the roots the seeds are derived from; each
	// tree must be exactly as large as the matrix it commits to.
	v.JobKey = JobKey(job.Header, v.Config)
	v.HashA, v.HashB = p.A.Proof.Root, p.BT.Proof.Root
	aRows, err := p.A.verifyRows(&v.JobKey, p.M, p.K)
	if err != nil {
		return fmt.Errorf("A: %w", err)
	}
	btRows, err := p.BT.verifyRows(&v.JobKey, p.N, p.K)
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
	v.HA, v.HB = chainCommitments(job.CertVersion, v.HashA, v.HashB, uint32(p.M), uint32(p.N))
	sd := seedsFrom(v.JobKey, v.HA, v.HB)
	v.SeedA, v.SeedB = sd.sA, sd.sB
	r, k := int(p.NoiseRank), int(p.K)
	noisyA := noisyLines(aRows, p.A.RowIndices, &sd.sA, &labelA, k, r)
	noisyBT := noisyLines(btRows, p.BT.RowIndices, &sd.sB, &labelB, k, r)
	h, w := len(aRows), len(btRows)
	grid := &tileGrid{rows: tileLines{idx: indexRange(h), offsets: []int{0}}, cols: tileLines{idx: indexRange(w), offsets: []int{0}}, rank: r}
	jackpots := make([]jackpot, 1)
	refKernel{}.mul(make([]int32, h*w), noisyA, noisyBT, h, w, k, grid, jackpots)
	v.Jackpot = jackpots[0]
	v.Ticket = jackpots[0].ticket(&sd.sA)
	// 6. The bound.
	v.Bound = profile.Bound(v.Config, target)
	if ticketInt(v.Ticket).Cmp(v.Bound) > 0 {
		return ruleErr(ErrHighHash, "ticket %x is above the bound for nbits %#08x", v.Ticket, v.Nbits)
	}
	v.Win = true
	return nil
}

// requiredProfile is the profile a configuration is judged under when the
// caller does not say: Pearl's whenever it meets Pearl's rules, so that a
// proof Pearl would judge by the rank-penalised bound is never judged by
// the plain one.
func requiredProfile(c Config, m, n uint64) Profile {
	if Pearl.Check(c, m, n) == nil {
		return Pearl
	}
	return Local
}

// tilePattern rebuilds a tile's offset and pattern from its opened indices:
// offset = first index, pattern = FromList(indices − offset), and the offset
// must be valid for the pattern (§8).
func tilePattern(what string, idx []uint64, size uint64) (uint64, Pattern, error) {
	if len(idx) == 0 {
		return 0, Pattern{}, ruleErr(ErrTile, "%s: no indices opened", what)
	}
	if len(idx) > maxTileArea {
		return 0, Pattern{}, ruleErr(ErrTile, "%s: %d indices opened, at most %d", what, len(idx), maxTileArea)
	}
	off := idx[0]
	rel := make([]uint32, len(idx))
	for i, x := range idx {
		if x >= size {
			return 0, Pattern{}, ruleErr(ErrShape, "%s: index %d is outside [0, %d)", what, x, size)
		}
		if x < off {
			return 0, Pattern{}, ruleErr(ErrPattern, "%s: indices not ascending at position %d", what, i)
		}
		rel[i] = uint32(x - off)
	}
	pat, err := FromList(rel)
	if err != nil {
		return 0, Pattern{}, fmt.Errorf("%s: %w", what, err)
	}
	if !pat.ValidOffset(off) {
		return 0, Pattern{}, ruleErr(ErrPattern, "%s: offset %d is not a valid tile offset", what, off)
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
