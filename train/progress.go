package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Progress draws one bar per epoch: steps done, steps per second, the
// running loss, mined multiply-accumulates per second and proofs found. On a
// terminal it redraws in place; elsewhere (CI logs, files) it prints a line
// every few seconds so logs stay readable.
type Progress struct {
	w        io.Writer
	tty      bool
	every    time.Duration
	label    string
	total    int
	start    time.Time
	last     time.Time
	lastLine string
	lastStep int
}

// NewProgress writes bars to w. A terminal is detected when w is os.Stderr
// or os.Stdout attached to a character device.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, tty: isTerminal(w), every: 5 * time.Second}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Start begins a bar of total steps.
func (p *Progress) Start(label string, total int) {
	p.label, p.total = label, total
	p.start = time.Now()
	p.last = time.Time{}
}

// StepInfo is what a bar shows after a step.
type StepInfo struct {
	Step      int     // steps done in this bar
	Loss      float64 // running mean loss
	MinedMACs uint64  // mined multiply-accumulates since the bar started
	Proofs    int64   // proofs found in the whole run
}

// Update redraws the bar (at most every 100 ms on a terminal, every few
// seconds elsewhere).
func (p *Progress) Update(s StepInfo) {
	now := time.Now()
	gap := p.every
	if p.tty {
		gap = 100 * time.Millisecond
	}
	if now.Sub(p.last) < gap && s.Step < p.total {
		return
	}
	p.last = now
	p.draw(s, now)
}

// Finish draws the bar in its final state, unless that is already the last
// line written, and ends the line.
func (p *Progress) Finish(s StepInfo) {
	if p.tty || p.lastStep != s.Step || p.lastLine == "" {
		p.draw(s, time.Now())
	}
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *Progress) draw(s StepInfo, now time.Time) {
	elapsed := now.Sub(p.start).Seconds()
	rate, macs := 0.0, 0.0
	if elapsed > 0 {
		rate = float64(s.Step) / elapsed
		macs = float64(s.MinedMACs) / elapsed
	}
	const width = 24
	filled := 0
	if p.total > 0 {
		filled = min(width, width*s.Step/p.total)
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	line := fmt.Sprintf("%s [%s] %d/%d  %.1f steps/s  loss %.4f  mined %s/s  proofs %d",
		p.label, bar, s.Step, p.total, rate, s.Loss, FormatMACs(macs), s.Proofs)
	if p.tty {
		pad := ""
		if n := len(p.lastLine) - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.lastLine, p.lastStep = line, s.Step
}

// FormatMACs writes a count of multiply-accumulates with an SI prefix, e.g.
// "3.21 GMAC".
func FormatMACs(x float64) string {
	for _, u := range []struct {
		scale float64
		name  string
	}{{1e15, "PMAC"}, {1e12, "TMAC"}, {1e9, "GMAC"}, {1e6, "MMAC"}, {1e3, "kMAC"}} {
		if x >= u.scale {
			return fmt.Sprintf("%.2f %s", x/u.scale, u.name)
		}
	}
	return fmt.Sprintf("%.0f MAC", x)
}
