// Command bench measures what mining costs on this machine, and how far each
// part of a mined product is from its floor, and writes its tables into this
// CPU family's section of bench/RESULTS.md (other families' sections stay).
//
// For each row (a product shape m×k×n and a profile: local, rank 32, or
// pearl, rank 128) it measures, side by side in one run and in interleaved
// rounds (medians over rounds, since the 2-core machines are shared and
// drift):
//
//   - stock: gorgonia.Mul on float32, run by a TapeMachine (skipped above
//     -stockmax MACs: it runs at a few GMAC/s);
//   - unmined: the exact int kernel (gemm.Name(), as Miner.Kernel reports) with mining off,
//     twice: the kernel alone writing into a preallocated output, and
//     pouw.Multiply with a fresh output each time (what a caller that
//     reuses nothing pays);
//   - mined: Miner.MatMulInto under the DefaultPolicy and the row's profile
//     (commitments, noise, GEMM with transcript, tickets, denoising), with
//     its phase breakdown, writing into one reused output as the op and a
//     training loop do;
//   - op: the mined float path, op.Mul in the same kind of graph as stock
//     (quantise, mine, dequantise), and the same op outside any graph,
//     writing into an output it keeps, which splits the op's cost beyond
//     the mined product into its own and the graph's run;
//   - this CPU's ceilings (package peak, pouw.CommitmentRoot, a parallel
//     copy), from which each phase's floor is computed (floor.go);
//   - the time to verify one plain proof.
//
// A round in which other processes took more than -maxforeign of the
// machine's CPU time (foreign.go) is run again, up to 3× the rounds, and the
// least disturbed rounds are kept. The output is one section of -out, keyed
// by the CPU vendor and the kernel (report.go: MergeSection), so that runs
// on other CPU families keep theirs.
//
// Usage: go run ./bench [-rounds 9] [-bigrounds 7] [-big=true] [-min 30ms]
// [-maxforeign 0.05] [-stockmax 8.6e9] [-out bench/RESULTS.md]
// [-shapes 1024x1024x1024,2048x2048x2048:pearl,...]
package main

import (
	"bytes"
	"cmp"
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

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Shape is one product: A is M×K, B is K×N.
type Shape struct{ M, K, N int }

func (s Shape) String() string { return fmt.Sprintf("%d×%d×%d", s.M, s.K, s.N) }

// MACs is the product's multiply-accumulate count.
func (s Shape) MACs() float64 { return float64(s.M) * float64(s.K) * float64(s.N) }

// Row is one benchmarked product: a shape mined under a profile, with the
// DefaultPolicy's configuration (the profile's minimum rank, 16×16 tiles).
type Row struct {
	Shape
	Profile pouw.Profile
}

func (r Row) String() string { return r.Shape.String() + " " + r.Profile.String() }

// DefaultRows are MNIST-sized layers (forward, and the weight gradient whose
// k is the batch), then square ones, under the local profile; then Pearl's
// settings (r = 128, which needs k ≥ 16r = 2048).
var DefaultRows = []Row{
	{Shape{128, 784, 1024}, pouw.Local}, {Shape{256, 1024, 1024}, pouw.Local}, {Shape{784, 256, 1024}, pouw.Local},
	{Shape{1024, 1024, 1024}, pouw.Local}, {Shape{2048, 2048, 2048}, pouw.Local},
	{Shape{2048, 2048, 2048}, pouw.Pearl},
}

// BigRows run with -big (the default), with -bigrounds rounds: about five
// seconds a round on two AVX2 cores (stock is skipped: it would take 20).
var BigRows = []Row{{Shape{4096, 4096, 4096}, pouw.Pearl}}

// DefaultShapes are the shapes of DefaultRows, for the go test benchmarks.
var DefaultShapes = []Shape{{128, 784, 1024}, {256, 1024, 1024}, {784, 256, 1024}, {1024, 1024, 1024}, {2048, 2048, 2048}}

// ParseRow reads "MxKxN" (local) or "MxKxN:profile"; × may stand for x.
func ParseRow(f string) (Row, error) {
	r := Row{Profile: pouw.Local}
	shape, prof, ok := strings.Cut(strings.TrimSpace(f), ":")
	if ok {
		p, err := pouw.ParseProfile(prof)
		if err != nil {
			return r, err
		}
		r.Profile = p
	}
	var rest string
	n, err := fmt.Sscanf(strings.ReplaceAll(shape, "×", "x")+" .", "%dx%dx%d %s", &r.M, &r.K, &r.N, &rest)
	if err != nil || n != 4 || rest != "." || r.M <= 0 || r.K <= 0 || r.N <= 0 {
		return r, fmt.Errorf("bad row %q (want MxKxN or MxKxN:pearl)", f)
	}
	return r, nil
}

// Options are the command's flags.
type Options struct {
	Rounds, BigRounds int
	Min               time.Duration
	StockMax          float64 // MACs above which stock is not measured
	MaxForeign        float64 // a round with more foreign load than this is run again
}

func main() {
	var o Options
	flag.IntVar(&o.Rounds, "rounds", 9, "interleaved measurement rounds (medians are reported)")
	flag.IntVar(&o.BigRounds, "bigrounds", 7, "rounds for products above 2³⁴ MACs (4096³)")
	big := flag.Bool("big", true, "add the 4096×4096×4096 pearl row")
	flag.DurationVar(&o.Min, "min", 30*time.Millisecond, "repeat each measurement until it has run this long")
	flag.Float64Var(&o.StockMax, "stockmax", 1<<33, "skip stock gorgonia.Mul above this many MACs (it runs at a few GMAC/s)")
	flag.Float64Var(&o.MaxForeign, "maxforeign", 0.05, "rerun a round in which other processes took more than this share of the machine's CPU time (up to 3×rounds in all)")
	out := flag.String("out", "bench/RESULTS.md", "the file whose section for this CPU family is rewritten (empty: stdout only)")
	shapesFlag := flag.String("shapes", "", "comma-separated rows MxKxN[:profile], e.g. 1024x1024x1024,2048x2048x2048:pearl (default: the standard rows)")
	flag.Parse()
	rows := slices.Clone(DefaultRows)
	if *shapesFlag != "" {
		rows = nil
		for _, f := range strings.Split(*shapesFlag, ",") {
			r, err := ParseRow(f)
			if err != nil {
				log.Fatal(err)
			}
			rows = append(rows, r)
		}
	} else if *big {
		rows = append(rows, BigRows...)
	}
	var buf bytes.Buffer
	w := io.MultiWriter(os.Stdout, &buf)
	key, err := run(w, rows, o)
	if err != nil {
		log.Fatal(err)
	}
	if *out != "" {
		old, err := os.ReadFile(*out)
		if err != nil && !os.IsNotExist(err) {
			log.Fatal(err)
		}
		if err := os.WriteFile(*out, MergeSection(old, key, buf.Bytes()), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "wrote section %q of %s\n", key, *out)
	}
}

// Result is the medians of one row.
type Result struct {
	Row                                   Row
	Stock, Kernel, Unmined, Mined, OpMine time.Duration // Stock is 0 when skipped
	Phases                                pouw.Phases
	Config                                pouw.Config
	Tiles                                 int
	Rates                                 Rates // medians over the row's rounds
	Floors                                Floors
	Rounds                                int
	Thin                                  time.Duration // the denoising operands' two thin products, the dense way, through pouw.Multiply
	Wide                                  time.Duration // pouw.Multiply of m×(k+2r)×n: the fused GEMM's MACs, no transcript
	WideExtra, Quantise                   time.Duration // medians of the rounds' own Wide − Kernel and Op − Mined
	Bridge, Graph                         time.Duration // medians of the rounds' own Direct − Mined and Op − Direct
	KernelSpread                          float64       // (slowest − fastest kernel round) / median: the noise of any difference
	Per                                   []Round       // every kept round's own figures
	Attempts, Clean                       int           // rounds run, and those under -maxforeign
	Foreign                               float64       // median foreign load of the kept rounds
	// Medians over rounds of each round's own ratio: a neighbour's load
	// drifts between rounds, and a ratio taken within one round cancels it.
	MinedPerUnmined, MinedPerKernel, StockPerOp, Share float64
}

// Round is what one round measured of a row.
type Round struct {
	Stock, Kernel, Unmined, Mined, Op, Thin, Wide time.Duration // Stock is 0 when skipped
	// Direct is the op outside a graph: UsePreallocDo into an output kept
	// from round to round, as a graph that is not reset between runs would.
	Direct time.Duration
	Phases pouw.Phases
	Rates  Rates
	// Foreign is the share of the machine's CPU time that other processes
	// (and the hypervisor's steal) took during the round; -1 where unknown.
	Foreign float64
}

func gmacs(s Shape, d time.Duration) float64 { return s.MACs() / d.Seconds() / 1e9 }

// hardNbits makes winning practically impossible (10¹⁸ MACs per proof), so
// the timings contain no proof building, as in real mining.
func hardNbits(p pouw.Profile) uint32 { return p.Nbits(1e18, p.MinRank()) }

func run(w io.Writer, rows []Row, o Options) (key string, err error) {
	loadBefore := loadAvg()
	start := time.Now()
	miners := map[pouw.Profile]*pouw.Miner{}
	for _, p := range []pouw.Profile{pouw.Local, pouw.Pearl} {
		m, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(hardNbits(p)), Profile: p})
		if err != nil {
			return "", err
		}
		miners[p] = m
	}
	fmt.Fprintf(os.Stderr, "measuring the kernel's cache-resident ceiling ...\n")
	ceil, ceilAt := kernelCeiling(o.Min)
	var results []Result
	for _, r := range rows {
		rounds := o.Rounds
		if r.MACs() > 1<<34 {
			rounds = min(rounds, o.BigRounds)
		}
		fmt.Fprintf(os.Stderr, "measuring %v (%d rounds) ...\n", r, rounds)
		res, err := measureRow(r, miners[r.Profile], rounds, o)
		if err != nil {
			return "", fmt.Errorf("%v: %w", r, err)
		}
		results = append(results, res)
	}
	verify, err := verifyTime(o.Rounds)
	if err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	cpu := readCPU()
	kernel := miners[pouw.Local].Kernel()
	key = cpu.Key(kernel)
	report(w, reportInfo{
		key: key, cpu: cpu, kernel: kernel, results: results, verify: verify,
		rounds: o.Rounds, bigRounds: o.BigRounds, maxForeign: o.MaxForeign, loadBefore: loadBefore, loadAfter: loadAvg(),
		elapsed: time.Since(start), ceiling: ceil, ceilingAt: ceilAt,
	})
	return key, nil
}

func measureRow(row Row, miner *pouw.Miner, rounds int, o Options) (Result, error) {
	s := row.Shape
	rng := rand.New(rand.NewPCG(uint64(s.M), uint64(s.N)))
	res := Result{Row: row, Rounds: rounds}

	// Float operands for the graphs: normal entries, row-major.
	xs, ws := make([]float32, s.M*s.K), make([]float32, s.K*s.N)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	for i := range ws {
		ws[i] = float32(rng.NormFloat64())
	}
	withStock := s.MACs() <= o.StockMax
	var stock func() error
	var err error
	if withStock {
		stock, err = newGraphRun(s, xs, ws, func(x, wn *gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Mul(x, wn) })
		if err != nil {
			return res, fmt.Errorf("stock graph: %w", err)
		}
	}
	mined, err := newGraphRun(s, xs, ws, func(x, wn *gorgonia.Node) (*gorgonia.Node, error) { return op.Mul(miner, x, wn) })
	if err != nil {
		return res, fmt.Errorf("op graph: %w", err)
	}
	direct, err := newDirectRun(s, xs, ws, miner)
	if err != nil {
		return res, fmt.Errorf("op outside a graph: %w", err)
	}

	// Int7 operands for the kernel and MineProduct.
	a, bt := int7Operands(s)
	cfg, err := pouw.DefaultPolicy{}.Choose(row.Profile, s.M, s.K, s.N)
	if err != nil {
		return res, err
	}
	res.Config = cfg
	scratch := [][]int8{make([]int8, len(a.Data)), make([]int8, len(bt.Data))}

	dst, minedDst := make([]int32, s.M*s.N), make([]int32, s.M*s.N)
	// The denoising operands the dense way, beside the sparse way the
	// denoise phase takes: A (m×k) and Bᵀ (n×k) times a ±1 factor written
	// out densely (r×k).
	sparse := sparseFactor(int(cfg.Rank), s.K, rng)
	thinA, thinB := make([]int32, s.M*int(cfg.Rank)), make([]int32, s.N*int(cfg.Rank))
	// The product the fused GEMM computes, as the AVX2 kernel lays it out:
	// the 2r correction columns appended to k, without the transcript.
	wideA, wideBT := int7Operands(Shape{s.M, s.K + 2*int(cfg.Rank), s.N})
	var firstErr error
	check := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	// Rounds in which other processes took more than o.MaxForeign of the
	// machine are run again, up to 3×rounds in all; the rounds kept are
	// the least disturbed.
	var all []Round
	clean := 0
	for attempt := 0; attempt < 3*rounds && clean < rounds; attempt++ {
		var rd Round
		probe := startForeign()
		before := instrRates(o.Min)
		if withStock {
			rd.Stock = timeIt(o.Min, func() { check(stock()) })
		}
		rd.Kernel = timeIt(o.Min, func() {
			_, err := pouw.Multiply(dst, a, bt)
			check(err)
		})
		rd.Unmined = timeIt(o.Min, func() {
			_, err := pouw.Multiply(nil, a, bt)
			check(err)
		})
		var sum pouw.Phases
		runs := 0
		rd.Mined = timeIt(o.Min, func() {
			p, err := miner.MatMulInto(minedDst, a, bt, pouw.Tag{Role: "bench"})
			if err != nil || !p.Mined || p.Config != cfg {
				check(fmt.Errorf("mine: %v %v %v", err, p.Reason, p.Config))
				return
			}
			res.Tiles = p.Tiles
			sum.Add(p.Phases)
			runs++
		})
		rd.Phases = scalePhases(sum, runs)
		rd.Op = timeIt(o.Min, func() { check(mined()) })
		rd.Direct = timeIt(o.Min, func() { check(direct()) })
		rd.Thin = timeIt(o.Min, func() {
			_, err := pouw.Multiply(thinA, a, sparse)
			check(err)
			_, err = pouw.Multiply(thinB, bt, sparse)
			check(err)
		})
		rd.Wide = timeIt(o.Min, func() {
			_, err := pouw.Multiply(dst, wideA, wideBT)
			check(err)
		})
		rd.Rates = measureRates(o.Min, [][]int8{a.Data, bt.Data}, scratch, before)
		rd.Foreign = probe.stop()
		if firstErr != nil {
			return res, firstErr
		}
		all = append(all, rd)
		if rd.Foreign <= o.MaxForeign {
			clean++
		}
	}
	slices.SortStableFunc(all, func(x, y Round) int { return cmp.Compare(x.Foreign, y.Foreign) })
	res.Per = all[:rounds]
	res.Attempts = len(all)
	res.Clean = clean
	col := func(f func(Round) time.Duration) []time.Duration {
		var ds []time.Duration
		for _, r := range res.Per {
			ds = append(ds, f(r))
		}
		return ds
	}
	tKernel, tMined := col(func(r Round) time.Duration { return r.Kernel }), col(func(r Round) time.Duration { return r.Mined })
	tUnmined, tOp := col(func(r Round) time.Duration { return r.Unmined }), col(func(r Round) time.Duration { return r.Op })
	res.Kernel, res.Unmined, res.Mined, res.OpMine = median(tKernel), median(tUnmined), median(tMined), median(tOp)
	res.KernelSpread = (slices.Max(tKernel) - slices.Min(tKernel)).Seconds() / res.Kernel.Seconds()
	res.Thin = median(col(func(r Round) time.Duration { return r.Thin }))
	res.Wide = median(col(func(r Round) time.Duration { return r.Wide }))
	res.WideExtra = medianDiff(col(func(r Round) time.Duration { return r.Wide }), tKernel)
	res.Quantise = medianDiff(tOp, tMined)
	tDirect := col(func(r Round) time.Duration { return r.Direct })
	res.Bridge, res.Graph = medianDiff(tDirect, tMined), medianDiff(tOp, tDirect)
	res.MinedPerUnmined = medianRatio(tMined, tUnmined)
	res.MinedPerKernel = medianRatio(tMined, tKernel)
	if withStock {
		tStock := col(func(r Round) time.Duration { return r.Stock })
		res.Stock = median(tStock)
		res.StockPerOp = medianRatio(tStock, tOp)
	}
	var rates []Rates
	var ph []pouw.Phases
	var shares, foreign []float64
	for _, r := range res.Per {
		rates, ph = append(rates, r.Rates), append(ph, r.Phases)
		foreign = append(foreign, r.Foreign)
		if r.Rates.Int8 > 0 {
			shares = append(shares, s.MACs()/r.Kernel.Seconds()/r.Rates.Int8)
		} else {
			shares = append(shares, 0)
		}
	}
	res.Rates = medianRates(rates)
	res.Share = medianF(shares)
	res.Foreign = medianF(foreign)
	res.Phases = medianPhases(ph)
	res.Floors = FloorsOf(s, cfg, res.Tiles, res.Rates)
	return res, nil
}

// sparseFactor is an r×k matrix with one +1 and one −1 in every column, at
// distinct random rows: E_AR's shape and density (PROTOCOL.md §4).
func sparseFactor(r, k int, rng *rand.Rand) pouw.Matrix {
	e := pouw.Matrix{Rows: r, Cols: k, Data: make([]int8, r*k)}
	for l := 0; l < k; l++ {
		f := rng.IntN(r)
		g := (f + 1 + rng.IntN(r-1)) % r
		e.Data[f*k+l], e.Data[g*k+l] = 1, -1
	}
	return e
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

// newDirectRun returns a function that runs the mined op on xs and ws
// (float32, row-major) outside any graph, into an output it keeps: the
// op's own work (quantising, the mined product, dequantising) without the
// graph's run (allocating a fresh output each run, the VM).
func newDirectRun(s Shape, xs, ws []float32, miner *pouw.Miner) (func() error, error) {
	o, err := op.New(miner, op.MatMul, false, false)
	if err != nil {
		return nil, err
	}
	x := tensor.New(tensor.WithShape(s.M, s.K), tensor.WithBacking(slices.Clone(xs)))
	w := tensor.New(tensor.WithShape(s.K, s.N), tensor.WithBacking(slices.Clone(ws)))
	y := tensor.New(tensor.WithShape(s.M, s.N), tensor.Of(tensor.Float32))
	return func() error {
		_, err := o.UsePreallocDo(y, x, w)
		return err
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

// medianDiff is the median over rounds of a[i] − b[i].
func medianDiff(a, b []time.Duration) time.Duration {
	d := make([]time.Duration, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return median(d)
}

func medianF(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
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
