package pouw

import "fmt"

// Policy chooses the mining configuration (rank and tile) for a product
// shape. A product the chosen configuration does not fit is still computed,
// unmined, with the policy's error as the reason.
type Policy interface {
	Choose(profile Profile, m, k, n int) (Config, error)
}

// DefaultPolicy picks the smallest rank the profile allows (the noise costs
// ≈ 2r/k of the product) and the largest contiguous tile up to TileH×TileW
// that fits the product (a ticket per h·w·dot_len multiply-accumulates).
type DefaultPolicy struct {
	Rank         int // 0: the profile's minimum (32 local, 128 pearl)
	TileH, TileW int // 0: 16
}

// Choose implements Policy.
func (d DefaultPolicy) Choose(profile Profile, m, k, n int) (Config, error) {
	if d.Rank < 0 || d.TileH < 0 || d.TileW < 0 {
		return Config{}, ruleErr(ErrBadInput, "policy: negative rank %d or tile %dx%d", d.Rank, d.TileH, d.TileW)
	}
	r := d.Rank
	if r == 0 {
		r = profile.MinRank()
	}
	th, tw := d.TileH, d.TileW
	if th == 0 {
		th = 16
	}
	if tw == 0 {
		tw = 16
	}
	h, w := min(th, m)&^1, min(tw, n)&^1 // even, at most the product's size
	if h == 0 || w == 0 {
		return Config{}, ruleErr(ErrTile, "%dx%dx%d: product too small for a tile", m, k, n)
	}
	if k > maxInner {
		return Config{}, ruleErr(ErrInnerDim, "k=%d exceeds %d", k, maxInner)
	}
	rows, err := Contiguous(h)
	if err != nil {
		return Config{}, err
	}
	cols, err := Contiguous(w)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{K: uint32(k), Rank: uint16(r), Rows: rows, Cols: cols}
	if err := profile.Check(cfg, uint64(m), uint64(n)); err != nil {
		return Config{}, fmt.Errorf("%dx%dx%d: %w", m, k, n, err)
	}
	return cfg, nil
}
