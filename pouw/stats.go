package pouw

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Stats are a Miner's running totals.
type Stats struct {
	Products  int64  // products computed, mined or not
	Mined     int64  // products mined
	MACs      uint64 // multiply-accumulates of all products (m·n·k)
	MinedMACs uint64 // multiply-accumulates inside tiles: the lottery's work
	Tiles     int64  // tickets drawn
	Proofs    int64  // winning tiles reported to OnProof, each once
	// ExpectedProofs is how many winning tiles the mined products were
	// expected to find, every tile's chance under its own bound summed:
	// Proofs should be near it (a Poisson count).
	ExpectedProofs float64
	// Duplicates counts wins whose proof was byte-identical to one already
	// reported (a product recomputed from the same operands under the same
	// job): they are neither reported nor counted in Proofs again.
	Duplicates int64
	// SelfCheckFailures counts wins whose proof failed verification, which
	// only a faulty kernel causes; they are never reported. LastSelfCheck
	// is the latest such failure.
	SelfCheckFailures int64
	LastSelfCheck     error
	// Unmined counts the products computed without mining, by reason.
	Unmined map[UnminedReason]int64
	Paused  int64  // unmined products for want of a job (reason ErrNoJob)
	Phases  Phases // time in each phase, summed over products
	ByRole  map[string]RoleStats
}

// RoleStats are the totals of one Tag.Role.
type RoleStats struct {
	Products, Mined int64
	MACs, MinedMACs uint64
	Tiles, Proofs   int64
}

// UnminedReason is why products went unmined: the code of the rule that
// refused them (ErrNoJob when there was no job) and their shape, written
// m×k×n: A is m×k, B is k×n.
type UnminedReason struct {
	Code    ErrorCode
	M, K, N int
}

// String renders the reason as "ErrTile 64x784x1".
func (r UnminedReason) String() string {
	return fmt.Sprintf("%s %dx%dx%d", r.Code, r.M, r.K, r.N)
}

// UnminedProducts is the number of products computed without mining.
func (s Stats) UnminedProducts() int64 { return s.Products - s.Mined }

// WorkShare says how much of a session's work entered the lottery, and why
// the rest did not. Under the Pearl profile only products that meet Pearl's
// rules (r ≥ 128, 16r ≤ k, k ≥ 1024, …) are mined; the rest are computed
// exactly and unmined, so this is the share of the model's work that can
// earn blocks.
type WorkShare struct {
	Products, Mined int64
	MACs            uint64  // all multiply-accumulates (m·n·k summed)
	MinedMACs       uint64  // those inside mined tiles: the lottery's work
	Share           float64 // MinedMACs / MACs; 0 when nothing was computed
	// Paused counts products unmined because the job source had no job;
	// Ineligible the rest: shapes the profile or the policy refused, or a
	// job this miner cannot mine. Only Ineligible says something about the
	// model.
	Paused, Ineligible int64
	Reasons            []ReasonCount // unmined products by reason, most frequent first
}

// ReasonCount is one reason products went unmined, and how many.
type ReasonCount struct {
	Reason UnminedReason
	Count  int64
}

// WorkShare summarises s.
func (s Stats) WorkShare() WorkShare {
	w := WorkShare{Products: s.Products, Mined: s.Mined, MACs: s.MACs, MinedMACs: s.MinedMACs,
		Paused: s.Paused, Ineligible: s.UnminedProducts() - s.Paused}
	if s.MACs > 0 {
		w.Share = float64(s.MinedMACs) / float64(s.MACs)
	}
	for r, n := range s.Unmined {
		w.Reasons = append(w.Reasons, ReasonCount{r, n})
	}
	slices.SortFunc(w.Reasons, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason.String(), b.Reason.String()))
	})
	return w
}

// String renders the summary on a few lines, e.g.
//
//	mined 40 of 60 products, 66.7% of 1.26e+08 MACs in the lottery
//	unmined 20: 10 paused, 10 ineligible
//	  10  ErrInnerDim 32x1024x32
//	  10  ErrNoJob 128x784x512
func (w WorkShare) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mined %d of %d products, %.1f%% of %.3g MACs in the lottery", w.Mined, w.Products, 100*w.Share, float64(w.MACs))
	if n := w.Products - w.Mined; n > 0 {
		fmt.Fprintf(&b, "\nunmined %d: %d paused, %d ineligible", n, w.Paused, w.Ineligible)
		for _, r := range w.Reasons {
			fmt.Fprintf(&b, "\n  %d  %s", r.Count, r.Reason)
		}
	}
	return b.String()
}
