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
	return 0, ruleErr(ErrUnsupportedVersion, "unknown profile %q (want local or pearl)", name)
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

// Check returns a RuleError{ErrBadParams} naming the first rule of the
// profile that an m×k by k×n product with configuration c breaks.
func (p Profile) Check(c Config, m, n uint64) error {
	if p != Local && p != Pearl {
		return ruleErr(ErrUnsupportedVersion, "unknown profile %d", int(p))
	}
	// Patterns built by hand (Dims is exported) may not be canonical; one
	// that does not encode cannot be bound by the job key.
	if _, err := c.Rows.encode(); err != nil {
		return fmt.Errorf("%s: rows: %w", p, err)
	}
	if _, err := c.Cols.encode(); err != nil {
		return fmt.Errorf("%s: cols: %w", p, err)
	}
	r, k := uint64(c.Rank), uint64(c.K)
	if r == 0 || bits.OnesCount64(r) != 1 || r < uint64(p.MinRank()) || r > maxRank {
		return ruleErr(ErrBadParams, "%s: rank %d is not a power of two in [%d, %d]", p, r, p.MinRank(), maxRank)
	}
	switch p {
	case Pearl:
		if k%64 != 0 || k < 1024 || k < 16*r || k > min(4*r*r, maxInner) {
			return ruleErr(ErrBadParams, "pearl: k=%d with r=%d breaks k%%64 == 0, k ≥ 1024, 16r ≤ k ≤ min(4r², %d)", k, r, maxInner)
		}
	case Local:
		if k < r || k > maxInner {
			return ruleErr(ErrBadParams, "local: k=%d with r=%d breaks r ≤ k ≤ %d", k, r, maxInner)
		}
	}
	h, w := uint64(c.Rows.Len()), uint64(c.Cols.Len())
	if h%2 != 0 || w%2 != 0 || h*w < uint64(p.MinTileArea()) || h*w > maxTileArea {
		return ruleErr(ErrBadParams, "%s: tile %dx%d breaks h, w even and %d ≤ h·w ≤ %d", p, h, w, p.MinTileArea(), maxTileArea)
	}
	if m == 0 || n == 0 || m > maxOuter || n > maxOuter {
		return ruleErr(ErrBadParams, "%s: shape m=%d n=%d breaks 1 ≤ m, n ≤ %d", p, m, n, maxOuter)
	}
	if span := (h + w) * uint64(c.DotLen()); span > maxOpenedSpan {
		return ruleErr(ErrBadParams, "%s: (h+w)·dot_len = %d exceeds %d", p, span, maxOpenedSpan)
	}
	if uint64(c.Rows.Max()) >= m || uint64(c.Cols.Max()) >= n {
		return ruleErr(ErrBadParams, "%s: tile pattern spans %dx%d, larger than the %dx%d product", p, c.Rows.Max()+1, c.Cols.Max()+1, m, n)
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
