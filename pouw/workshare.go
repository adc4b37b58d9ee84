package pouw

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

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
	Reason string
	Count  int64
}

// WorkShare summarises s.
func (s Stats) WorkShare() WorkShare {
	w := WorkShare{Products: s.Products, Mined: s.Mined, MACs: s.MACs, MinedMACs: s.MinedMACs,
		Paused: s.Paused, Ineligible: s.Unmined() - s.Paused}
	if s.MACs > 0 {
		w.Share = float64(s.MinedMACs) / float64(s.MACs)
	}
	for r, n := range s.UnminedReasons {
		w.Reasons = append(w.Reasons, ReasonCount{r, n})
	}
	slices.SortFunc(w.Reasons, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return w
}

// String renders the summary on a few lines, e.g.
//
//	mined 40 of 60 products, 66.7% of 1.26e+08 MACs in the lottery
//	unmined 20: 10 paused, 10 ineligible
//	  10  32x1024x32: ErrBadParams: pearl: 16r ≤ k: …
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
