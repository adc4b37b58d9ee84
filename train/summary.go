package train

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Summary is what a run reports at its end.
type Summary struct {
	Model        string
	Mined        bool // false for a stock float32 run
	Epochs       int
	TrainLoss    []float64       // mean loss per epoch
	TestAccuracy []float64       // test accuracy after each epoch
	EpochTimes   []time.Duration // wall time per epoch (training only)
	Wall         time.Duration   // the whole run
	Stats        pouw.Stats      // the miner's totals (zero for a stock run)
	Nbits        uint32          // the difficulty mined at
	ProofDir     string
	ProofFiles   int // proof files written
	// StockProducts names the matrix-product nodes of a mined model that
	// are still Gorgonia's own (added after graph.Swap): never mined.
	StockProducts []string
}

// FinalAccuracy is the test accuracy after the last epoch.
func (s *Summary) FinalAccuracy() float64 {
	if len(s.TestAccuracy) == 0 {
		return 0
	}
	return s.TestAccuracy[len(s.TestAccuracy)-1]
}

// MeanEpochTime is the mean wall time of an epoch.
func (s *Summary) MeanEpochTime() time.Duration {
	if len(s.EpochTimes) == 0 {
		return 0
	}
	var t time.Duration
	for _, e := range s.EpochTimes {
		t += e
	}
	return t / time.Duration(len(s.EpochTimes))
}

// WriteTo prints the summary as an aligned table.
func (s *Summary) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	mode := "mined (int7 products, exact)"
	if !s.Mined {
		mode = "stock gorgonia.Mul float32"
	}
	row("model", "%s, %s", s.Model, mode)
	row("test accuracy", "%.2f %%", 100*s.FinalAccuracy())
	row("wall time", "%s (%d epochs, %s per epoch)", s.Wall.Round(time.Millisecond), s.Epochs, s.MeanEpochTime().Round(time.Millisecond))
	if s.Mined {
		st := s.Stats
		row("products", "%d mined, %d unmined", st.Mined, st.UnminedProducts())
		if n := len(s.StockProducts); n > 0 {
			row("  not converted", "%d stock product node(s), never mined: %s (added after graph.Swap? call it again)", n, strings.Join(s.StockProducts, ", "))
		}
		for _, r := range st.WorkShare().Reasons {
			row("  unmined", "%d× %s", r.Count, r.Reason)
		}
		share := 0.0
		if st.MACs > 0 {
			share = 100 * float64(st.MinedMACs) / float64(st.MACs)
		}
		row("MACs mined", "%s of %s (%.1f %% of all product work)", FormatMACs(float64(st.MinedMACs)), FormatMACs(float64(st.MACs)), share)
		row("tiles tried", "%d", st.Tiles)
		row("proofs found", "%d (%.1f expected at nbits %#08x)", st.Proofs, st.ExpectedProofs, s.Nbits)
		if st.Duplicates > 0 {
			row("  duplicates", "%d (recomputed products: reported once)", st.Duplicates)
		}
		if st.SelfCheckFailures > 0 {
			row("  self-check", "%d wins failed verification and were dropped: %v", st.SelfCheckFailures, st.LastSelfCheck)
		}
		if s.ProofDir != "" {
			row("proof files", "%d in %s", s.ProofFiles, s.ProofDir)
		}
		for _, role := range sortedKeys(st.ByRole) {
			r := st.ByRole[role]
			name := role
			if name == "" {
				name = "(untagged)"
			}
			row("  "+name, "%d products (%d mined), %s mined, %d tiles, %d proofs", r.Products, r.Mined, FormatMACs(float64(r.MinedMACs)), r.Tiles, r.Proofs)
		}
		p := st.Phases
		total := p.Total()
		pct := func(d time.Duration) string {
			if total == 0 {
				return "0 %"
			}
			return fmt.Sprintf("%.1f %%", 100*float64(d)/float64(total))
		}
		row("time in products", "%s: commit %s, noise %s, GEMM+transcript %s, tickets %s, denoise %s",
			total.Round(time.Millisecond), pct(p.Commit), pct(p.Noise), pct(p.GEMM), pct(p.Tickets), pct(p.Denoise))
	}
	tw.Flush()
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
