// Command bench measures what mining costs on this machine and writes the
// comparison table to bench/RESULTS.md.
//
// For each product shape m×k×n it measures, side by side in one run and in
// interleaved rounds (medians over rounds, since the 2-core machines are
// shared and drift):
//
//   - stock: gorgonia.Mul on float32, run by a TapeMachine;
//   - unmined: the exact int kernel (pouw.DefaultKernel) with mining off,
//     twice: the kernel alone writing into a preallocated output, and
//     pouw.Multiply as the Miner's mining-off path calls it, which allocates
//     a fresh output as MineProduct does;
//   - mined: pouw.MineProduct under the DefaultPolicy and the local profile
//     (commitments, noise, GEMM with transcript, tickets, denoising), with
//     its phase breakdown;
//   - op: the mined float path, op.Mul in the same kind of graph as stock
//     (quantise, mine, dequantise);
//   - the CPU's int8 peak, a VPDPBUSD throughput loop on every core, and the
//     kernel's share of it within each round;
//   - the time to verify one plain proof.
//
// Usage: go run ./bench [-rounds 9] [-min 30ms] [-out bench/RESULTS.md] [-shapes ...]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/bench/internal/peak"
	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Shape is one product: A is M×K, B is K×N.
type Shape struct{ M, K, N int }

func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.M, s.K, s.N) }

// MACs is the product's multiply-accumulate count.
func (s Shape) MACs() float64 { return float64(s.M) * float64(s.K) * float64(s.N) }

// DefaultShapes are MNIST-sized layers (forward, and
// the weight gradient whose k is the batch), then square ones.
var DefaultShapes = []Shape{{128, 784, 1024}, {256, 1024, 1024}, {784, 256, 1024}, {1024, 1024, 1024}, {2048, 2048, 2048}}

func main() {
	rounds := flag.Int("rounds", 9, "interleaved measurement rounds (medians are reported)")
	minDur := flag.Duration("min", 30*time.Millisecond, "repeat each measurement until it has run this long")
	out := flag.String("out", "bench/RESULTS.md", "where to write the table (empty: stdout only)")
	shapesFlag := flag.String("shapes", "", "comma-separated m×k×n shapes, e.g. 1024x1024x1024 (default: the issue's five)")
	flag.Parse()
	shapes := DefaultShapes
	if *shapesFlag != "" {
		shapes = nil
		for _, f := range strings.Split(*shapesFlag, ",") {
			var s Shape
			if _, err := fmt.Sscanf(strings.ReplaceAll(f, "×", "x"), "%dx%dx%d", &s.M, &s.K, &s.N); err != nil {
				log.Fatalf("bad shape %q: %v", f, err)
			}
			shapes = append(shapes, s)
		}
	}
	var buf bytes.Buffer
	w := io.MultiWriter(os.Stdout, &buf)
	if err := run(w, shapes, *rounds, *minDur); err != nil {
		log.Fatal(err)
	}
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// Result is the medians of one shape.
type Result struct {
	Shape                                 Shape
	Stock, Kernel, Unmined, Mined, OpMine time.Duration
	Phases                                pouw.Phases
	Config                                pouw.Config
	Peak                                  float64 // int8 GMAC/s measured in the same rounds
	// Medians over rounds of each round's own ratio: a neighbour's load
	// drifts between rounds, and a ratio taken within one round cancels it.
	MinedPerUnmined, MinedPerKernel, StockPerOp, Share float64
}

func gmacs(s Shape, d time.Duration) float64 { return s.MACs() / d.Seconds() / 1e9 }

func run(w io.Writer, shapes []Shape, rounds int, minDur time.Duration) error {
	loadBefore := loadAvg()
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(hardNbits), Profile: pouw.Local})
	if err != nil {
		return err
	}
	var results []Result
	for _, s := range shapes {
		fmt.Fprintf(os.Stderr, "measuring %v ...\n", s)
		r, err := measureShape(s, miner, rounds, minDur)
		if err != nil {
			return fmt.Errorf("%v: %w", s, err)
		}
		results = append(results, r)
	}
	verify, err := verifyTime(rounds)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	report(w, results, verify, rounds, loadBefore, loadAvg(), miner.Kernel())
	return nil
}

// hardNbits makes winning practically impossible (10¹⁸ MACs per proof), so
// the timings contain no proof building, as in real mining.
var hardNbits = pouw.Local.Nbits(1e18, 32)

func measureShape(s Shape, miner *pouw.Miner, rounds int, minDur time.Duration) (Result, error) {
	rng := rand.New(rand.NewPCG(uint64(s.M), uint64(s.N)))
	res := Result{Shape: s}

	// Float operands for the graphs: normal entries, row-major.
	xs, ws := make([]float32, s.M*s.K), make([]float32, s.K*s.N)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	for i := range ws {
		ws[i] = float32(rng.NormFloat64())
	}
	stock, err := newGraphRun(s, xs, ws, func(x, wn *gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Mul(x, wn) })
	if err != nil {
		return res, fmt.Errorf("stock graph: %w", err)
	}
	mined, err := newGraphRun(s, xs, ws, func(x, wn *gorgonia.Node) (*gorgonia.Node, error) { return op.Mul(miner, x, wn) })
	if err != nil {
		return res, fmt.Errorf("op graph: %w", err)
	}

	// Int7 operands for the kernel and MineProduct.
	a := pouw.Matrix{Rows: s.M, Cols: s.K, Data: make([]int8, s.M*s.K)}
	bt := pouw.Matrix{Rows: s.N, Cols: s.K, Data: make([]int8, s.N*s.K)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	for i := range bt.Data {
		bt.Data[i] = int8(rng.IntN(129) - 64)
	}
	cfg, err := pouw.DefaultPolicy{}.Choose(pouw.Local, s.M, s.K, s.N)
	if err != nil {
		return res, err
	}
	res.Config = cfg
	job := pouw.DevJob(hardNbits).J

	dst := make([]int32, s.M*s.N)
	var tStock, tKernel, tUnmined, tMined, tOp, tPeak []time.Duration
	var ph []pouw.Phases
	var firstErr error
	for range rounds {
		tStock = append(tStock, timeIt(minDur, func() {
			if err := stock(); err != nil && firstErr == nil {
				firstErr = err
			}
		}))
		tKernel = append(tKernel, timeIt(minDur, func() {
			if _, err := pouw.Multiply(dst, a, bt); err != nil && firstErr == nil {
				firstErr = err
			}
		}))
		tUnmined = append(tUnmined, timeIt(minDur, func() {
			if _, err := pouw.Multiply(nil, a, bt); err != nil && firstErr == nil {
				firstErr = err
			}
		}))
		var sum pouw.Phases
		runs := 0
		tMined = append(tMined, timeIt(minDur, func() {
			p, err := pouw.MineProduct(job, pouw.Local, cfg, a, bt)
			if err != nil || !p.Mined {
				if firstErr == nil {
					firstErr = fmt.Errorf("mine: %v %v", err, p)
				}
				return
			}
			sum.Add(p.Phases)
			runs++
		}))
		ph = append(ph, scalePhases(sum, runs))
		tOp = append(tOp, timeIt(minDur, func() {
			if err := mined(); err != nil && firstErr == nil {
				firstErr = err
			}
		}))
		g := peak.Int8GMACs(minDur)
		tPeak = append(tPeak, time.Duration(g*1e3)) // GMAC/s ×1000, as a Duration to share the helpers
	}
	if firstErr != nil {
		return res, firstErr
	}
	res.Stock, res.Kernel, res.Unmined, res.Mined, res.OpMine = median(tStock), median(tKernel), median(tUnmined), median(tMined), median(tOp)
	res.MinedPerUnmined = medianRatio(tMined, tUnmined)
	res.MinedPerKernel = medianRatio(tMined, tKernel)
	res.StockPerOp = medianRatio(tStock, tOp)
	res.Peak = float64(median(tPeak)) / 1e3
	shares := make([]float64, rounds)
	for i := range shares {
		shares[i] = gmacs(s, tKernel[i]) / (float64(tPeak[i]) / 1e3)
	}
	slices.Sort(shares)
	res.Share = shares[rounds/2]
	res.Phases = medianPhases(ph)
	return res, nil
}

// newGraphRun builds y = mul(x, w) on float32 values and returns a function
// that runs the graph once.
func newGraphRun(s Shape, xs, ws []float32, mul func(x, w *gorgonia.Node) (*gorgonia.Node, error)) (func() error, error) {
	g := gorgonia.NewGraph()
	xt := tensor.New(tensor.WithShape(s.M, s.K), tensor.WithBacking(slices.Clone(xs)))
	wt := tensor.New(tensor.WithShape(s.K, s.N), tensor.WithBacking(slices.Clone(ws)))
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(s.M, s.K), gorgonia.WithName("x"), gorgonia.WithValue(xt))
	wn := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(s.K, s.N), gorgonia.WithName("w"), gorgonia.WithValue(wt))
	if _, err := mul(x, wn); err != nil {
		return nil, err
	}
	vm := gorgonia.NewTapeMachine(g)
	return func() error {
		defer vm.Reset()
		return vm.RunAll()
	}, nil
}

// timeIt runs fn until at least minDur has passed (at least once) and
// returns the time per call.
func timeIt(minDur time.Duration, fn func()) time.Duration {
	runtime.GC()
	start := time.Now()
	n := 0
	for {
		fn()
		n++
		if el := time.Since(start); el >= minDur {
			return el / time.Duration(n)
		}
	}
}

// medianRatio is the median over rounds of num[i]/den[i].
func medianRatio(num, den []time.Duration) float64 {
	rs := make([]float64, len(num))
	for i := range num {
		rs[i] = num[i].Seconds() / den[i].Seconds()
	}
	slices.Sort(rs)
	return rs[len(rs)/2]
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func scalePhases(p pouw.Phases, n int) pouw.Phases {
	if n == 0 {
		return p
	}
	d := time.Duration(n)
	return pouw.Phases{Commit: p.Commit / d, Noise: p.Noise / d, GEMM: p.GEMM / d, Tickets: p.Tickets / d, Denoise: p.Denoise / d}
}

func medianPhases(ps []pouw.Phases) pouw.Phases {
	col := func(f func(pouw.Phases) time.Duration) time.Duration {
		var ds []time.Duration
		for _, p := range ps {
			ds = append(ds, f(p))
		}
		return median(ds)
	}
	return pouw.Phases{
		Commit:  col(func(p pouw.Phases) time.Duration { return p.Commit }),
		Noise:   col(func(p pouw.Phases) time.Duration { return p.Noise }),
		GEMM:    col(func(p pouw.Phases) time.Duration { return p.GEMM }),
		Tickets: col(func(p pouw.Phases) time.Duration { return p.Tickets }),
		Denoise: col(func(p pouw.Phases) time.Duration { return p.Denoise }),
	}
}

// verifyTime is the median time to verify one plain proof of a 16×16 tile
// with k = 1024 and r = 32: a small
// product is mined at the regtest target, where every tile wins.
func verifyTime(rounds int) (time.Duration, error) {
	const m, k, n = 64, 1024, 64
	rng := rand.New(rand.NewPCG(1, 2))
	a := pouw.Matrix{Rows: m, Cols: k, Data: make([]int8, m*k)}
	bt := pouw.Matrix{Rows: n, Cols: k, Data: make([]int8, n*k)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	for i := range bt.Data {
		bt.Data[i] = int8(rng.IntN(129) - 64)
	}
	cfg, err := pouw.DefaultPolicy{}.Choose(pouw.Local, m, k, n)
	if err != nil {
		return 0, err
	}
	job := pouw.DevJob(0x207fffff).J
	p, err := pouw.MineProduct(job, pouw.Local, cfg, a, bt)
	if err != nil {
		return 0, err
	}
	if len(p.Wins) == 0 {
		return 0, fmt.Errorf("no winning tile at the regtest target")
	}
	proof := p.Wins[0].Proof.Plain
	var ts []time.Duration
	var verr error
	for range rounds {
		ts = append(ts, timeIt(20*time.Millisecond, func() {
			if _, err := pouw.Verify(job, pouw.Local, proof, pouw.VerifyOptions{}); err != nil {
				verr = err
			}
		}))
	}
	return median(ts), verr
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1e3) }

func pct(part, whole time.Duration) string {
	return fmt.Sprintf("%.1f%%", 100*part.Seconds()/whole.Seconds())
}

// loadAvg is the 1-minute load average, or "?": the machines are shared,
// and a busy neighbour halves absolute figures while ratios survive.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func report(w io.Writer, rs []Result, verify time.Duration, rounds int, loadBefore, loadAfter, kernel string) {
	fmt.Fprintf(w, "# Mining cost benchmark\n\n")
	fmt.Fprintf(w, "* date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "* CPU: %s, GOMAXPROCS %d\n", cpuModel(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "* Go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "* kernel: %s; profile local, DefaultPolicy (rank 32, 16×16 tiles)\n", kernel)
	fmt.Fprintf(w, "* command: `%s` (medians of %d interleaved rounds)\n", strings.TrimSpace("go run ./bench "+strings.Join(os.Args[1:], " ")), rounds)
	fmt.Fprintf(w, "* load average (1 min) before and after: %s, %s (2 cores; other work on the machine slows every column alike)\n\n", loadBefore, loadAfter)

	fmt.Fprintf(w, "## Throughput (G multiply-accumulates per second; m×k×n)\n\n")
	fmt.Fprintf(w, "Unmined is pouw.Multiply (allocates its output, like MineProduct); kernel is the same kernel writing into a\n")
	fmt.Fprintf(w, "preallocated output. Ratios are of times, each the median of the rounds' own ratios; the share of peak is the\n")
	fmt.Fprintf(w, "kernel's. Throughputs are medians over rounds.\n\n")
	fmt.Fprintf(w, "| shape | stock gorgonia.Mul f32 | kernel, mining off | unmined | mined | mined/unmined | mined/kernel | mined float op | op vs stock | int8 peak (VPDPBUSD loop) | kernel share of peak |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		s := r.Shape
		share := "n/a"
		if r.Peak > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.Share)
		}
		fmt.Fprintf(w, "| %v | %.1f | %.1f | %.1f | %.1f | %.3f | %.3f | %.1f | %.2f× | %.0f | %s |\n", s,
			gmacs(s, r.Stock), gmacs(s, r.Kernel), gmacs(s, r.Unmined), gmacs(s, r.Mined),
			r.MinedPerUnmined, r.MinedPerKernel, gmacs(s, r.OpMine), r.StockPerOp, r.Peak, share)
	}
	fmt.Fprintf(w, "\n## Where a mined product's time goes (ms, median per phase; share of the mined total)\n\n")
	fmt.Fprintf(w, "GEMM+transcript includes the denoising epilogue (the rank-2r correction folded into the kernel); denoise is\n")
	fmt.Fprintf(w, "preparing that correction (A·E_BL and E_AR·B′). Quantise is the op's time beyond the mined product: quantising,\n")
	fmt.Fprintf(w, "dequantising and the graph machinery. Other is the mined total less its phases: input checks, allocating the\n")
	fmt.Fprintf(w, "output and scratch, the tile grid.\n\n")
	fmt.Fprintf(w, "| shape | kernel | commit | noise | GEMM+transcript | tickets | denoise | other | mined total | quantise (op − mined) |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		p := r.Phases
		tot := r.Mined
		other := max(0, tot-p.Total())
		fmt.Fprintf(w, "| %v | %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s | %s |\n", r.Shape, ms(r.Kernel),
			ms(p.Commit), pct(p.Commit, tot), ms(p.Noise), pct(p.Noise, tot), ms(p.GEMM), pct(p.GEMM, tot),
			ms(p.Tickets), pct(p.Tickets, tot), ms(p.Denoise), pct(p.Denoise, tot), ms(other), pct(other, tot),
			ms(r.Mined), ms(r.OpMine-r.Mined))
	}
	fmt.Fprintf(w, "\n## Verification\n\nOne plain proof (16×16 tile, k = 1024, r = 32, local profile): %.3f ms.\n", verify.Seconds()*1e3)
	fmt.Fprintf(w, "\n## Reading the overhead\n\n")
	fmt.Fprintf(w, "Against an int8 kernel near the VPDPBUSD peak, three protocol costs stay fixed fractions however fast the code\n")
	fmt.Fprintf(w, "(r = 32, the local profile's minimum; square n×n×n):\n\n")
	fmt.Fprintf(w, "* denoising epilogue: a rank-2r int16 product (VPDPWSSD, 2 MACs per lane against VPDPBUSD's 4), 4r/k of the\n")
	fmt.Fprintf(w, "  kernel: 12.5%% at k = 1024, 6.3%% at 2048, 50%% at k = 256;\n")
	fmt.Fprintf(w, "* its operands A·E_BL and E_AR·B′: (m+n)·k·r int8 MACs, r/n + r/m of the kernel: 6.3%% at 1024³, 28%% at 128×784×1024;\n")
	fmt.Fprintf(w, "* commitments: BLAKE3 over (m+n)·k bytes at a few GB/s per core, 10-15%% of a 1024³ kernel, half that at 2048³.\n\n")
	fmt.Fprintf(w, "The transcript itself (per-chunk corrections and a VPTERNLOGD tree per 16×16 tile) costs about 3%% at r = 32.\n")
}
