package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usefulwork/minedmatmul/bench/internal/peak"
	"github.com/usefulwork/minedmatmul/pouw"
)

// CPU is what /proc/cpuinfo says about this machine's first processor.
type CPU struct {
	Vendor, Model  string // vendor_id, model name
	Family, Number string // cpu family, model
	Flags          map[string]bool
}

func readCPU() CPU {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return parseCPUInfo(string(b))
}

// parseCPUInfo reads the first processor's fields of a /proc/cpuinfo text.
func parseCPUInfo(text string) CPU {
	c := CPU{Flags: map[string]bool{}}
	for _, line := range strings.Split(text, "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) == "" && c.Model != "" {
				break // the end of the first processor
			}
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(name) {
		case "vendor_id":
			c.Vendor = val
		case "model name":
			c.Model = val
		case "cpu family":
			c.Family = val
		case "model":
			c.Number = val
		case "flags":
			for _, f := range strings.Fields(val) {
				c.Flags[f] = true
			}
		}
	}
	if c.Model == "" {
		c.Model = runtime.GOARCH
	}
	return c
}

// Key names the CPU family a section of RESULTS.md belongs to: the vendor
// and the GEMM kernel this CPU runs, e.g. "amd-avx2" or "intel-avx512-vnni".
func (c CPU) Key(kernel string) string {
	v := strings.ToLower(c.Vendor)
	switch v {
	case "authenticamd":
		v = "amd"
	case "genuineintel":
		v = "intel"
	case "":
		v = runtime.GOARCH
	}
	return v + "-" + kernel
}

// ISA describes the vector extensions that matter here.
func (c CPU) ISA() string {
	switch {
	case c.Flags["avx512_vnni"]:
		return "AVX-512 VNNI"
	case c.Flags["avx512f"]:
		return "AVX-512 without VNNI"
	case c.Flags["avx2"]:
		return "AVX2 only, no AVX-512"
	}
	return "no AVX2"
}

func (c CPU) flagList() string {
	var out []string
	for _, f := range []string{"avx2", "avx512f", "avx512bw", "avx512_vnni", "avx512_vbmi", "avx_vnni"} {
		yes := "no"
		if c.Flags[f] {
			yes = "yes"
		}
		out = append(out, f+" "+yes)
	}
	return strings.Join(out, ", ")
}

// loadAvg is the 1, 5 and 15-minute load averages, or "?": the machines are
// shared, and a busy neighbour halves absolute figures while ratios survive.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Section markers: a run rewrites only the text between its family's two.
func beginMarker(key string) string { return "<!-- bench:begin " + key + " -->" }
func endMarker(key string) string   { return "<!-- bench:end " + key + " -->" }

// filePreamble heads a RESULTS.md that bench creates.
const filePreamble = `# Mining cost benchmark

` + "`go run ./bench`" + ` measures on the machine it runs on and rewrites only that CPU family's section of
this file, the text between ` + "`<!-- bench:begin KEY -->` and `<!-- bench:end KEY -->`" + `, where KEY is the CPU
vendor and the GEMM kernel the run used (` + "`amd-avx2`, `amd-avx512-vnni`, `intel-avx512-vnni`" + `): a run on
another family appends its own section, a rerun on the same family replaces its older one. Each section
names its CPU model, date, command and load average.
`

// MergeSection returns old with key's section replaced by body, or body
// appended as a new section (after the preamble, when old is empty).
func MergeSection(old []byte, key string, body []byte) []byte {
	var sec bytes.Buffer
	sec.WriteString(beginMarker(key) + "\n")
	sec.Write(bytes.TrimRight(body, "\n"))
	sec.WriteString("\n" + endMarker(key) + "\n")
	begin, end := []byte(beginMarker(key)), []byte(endMarker(key))
	if i := bytes.Index(old, begin); i >= 0 {
		if j := bytes.Index(old[i:], end); j >= 0 {
			j += i + len(end)
			if j < len(old) && old[j] == '\n' {
				j++
			}
			return slices.Concat(old[:i], sec.Bytes(), old[j:])
		}
	}
	if len(bytes.TrimSpace(old)) == 0 {
		old = []byte(filePreamble)
	}
	out := bytes.TrimRight(slices.Clone(old), "\n")
	return slices.Concat(out, []byte("\n\n"), sec.Bytes())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1e3) }

func pct(part, whole time.Duration) string {
	return fmt.Sprintf("%.1f%%", 100*part.Seconds()/whole.Seconds())
}

// reportInfo is everything a section shows.
type reportInfo struct {
	key, kernel           string
	cpu                   CPU
	results               []Result
	verify                time.Duration
	rounds, bigRounds     int
	loadBefore, loadAfter string
	elapsed               time.Duration
	maxForeign            float64
	ceiling               float64 // best cache-resident kernel GMAC/s
	ceilingAt             Shape
}

// other is a mined product's time outside its phases.
func (r Result) other() time.Duration { return max(0, r.Mined-r.Phases.Total()) }

// gemmExtra is the GEMM phase's time beyond the plain kernel's: the fused
// transcript and denoising epilogue.
func (r Result) gemmExtra() time.Duration { return r.Phases.GEMM - r.Kernel }

// perRound is the median over rounds of f(round's kernel time, floors,
// figures); with no rounds recorded, f of the medians.
func (r Result) perRound(f func(kernel time.Duration, fl Floors, rd Round) float64) float64 {
	if len(r.Per) == 0 {
		return f(r.Kernel, r.Floors, Round{Kernel: r.Kernel, Mined: r.Mined, Thin: r.Thin, Phases: r.Phases, Rates: r.Rates})
	}
	xs := make([]float64, len(r.Per))
	for i, rd := range r.Per {
		xs[i] = f(rd.Kernel, FloorsOf(r.Row.Shape, r.Config, r.Tiles, rd.Rates), rd)
	}
	return medianF(xs)
}

// FloorRatio is (kernel as measured + the protocol's floors) / kernel, the
// median of the rounds' own ratios (each round's floors at its own rates).
func (r Result) FloorRatio() float64 {
	return r.perRound(func(k time.Duration, f Floors, _ Round) float64 {
		return (k + f.Protocol()).Seconds() / k.Seconds()
	})
}

// FloorRatioAtPeak is (the kernel's floor + the protocol's floors) / the
// kernel's floor: mined/kernel if everything ran at this CPU's ceilings.
func (r Result) FloorRatioAtPeak() float64 {
	return r.perRound(func(_ time.Duration, f Floors, _ Round) float64 {
		return (f.Kernel + f.Protocol()).Seconds() / max(f.Kernel.Seconds(), 1e-12)
	})
}

// gaps are each phase's measured time less its floor, over the kernel's
// time (medians of the rounds' own), in gapNames' order; they add up to
// about mined/kernel less the floor ratio.
func (r Result) gaps() []float64 {
	parts := []func(f Floors, rd Round) time.Duration{
		func(f Floors, rd Round) time.Duration { return rd.Phases.Commit - f.Commit },
		func(f Floors, rd Round) time.Duration { return rd.Phases.Noise - f.Noise },
		func(f Floors, rd Round) time.Duration { return rd.Phases.Denoise - f.DenoiseOps },
		func(f Floors, rd Round) time.Duration {
			return rd.Phases.GEMM - rd.Kernel - f.Epilogue - f.Transcript
		},
		func(f Floors, rd Round) time.Duration { return rd.Phases.Tickets - f.Tickets },
		func(f Floors, rd Round) time.Duration { return max(0, rd.Mined-rd.Phases.Total()) },
	}
	out := make([]float64, len(parts))
	for i, part := range parts {
		out[i] = r.perRound(func(k time.Duration, f Floors, rd Round) float64 { return part(f, rd).Seconds() / k.Seconds() })
	}
	return out
}

var gapNames = []string{"commit", "noise", "denoise operands", "GEMM beyond kernel", "tickets", "other"}

func report(w io.Writer, in reportInfo) {
	cpu := in.cpu
	fmt.Fprintf(w, "## %s, %s (kernel %s)\n\n", cpu.Model, cpu.ISA(), in.kernel)
	fmt.Fprintf(w, "* date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "* CPU: %s (%s, family %s model %s); flags: %s; GOMAXPROCS %d\n",
		cpu.Model, cpu.Vendor, cpu.Family, cpu.Number, cpu.flagList(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "* Go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "* kernel: %s; DefaultPolicy (the profile's minimum rank: 32 local, 128 pearl; 16×16 tiles)\n", in.kernel)
	fmt.Fprintf(w, "* command: `%s` (medians of %d interleaved rounds; %d for rows above 2³⁴ MACs); %.0f s in all\n",
		strings.TrimSpace("go run ./bench "+strings.Join(os.Args[1:], " ")), in.rounds, min(in.rounds, in.bigRounds), in.elapsed.Seconds())
	fmt.Fprintf(w, "* load average (1, 5, 15 min) before and after: %s; %s (the bench itself keeps every core busy; other processes' share\n  of each round is the foreign load below, and ratios are taken within a round)\n\n",
		in.loadBefore, in.loadAfter)

	fmt.Fprintf(w, "### Throughput (G multiply-accumulates per second; m×k×n)\n\n")
	fmt.Fprintf(w, "Kernel is pouw.Multiply writing into a preallocated output; unmined is the same with a fresh output each time;\n")
	fmt.Fprintf(w, "mined is Miner.MatMulInto writing into a reused output, as the op and a training loop do. Ratios are of times,\n")
	fmt.Fprintf(w, "each the median of the rounds' own ratios; the share of peak is the kernel's against the int8 peak measured in\n")
	fmt.Fprintf(w, "the same round. Stock is skipped (—) for the largest rows.\n\n")
	fmt.Fprintf(w, "Foreign load is the share of the machine's CPU time that other processes took during a round (median of the\n")
	fmt.Fprintf(w, "kept rounds); a round above %.0f%% is run again, up to 3× the rounds, and the least disturbed are kept (kept/run).\n", 100*in.maxForeign)
	fmt.Fprintf(w, "Kernel spread is (slowest − fastest round of the kernel) / its median: a difference between two separately timed\n")
	fmt.Fprintf(w, "products below (GEMM beyond kernel, k+2r, quantise) is resolved only where it is larger than about that share of\n")
	fmt.Fprintf(w, "the kernel.\n\n")
	fmt.Fprintf(w, "| shape | profile, r | stock gorgonia.Mul f32 | kernel, mining off | unmined | mined | mined/unmined | mined/kernel | mined float op | op vs stock | int8 peak (%s) | kernel share of peak | kernel spread | foreign load (rounds clean/run) |\n", peak.Instr(peak.Int8))
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range in.results {
		s := r.Row.Shape
		share := "n/a"
		if r.Rates.Int8 > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.Share)
		}
		stock, vs := "—", "—"
		if r.Stock > 0 {
			stock, vs = fmt.Sprintf("%.1f", gmacs(s, r.Stock)), fmt.Sprintf("%.2f×", r.StockPerOp)
		}
		foreign := "?"
		if r.Foreign >= 0 {
			foreign = fmt.Sprintf("%.1f%%", 100*r.Foreign)
		}
		fmt.Fprintf(w, "| %v | %s, %d | %s | %.1f | %.1f | %.1f | %.3f | %.3f | %.1f | %s | %.0f | %s | %.0f%% | %s (%d/%d) |\n", s, r.Row.Profile, r.Config.Rank,
			stock, gmacs(s, r.Kernel), gmacs(s, r.Unmined), gmacs(s, r.Mined),
			r.MinedPerUnmined, r.MinedPerKernel, gmacs(s, r.OpMine), vs, r.Rates.Int8/1e9, share, 100*r.KernelSpread, foreign, r.Clean, r.Attempts)
	}

	fmt.Fprintf(w, "\n### Where a mined product's time goes (ms, median per phase; share of the mined total)\n\n")
	fmt.Fprintf(w, "GEMM+transcript includes the denoising epilogue (the rank-2r correction folded into the kernel); denoise is\n")
	fmt.Fprintf(w, "preparing that correction (A·E_BL and E_AR·B′), or, for k ≤ 7r/4, multiplying A and Bᵀ again instead. Quantise is\n")
	fmt.Fprintf(w, "the op's time beyond the mined product: quantising,\n")
	fmt.Fprintf(w, "dequantising and the graph machinery (the median of the rounds' own differences), split into the op's own\n")
	fmt.Fprintf(w, "(the op outside a graph, into an output it keeps, less the mined product) and the graph's run (the op in its\n")
	fmt.Fprintf(w, "graph less the op outside: the VM, and a fresh output every run, with the collections its garbage brings). Other\n")
	fmt.Fprintf(w, "is the mined total less its phases: input checks, scratch, the tile grid, the Miner's bookkeeping.\n\n")
	fmt.Fprintf(w, "| shape | profile, r | kernel | commit | noise | GEMM+transcript | tickets | denoise | other | mined total | quantise (op − mined) | of it the op's own | of it the graph's run |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range in.results {
		p, tot, other := r.Phases, r.Mined, r.other()
		fmt.Fprintf(w, "| %v | %s, %d | %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s | %s | %s | %s |\n", r.Row.Shape, r.Row.Profile, r.Config.Rank, ms(r.Kernel),
			ms(p.Commit), pct(p.Commit, tot), ms(p.Noise), pct(p.Noise, tot), ms(p.GEMM), pct(p.GEMM, tot),
			ms(p.Tickets), pct(p.Tickets, tot), ms(p.Denoise), pct(p.Denoise, tot), ms(other), pct(other, tot),
			ms(r.Mined), ms(r.Quantise), ms(r.Bridge), ms(r.Graph))
	}

	reportTargets(w, in)
	reportCeilings(w, in)
	reportFloors(w, in)
	reportLimits(w, in)
	fmt.Fprintf(w, "\n### Verification\n\nOne plain proof (16×16 tile, k = 1024, r = 32, local profile): %.3f ms.\n", in.verify.Seconds()*1e3)
}

func reportCeilings(w io.Writer, in reportInfo) {
	var all []Rates
	for _, r := range in.results {
		all = append(all, r.Rates)
	}
	med := medianRates(all)
	fmt.Fprintf(w, "\n### This CPU's ceilings\n\n")
	fmt.Fprintf(w, "Measured on all %d cores at once, in every round of every row, beside the products (bench/floor.go,\n", runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "bench/internal/peak); the instruction loops twice a round, at its start and its end, the faster counting (a\n")
	fmt.Fprintf(w, "ceiling measured low is a neighbour's load). Medians over all rows here; each row's floors in ms use its own\n")
	fmt.Fprintf(w, "rounds' medians, and its ratios each round's own rates. The kernel ceiling is measured once, before the rows.\n\n")
	fmt.Fprintf(w, "| ceiling | how it is measured | rate |\n|---|---|---:|\n")
	fmt.Fprintf(w, "| int8 peak | %s loop: 12 independent accumulators, no loads (the exact int8 step of the %s kernel) | %.1f GMAC/s |\n",
		peak.Instr(peak.Int8), in.kernel, med.Int8/1e9)
	fmt.Fprintf(w, "| int16 dot rate | %s loop, as above (the epilogue's instruction) | %.1f GMAC/s |\n", peak.Instr(peak.Int16), med.Int16/1e9)
	fmt.Fprintf(w, "| vector XOR | %s loop, as above | %.1f G 32-bit lanes/s |\n", peak.Instr(peak.Xor32), med.Xor32/1e9)
	fmt.Fprintf(w, "| BLAKE3 Merkle rate | pouw.CommitmentRoot (keyed BLAKE3 chunk tree, all cores) of a %d MiB buffer | %.2f GB/s (%.0f M compressions/s at 17 per KiB) |\n",
		blake3Bytes>>20, med.Blake3/1e9, med.Blake3*compressionsPerByte/1e6)
	lo, hi := med.Copy, med.Copy
	for _, r := range all {
		lo, hi = min(lo, r.Copy), max(hi, r.Copy)
	}
	fmt.Fprintf(w, "| copy | copy() of the row's own A and Bᵀ ((m+n)·k bytes) into as large a buffer, cut over the cores | %.1f–%.1f GB/s across rows |\n", lo/1e9, hi/1e9)
	fmt.Fprintf(w, "| kernel ceiling | best pouw.Multiply (preallocated output) over cache-resident shapes, best of 3 | %.1f GMAC/s at %v (%.0f%% of the int8 peak) |\n",
		in.ceiling, in.ceilingAt, 100*in.ceiling*1e9/max(med.Int8, 1))
}

func reportFloors(w io.Writer, in reportInfo) {
	fmt.Fprintf(w, "\n### Floors: each phase's minimum from its operation count at the ceilings above (ms: floor / measured)\n\n")
	fmt.Fprintf(w, "* commit: (m+n)·k bytes at the BLAKE3 Merkle rate;\n")
	fmt.Fprintf(w, "* noise: the PRF's keyed compressions ((m+n)·r/32 for E_AL and E_BRᵀ, 2·⌈k/8⌉ for the sparse pairs) at the BLAKE3\n")
	fmt.Fprintf(w, "  compression rate, plus forming A′ and B′ ((m+n)·k bytes read and written) at the copy rate;\n")
	fmt.Fprintf(w, "* denoise operands: A·E_BL and E_AR·B′ with the sparse ±1 factors, 2·(m+n)·k 32-bit additions at the vector\n")
	fmt.Fprintf(w, "  lane rate plus one pass over A and Bᵀ at the copy rate, or, where cheaper, as dense int8 products, (m+n)·k·r MACs\n")
	fmt.Fprintf(w, "  at the int8 peak; for a short k, where it is cheaper than these and the correction together, the product of A\n")
	fmt.Fprintf(w, "  and Bᵀ computed again, m·n·k MACs at the int8 peak (the miner does that for k ≤ 7r/4);\n")
	fmt.Fprintf(w, "* epilogue + transcript, against GEMM+transcript less the kernel's own time: the rank-2r correction, m·n·2r MACs\n")
	fmt.Fprintf(w, "  at the int16 dot rate (none where A·Bᵀ is computed again), and one XOR of each tile accumulator per chunk of r,\n")
	fmt.Fprintf(w, "  tiles·h·w·(dot_len/r) lanes;\n")
	fmt.Fprintf(w, "* tickets: one keyed compression per tile at the BLAKE3 compression rate;\n")
	fmt.Fprintf(w, "* other (allocation, checks, the grid): 0, since buffers can be reused.\n\n")
	fmt.Fprintf(w, "Floor ratio = (kernel as measured + the floors) / kernel: what mined/kernel would be if every phase ran at its\n")
	fmt.Fprintf(w, "floor and the kernel as it is; \"at peak\" puts the kernel at the int8 peak too. A negative GEMM beyond the\n")
	fmt.Fprintf(w, "kernel means the mined product's fused GEMM ran faster than pouw.Multiply on the same shape.\n\n")
	fmt.Fprintf(w, "| shape | profile, r | kernel at peak / measured | commit | noise | denoise operands | epilogue + transcript / GEMM beyond kernel | tickets | other | floor ratio | floor ratio at peak | mined/kernel |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	pair := func(f, m time.Duration) string { return ms(f) + " / " + ms(m) }
	for _, r := range in.results {
		f, p := r.Floors, r.Phases
		fmt.Fprintf(w, "| %v | %s, %d | %s | %s | %s | %s | %s | %s | 0 / %s | %.3f | %.3f | %.3f |\n", r.Row.Shape, r.Row.Profile, r.Config.Rank,
			pair(f.Kernel, r.Kernel), pair(f.Commit, p.Commit), pair(f.Noise, p.Noise), pair(f.DenoiseOps, p.Denoise),
			pair(f.Epilogue+f.Transcript, r.gemmExtra()), pair(f.Tickets, p.Tickets), ms(r.other()),
			r.FloorRatio(), r.FloorRatioAtPeak(), r.MinedPerKernel)
	}
	fmt.Fprintf(w, "\n### Distance from the floor (measured − floor, in units of the kernel's time)\n\n")
	fmt.Fprintf(w, "Each gap, the floor ratio and mined/kernel are medians of the rounds' own figures (each round's floors at its\n")
	fmt.Fprintf(w, "own rates), so the gaps add up to about, not exactly, mined/kernel − floor ratio.\n\n")
	fmt.Fprintf(w, "| shape | profile, r | %s | mined/kernel − floor ratio | furthest above its floor |\n", strings.Join(gapNames, " | "))
	fmt.Fprintf(w, "|---|---|%s---:|---|\n", strings.Repeat("---:|", len(gapNames)))
	for _, r := range in.results {
		g := r.gaps()
		cells := make([]string, len(g))
		worst := 0
		for i, x := range g {
			cells[i] = fmt.Sprintf("%+.3f", x)
			if x > g[worst] {
				worst = i
			}
		}
		fmt.Fprintf(w, "| %v | %s, %d | %s | %+.3f | %s (%+.3f) |\n", r.Row.Shape, r.Row.Profile, r.Config.Rank, strings.Join(cells, " | "),
			r.MinedPerKernel-r.FloorRatio(), gapNames[worst], g[worst])
	}
}

// reportLimits measures what holds the phases furthest from their floors
// back, where public APIs can tell: the denoising operands' thin products
// through the kernel, and the single-block hashes at the scalar rate.
func reportLimits(w io.Writer, in reportInfo) {
	scalar := !in.cpu.Flags["avx512f"] && !in.cpu.Flags["avx2"] // hash16's vector paths
	fmt.Fprintf(w, "\n### What holds the phases back (ms, medians)\n\n")
	fmt.Fprintf(w, "* thin products: A (m×k) and Bᵀ (n×k) times an r×k ±1 factor written out densely, through pouw.Multiply, one\n")
	fmt.Fprintf(w, "  after the other, and their share of the int8 peak: the dense way to A·E_BL and E_AR·B′, beside the denoise\n")
	fmt.Fprintf(w, "  phase, which takes the sparse way (two additions per entry) and lays out the correction;\n")
	fmt.Fprintf(w, "* k+2r: pouw.Multiply of m×(k+2r)×n less the kernel's time (median of the rounds' own differences), the\n  epilogue's MACs at the kernel's own efficiency\n")
	fmt.Fprintf(w, "  (the AVX2 kernel appends the correction's 2r columns to k), beside the GEMM's measured time beyond the kernel\n")
	fmt.Fprintf(w, "  (epilogue and transcript) and their floor;\n")
	fmt.Fprintf(w, "* at the scalar rate: the phase's keyed single-block compressions at the plain-Go rate of guts.CompressNode on all\n")
	fmt.Fprintf(w, "  cores, which is what package hash16 runs without AVX2 or AVX-512 (noise adds forming A′, B′ at the copy rate);\n")
	fmt.Fprintf(w, "  — where the CPU has either and hash16 its 8- or 16-lane path.\n\n")
	fmt.Fprintf(w, "| shape | profile, r | denoise: measured / thin products / floor | thin products' share of peak | GEMM beyond kernel: measured / k+2r / floor | tickets: measured / at scalar rate / floor | noise: measured / at scalar rate / floor | scalar compressions |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|\n")
	at := func(n, rate float64) time.Duration {
		if rate <= 0 {
			return 0
		}
		return time.Duration(n / rate * 1e9)
	}
	for _, r := range in.results {
		s, f, p, rt := r.Row.Shape, r.Floors, r.Phases, r.Rates
		rank := int(r.Config.Rank)
		thinMACs := float64(s.M+s.N) * float64(s.K) * float64(rank)
		share := "n/a"
		if rt.Int8 > 0 && r.Thin > 0 {
			share = fmt.Sprintf("%.0f%%", 100*thinMACs/r.Thin.Seconds()/rt.Int8)
		}
		tick, noise := "—", "—"
		if scalar {
			tick = ms(at(float64(r.Tiles), rt.Scalar))
			noise = ms(at(PRFCompressions(s.M, s.K, s.N, rank), rt.Scalar) + at(float64(s.M+s.N)*float64(s.K), rt.Copy))
		}
		fmt.Fprintf(w, "| %v | %s, %d | %s / %s / %s | %s | %s / %s / %s | %s / %s / %s | %s / %s / %s | %.1f M/s |\n", s, r.Row.Profile, rank,
			ms(p.Denoise), ms(r.Thin), ms(f.DenoiseOps), share,
			ms(r.gemmExtra()), ms(r.WideExtra), ms(f.Epilogue+f.Transcript),
			ms(p.Tickets), tick, ms(f.Tickets), ms(p.Noise), noise, ms(f.Noise), rt.Scalar/1e6)
	}
}

// target is one of the project's performance targets for a row: want is an upper bound
// unless atLeast.
type target struct {
	row     Row
	what    string
	want    float64
	atLeast bool
	get     func(Result) float64
	format  string
}

// reportTargets compares the standard rows with the performance targets.
func reportTargets(w io.Writer, in reportInfo) {
	mk := func(m, k, n int, p pouw.Profile) Row { return Row{Shape{m, k, n}, p} }
	perKernel := func(r Result) float64 { return r.MinedPerKernel }
	overFloor := func(r Result) float64 { return r.MinedPerKernel - r.FloorRatio() }
	otherShare := func(r Result) float64 { return r.other().Seconds() / r.Mined.Seconds() }
	share := func(r Result) float64 { return r.Share }
	quant := func(r Result) float64 { return r.Quantise.Seconds() / r.Mined.Seconds() }
	l1024, l2048 := mk(1024, 1024, 1024, pouw.Local), mk(2048, 2048, 2048, pouw.Local)
	p2048, p4096 := mk(2048, 2048, 2048, pouw.Pearl), mk(4096, 4096, 4096, pouw.Pearl)
	mnist := []Row{mk(128, 784, 1024, pouw.Local), mk(256, 1024, 1024, pouw.Local), mk(784, 256, 1024, pouw.Local)}
	ts := []target{
		{l1024, "mined / kernel", 1.6, false, perKernel, "%.3f"},
		{l2048, "mined / kernel", 1.3, false, perKernel, "%.3f"},
		{p2048, "mined / kernel", 1.8, false, perKernel, "%.3f"},
		{p4096, "mined / kernel", 1.4, false, perKernel, "%.3f"},
		{mnist[0], "mined / kernel", 2.2, false, perKernel, "%.3f"},
	}
	for _, r := range in.results {
		ts = append(ts, target{r.Row, "mined / kernel − floor ratio", 0.15, false, overFloor, "%+.3f"})
	}
	for _, r := range []Row{l1024, l2048, p2048, p4096} {
		ts = append(ts, target{r, "other phase share of mined", 0.03, false, otherShare, "%.3f"})
	}
	for _, r := range []Row{l1024, l2048} {
		ts = append(ts, target{r, "kernel share of the int8 peak", 0.85, true, share, "%.2f"})
	}
	for _, r := range mnist {
		ts = append(ts, target{r, "(op − mined) / mined", 0.4, false, quant, "%.2f"})
	}
	fmt.Fprintf(w, "\n### Against the project's performance targets (this run)\n\n")
	fmt.Fprintf(w, "| row | figure | target | here | met |\n|---|---|---:|---:|---|\n")
	for _, t := range ts {
		i := slices.IndexFunc(in.results, func(r Result) bool { return r.Row == t.row })
		if i < 0 {
			continue
		}
		v := t.get(in.results[i])
		cmpS, met := "≤", v <= t.want
		if t.atLeast {
			cmpS, met = "≥", v >= t.want
		}
		yes := "no"
		if met {
			yes = "yes"
		}
		fmt.Fprintf(w, "| %v | %s | %s %s | "+t.format+" | %s |\n", t.row, t.what, cmpS, strconv.FormatFloat(t.want, 'f', -1, 64), v, yes)
	}
}
