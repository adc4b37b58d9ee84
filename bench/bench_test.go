package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gorgonia.org/gorgonia"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

func operands(s Shape) (a, bt pouw.Matrix) { return int7Operands(s) }

func floats(s Shape) (xs, ws []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs, ws = make([]float32, s.M*s.K), make([]float32, s.K*s.N)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	for i := range ws {
		ws[i] = float32(rng.NormFloat64())
	}
	return xs, ws
}

func gmacMetric(b *testing.B, s Shape) {
	b.ReportMetric(s.MACs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

// BenchmarkUnmined is the exact int product with mining off (pouw.Multiply,
// the Miner's mining-off path).
func BenchmarkUnmined(b *testing.B) {
	for _, s := range DefaultShapes {
		b.Run(s.String(), func(b *testing.B) {
			a, bt := operands(s)
			for b.Loop() {
				if _, err := pouw.Multiply(nil, a, bt); err != nil {
					b.Fatal(err)
				}
			}
			gmacMetric(b, s)
		})
	}
}

// BenchmarkMined is the whole mined product: commitments, noise, GEMM with
// transcript, tickets and denoising, through Miner.MatMulInto into a reused
// output, as the op (BenchmarkOp) and go run ./bench run it.
func BenchmarkMined(b *testing.B) {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(hardNbits(pouw.Local)), Profile: pouw.Local})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range DefaultShapes {
		b.Run(s.String(), func(b *testing.B) {
			a, bt := operands(s)
			dst := make([]int32, s.M*s.N)
			for b.Loop() {
				p, err := miner.MatMulInto(dst, a, bt, pouw.Tag{Role: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				if !p.Mined {
					b.Fatalf("not mined: %v", p.Reason)
				}
			}
			gmacMetric(b, s)
		})
	}
}

// BenchmarkStock is gorgonia.Mul on float32 in a TapeMachine.
func BenchmarkStock(b *testing.B) {
	benchGraph(b, DefaultShapes[:4], gorgonia.Mul)
}

// BenchmarkOp is the mined float path: op.Mul in the same kind of graph.
func BenchmarkOp(b *testing.B) {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(hardNbits(pouw.Local)), Profile: pouw.Local})
	if err != nil {
		b.Fatal(err)
	}
	benchGraph(b, DefaultShapes, func(x, w *gorgonia.Node) (*gorgonia.Node, error) { return op.Mul(miner, x, w) })
}

// benchGraph runs one product, built by mul, in a TapeMachine per shape.
func benchGraph(b *testing.B, shapes []Shape, mul func(x, w *gorgonia.Node) (*gorgonia.Node, error)) {
	for _, s := range shapes {
		b.Run(s.String(), func(b *testing.B) {
			xs, ws := floats(s)
			timeGraph(b, s, xs, ws, mul)
		})
	}
}

// timeGraph times one product of s, xs times ws, built by mul, in a
// TapeMachine.
func timeGraph(b *testing.B, s Shape, xs, ws []float32, mul func(x, w *gorgonia.Node) (*gorgonia.Node, error)) {
	run, err := newGraphRun(s, xs, ws, mul)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	gmacMetric(b, s)
}

// BenchmarkMNISTForward is an MNIST MLP's first product, a batch of 100
// images times 784×512 weights, stock and mined, on MNIST's own pixels and on
// dense operands of the same shape. Stock gorgonia.Mul runs gonum's sgemm,
// which skips every zero entry of its left operand, and most MNIST pixels
// are zero; the mined product multiplies noisy, dense operands whatever the
// input.
func BenchmarkMNISTForward(b *testing.B) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		b.Skip(err)
	}
	set, _, err := mnist.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	s := Shape{M: 100, K: set.Rows * set.Cols, N: 512}
	dense, ws := floats(s)
	pixels := make([]float32, s.M*s.K)
	for i := range s.M {
		set.Fill(i, pixels[i*s.K:(i+1)*s.K])
	}
	zeros := func(xs []float32) (n int) {
		for _, v := range xs {
			if v == 0 {
				n++
			}
		}
		return n
	}
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(hardNbits(pouw.Local)), Profile: pouw.Local})
	if err != nil {
		b.Fatal(err)
	}
	mined := func(x, w *gorgonia.Node) (*gorgonia.Node, error) { return op.Mul(miner, x, w) }
	for _, c := range []struct {
		name string
		mul  func(x, w *gorgonia.Node) (*gorgonia.Node, error)
		xs   []float32
	}{{"stock/mnist", gorgonia.Mul, pixels}, {"stock/dense", gorgonia.Mul, dense}, {"mined/mnist", mined, pixels}, {"mined/dense", mined, dense}} {
		b.Run(c.name, func(b *testing.B) {
			timeGraph(b, s, c.xs, ws, c.mul)
			b.ReportMetric(100*float64(zeros(c.xs))/float64(len(c.xs)), "%zero")
		})
	}
}

func TestShapeString(t *testing.T) {
	if got := fmt.Sprint(Shape{1, 2, 3}); got != "1×2×3" {
		t.Fatal(got)
	}
	if got := fmt.Sprint(Row{Shape{1, 2, 3}, pouw.Pearl}); got != "1×2×3 pearl" {
		t.Fatal(got)
	}
}

func TestParseRow(t *testing.T) {
	for in, want := range map[string]Row{
		"1024x1024x1024":       {Shape{1024, 1024, 1024}, pouw.Local},
		"2048×2048×2048:pearl": {Shape{2048, 2048, 2048}, pouw.Pearl},
		" 8x16x4:local":        {Shape{8, 16, 4}, pouw.Local},
	} {
		got, err := ParseRow(in)
		if err != nil || got != want {
			t.Errorf("ParseRow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1x2", "1x2x3x4", "1x2x3:mainnet", "0x2x3", "axbxc"} {
		if _, err := ParseRow(bad); err == nil {
			t.Errorf("ParseRow(%q) accepted", bad)
		}
	}
}

// Every default row must be minable under its profile: Pearl needs k ≥ 16r.
func TestRowsAreMinable(t *testing.T) {
	for _, r := range append(DefaultRows, BigRows...) {
		cfg, err := pouw.DefaultPolicy{}.Choose(r.Profile, r.M, r.K, r.N)
		if err != nil {
			t.Errorf("%v: %v", r, err)
			continue
		}
		if want := r.Profile.MinRank(); int(cfg.Rank) != want {
			t.Errorf("%v: rank %d, want %d", r, cfg.Rank, want)
		}
	}
}

func TestFloors(t *testing.T) {
	s := Shape{1024, 1024, 2048}
	cfg, err := pouw.DefaultPolicy{}.Choose(pouw.Local, s.M, s.K, s.N)
	if err != nil {
		t.Fatal(err)
	}
	rt := Rates{Int8: 1e11, Int16: 5e10, Xor32: 1e11, Blake3: 1024e6 / 17, Copy: 1e10}
	tiles := (s.M / 16) * (s.N / 16)
	f := FloorsOf(s, cfg, tiles, rt)
	near := func(name string, got time.Duration, wantSec float64) {
		t.Helper()
		if d := got.Seconds() - wantSec; d > 1e-8 || d < -1e-8 {
			t.Errorf("%s floor %v, want %gs", name, got, wantSec)
		}
	}
	near("kernel", f.Kernel, 1024*1024*2048/1e11)
	near("commit", f.Commit, 3072*1024/rt.Blake3)
	// 1e6 compressions per second.
	near("noise", f.Noise, (3072*32/32+2*128)/1e6+3072*1024/1e10)
	near("denoise", f.DenoiseOps, 2*3072*1024/1e11+3072*1024/1e10) // sparse: below the dense 3072·1024·32/1e11
	near("epilogue", f.Epilogue, 1024*2048*64/5e10)
	near("transcript", f.Transcript, float64(tiles)*256*32/1e11)
	near("tickets", f.Tickets, float64(tiles)/1e6)
	if got, want := f.Protocol(), f.Commit+f.Noise+f.DenoiseOps+f.Epilogue+f.Transcript+f.Tickets; got != want {
		t.Errorf("Protocol %v, want %v", got, want)
	}
	if z := FloorsOf(s, cfg, tiles, Rates{}); z != (Floors{}) {
		t.Errorf("zero rates give floors %+v", z)
	}

	// k = 32 = r: A·Bᵀ again (1024·2048·32 MACs at the int8 peak) is cheaper
	// than the denoising operands and the rank-64 correction together.
	short := Shape{1024, 32, 2048}
	if cfg, err = (pouw.DefaultPolicy{}).Choose(pouw.Local, short.M, short.K, short.N); err != nil {
		t.Fatal(err)
	}
	f = FloorsOf(short, cfg, tiles, rt)
	near("denoise, short k", f.DenoiseOps, 1024*2048*32/1e11)
	near("epilogue, short k", f.Epilogue, 0)
}

func TestMergeSection(t *testing.T) {
	first := MergeSection(nil, "amd-avx2", []byte("## A\nold\n"))
	if !bytes.HasPrefix(first, []byte(filePreamble)) || !bytes.Contains(first, []byte("<!-- bench:begin amd-avx2 -->\n## A\nold\n<!-- bench:end amd-avx2 -->\n")) {
		t.Fatalf("new file:\n%s", first)
	}
	two := MergeSection(first, "intel-avx512-vnni", []byte("## B\n"))
	three := MergeSection(two, "amd-avx2", []byte("## A\nnew\n"))
	s := string(three)
	if strings.Contains(s, "\nold\n") || !strings.Contains(s, "new") || !strings.Contains(s, "## B") {
		t.Fatalf("replace:\n%s", s)
	}
	if strings.Index(s, "## A") > strings.Index(s, "## B") {
		t.Fatalf("section moved:\n%s", s)
	}
	if strings.Count(s, "bench:begin amd-avx2 ") != 1 || strings.Count(s, "bench:end amd-avx2 ") != 1 {
		t.Fatalf("markers:\n%s", s)
	}
}

func TestParseCPUInfo(t *testing.T) {
	c := parseCPUInfo("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 sha_ni\n\nprocessor\t: 1\nvendor_id\t: Other\n")
	if c.Vendor != "AuthenticAMD" || c.Model != "AMD EPYC" || c.Family != "25" || c.Number != "1" || !c.Flags["avx2"] || c.Flags["avx512f"] {
		t.Fatalf("%+v", c)
	}
	if k := c.Key("avx2"); k != "amd-avx2" {
		t.Fatal(k)
	}
	if c.ISA() != "AVX2 only, no AVX-512" {
		t.Fatal(c.ISA())
	}
}

func TestForeignProbe(t *testing.T) {
	p := startForeign()
	time.Sleep(30 * time.Millisecond)
	if f := p.stop(); f != -1 && (f < 0 || f > 1) {
		t.Fatalf("foreign share %v", f)
	}
}
