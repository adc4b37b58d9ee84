package pouw

import (
	"fmt"
	"math/big"
	"math/bits"
)

// Profile is a set of parameter rules and a bound formula (§10). Pearl is
// mainnet consensus; Local relaxes the size rules so the smaller products of
// everyday training can be mined too.
type Profile int

const (
	// Local mines everyday training shapes: r ≥ 32, r ≤ k, 4 ≤ h·w, unpenalised bound.
	Local Profile = iota + 1
	// Pearl is Pearl mainnet (certificate version 3): r ≥ 128, 16r ≤ k ≤ 4r²,
	// k ≥ 1024 and a multiple of 64, 32 ≤ h·w, rank-penalised bound.
	Pearl
)

// String returns the profile's name as written in proof files: "local" or "pearl".
func (p Profile) String() string {
	switch p {
	case Local:
		return "local"
	case Pearl:
		return "pearl"
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// ParseProfile maps a profile name ("local", "pearl") to its Profile.
func ParseProfile(name string) (Profile, error) {
	switch name {
	case "local":
		return Local, nil
	case "pearl":
		return Pearl, nil
	}
	return 0, ruleErr(ErrProfile, "unknown profile %.40q (want local or pearl)", name)
}

// check reports an unknown profile; every entry point that takes a Profile
// calls it first.
func (p Profile) check() error {
	if p != Local && p != Pearl {
		return ruleErr(ErrProfile, "unknown profile %d", int(p))
	}
	return nil
}

// Limits shared by both profiles (§10).
const (
	maxInner      = 65536   // k: keeps |partial sums| ≤ 127²·k below 2³¹
	maxOuter      = 1 << 24 // m and n
	maxOpenedSpan = 4 << 20 // (h+w)·dot_len: bytes a verifier hashes
	maxTileArea   = 256
	maxRank       = 1024
)

// MinRank is the smallest noise rank the profile accepts.
func (p Profile) MinRank() int {
	if p == Pearl {
		return 128
	}
	return 32
}

// MinTileArea is the smallest h·w the profile accepts.
func (p Profile) MinTileArea() int {
	if p == Pearl {
		return 32
	}
	return 4
}

// Check returns a RuleError naming the first rule of the profile that an
// m×k by k×n product with configuration c breaks (§10), or nil. It is the
// one place the parameter rules live: the policy, the miner and the
// verifier all call it.
func (p Profile) Check(c Config, m, n uint64) error {
	if err := p.check(); err != nil {
		return err
	}
	r, k := uint64(c.Rank), uint64(c.K)
	if r == 0 || bits.OnesCount64(r) != 1 || r < uint64(p.MinRank()) || r > maxRank {
		return ruleErr(ErrRank, "%s: rank %d is not a power of two in [%d, %d]", p, r, p.MinRank(), maxRank)
	}
	switch p {
	case Pearl:
		if k%64 != 0 || k < 1024 || k < 16*r || k > min(4*r*r, maxInner) {
			return ruleErr(ErrInnerDim, "pearl: k=%d with r=%d breaks k%%64 == 0, k ≥ 1024, 16r ≤ k ≤ min(4r², %d)", k, r, maxInner)
		}
	case Local:
		if k < r || k > maxInner {
			return ruleErr(ErrInnerDim, "local: k=%d with r=%d breaks r ≤ k ≤ %d", k, r, maxInner)
		}
	}
	h, w := uint64(c.Rows.Len()), uint64(c.Cols.Len())
	if h%2 != 0 || w%2 != 0 || h*w < uint64(p.MinTileArea()) || h*w > maxTileArea {
		return ruleErr(ErrTile, "%s: tile %dx%d breaks h, w even and %d ≤ h·w ≤ %d", p, h, w, p.MinTileArea(), maxTileArea)
	}
	if m == 0 || n == 0 || m > maxOuter || n > maxOuter {
		return ruleErr(ErrShape, "%s: shape m=%d n=%d breaks 1 ≤ m, n ≤ %d", p, m, n, maxOuter)
	}
	if span := (h + w) * uint64(c.DotLen()); span > maxOpenedSpan {
		return ruleErr(ErrOpenedSpan, "%s: (h+w)·dot_len = %d exceeds %d", p, span, maxOpenedSpan)
	}
	if uint64(c.Rows.Max()) >= m || uint64(c.Cols.Max()) >= n {
		return ruleErr(ErrTile, "%s: tile pattern spans %dx%d, larger than the %dx%d product", p, c.Rows.Max()+1, c.Cols.Max()+1, m, n)
	}
	if p == Pearl {
		return checkPearlCircuit(c, m, n)
	}
	return nil
}

// Bound is the largest winning ticket for a tile of configuration c under
// target (§5): target·h·w·dot_len (Local) or target·h·w·(dot_len/r)·128
// (Pearl, rank-penalised), saturating at 2²⁵⁶−1.
func (p Profile) Bound(c Config, target *big.Int) *big.Int {
	work := uint64(c.TileH()) * uint64(c.TileW())
	if p == Pearl {
		work *= uint64(c.DotLen()/int(c.Rank)) * 128
	} else {
		work *= uint64(c.DotLen())
	}
	b := new(big.Int).Mul(target, new(big.Int).SetUint64(work))
	if b.Cmp(maxUint256) > 0 {
		b.Set(maxUint256)
	}
	return b
}

// ExpectedMACs is the expected number of multiply-accumulates of mined work
// per winning tile at target, for noise rank r (§5): 2²⁵⁶/target under the
// plain bound, and r/128 times that under Pearl's rank-penalised bound,
// which pays a tile for its dot_len/r chunks, not its dot_len MACs.
func (p Profile) ExpectedMACs(target *big.Int, rank int) float64 {
	e := expectedMACs(target)
	if p == Pearl {
		e *= float64(rank) / 128
	}
	return e
}

// Nbits is the compact target at which one winning tile is expected per
// macs multiply-accumulates of mined work at noise rank r: the inverse of
// ExpectedMACs, rounded to nbits' three significant bytes (below 2⁻¹⁵).
func (p Profile) Nbits(macs float64, rank int) uint32 {
	if p == Pearl {
		macs /= float64(rank) / 128
	}
	return BigToCompact(targetForExpectedMACs(macs))
}

// maxCircuitCost bounds the Merkle-opening part of Pearl's certificate
// circuit. Pearl proves a block with a STARK of at most 2¹⁹ rows
// (PearlCircuitParams::sanity_check in zk-pow/src/v2/circuit/pearl_circuit.rs
// of pearl-research-labs/pearl); the BLAKE3 openings take 8 rows per
// compression, 17 compressions per opened 1 KiB chunk (16 blocks and its
// parent) and one per sibling hash, so they fit iff
// 17·chunks + siblings ≤ 65537 (pearl_program.rs, expected_num_rows). The
// matrix-product part never exceeds 2¹⁸ rows within the other rules.
const maxCircuitCost = 65537

// checkPearlCircuit rejects a configuration some tile of which could need a
// certificate circuit larger than Pearl's prover accepts: a proof Pearl's
// plain verifier and gateway take, but that no block can ever carry. The
// bound is rigorous and position-free, so it holds for every tile: a strip
// of dot_len bytes meets at most ⌈dot_len/1024⌉+1 chunks (exactly
// ⌈dot_len/1024⌉ when rows start on chunk boundaries), and leaves at most two
// siblings per level of its tree. It bites only near the 4 MiB opened-span
// limit, from (h+w)·dot_len ≈ 3.5 MiB.
func checkPearlCircuit(c Config, m, n uint64) error {
	dot, k := uint64(c.DotLen()), uint64(c.K)
	chunks := (dot+chunkSize-1)/chunkSize + 1
	if k%chunkSize == 0 {
		chunks--
	}
	strip := func(rows uint64) uint64 {
		leaves := (rows*k + chunkSize - 1) / chunkSize
		depth := uint64(bits.Len64(leaves - 1))
		return 17*chunks + 2*depth
	}
	h, w := uint64(c.TileH()), uint64(c.TileW())
	if cost := h*strip(m) + w*strip(n); cost > maxCircuitCost {
		return ruleErr(ErrCircuitSize, "pearl: tile %dx%d with dot_len %d may need a certificate circuit of %d > %d BLAKE3 units", h, w, dot, cost, maxCircuitCost)
	}
	return nil
}
