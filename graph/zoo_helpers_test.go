package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// The model zoo (zoo_test.go) trains every model three ways:
//
//	zooStock  stock gorgonia.Mul, no miner: the reference
//	zooSwap   stock gorgonia.Mul, the graph converted by Swap (or SwapProgram)
//	zooOpMul  built with op.Mul (op.MulT) from the start
//
// These helpers hold what the three have in common: a miner that keeps its
// proofs, the product to build the model with, the training loop, and the
// checks every model shares.

type zooVariant int

const (
	zooStock zooVariant = iota
	zooSwap
	zooOpMul
)

func (v zooVariant) String() string {
	return [...]string{"stock", "swap", "op.Mul"}[v]
}

var zooVariants = []zooVariant{zooStock, zooSwap, zooOpMul}

// zooMacsPerProof is the difficulty of the zoo's miners: one proof expected
// per 2¹⁶ mined multiply-accumulates, so that even these small models find
// proofs to verify.
const zooMacsPerProof = 1 << 16

// zooRig is one variant of one model: its miner (nil for stock) and the
// proofs the miner found.
type zooRig struct {
	v     zooVariant
	miner *pouw.Miner

	mu     sync.Mutex
	proofs []pouw.Found
}

func newZooRig(t testing.TB, v zooVariant) *zooRig {
	t.Helper()
	r := &zooRig{v: v}
	if v == zooStock {
		return r
	}
	m, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(pouw.Local.Nbits(zooMacsPerProof, 32)),
		Profile: pouw.Local,
		OnProof: func(f pouw.Found) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.proofs = append(r.proofs, f)
		},
	})
	require.NoError(t, err)
	r.miner = m
	return r
}

// mul is the product the model is built with: gorgonia.Mul for the stock
// and swapped variants, op.Mul for the third.
func (r *zooRig) mul(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if r.v == zooOpMul {
		return op.Mul(r.miner, a, b)
	}
	return gorgonia.Mul(a, b)
}

// must is mul for graph-building code that cannot fail on good shapes.
func (r *zooRig) must(a, b *gorgonia.Node) *gorgonia.Node {
	return gorgonia.Must(r.mul(a, b))
}

// swap converts g for the swapped variant and returns its census; the
// other variants keep their graph and get an empty census. Either way, no
// stock product is left in a mined variant, and the stock one is untouched.
func (r *zooRig) swap(t testing.TB, g *gorgonia.ExprGraph) Census {
	t.Helper()
	var c Census
	if r.v == zooSwap {
		var err error
		c, err = Swap(g, r.miner)
		require.NoError(t, err)
	}
	left, err := StockProducts(g)
	require.NoError(t, err)
	if r.v == zooStock {
		assert.NotEmpty(t, left, "the stock model has products")
	} else {
		assert.Empty(t, left, "stock products left in the %v model", r.v)
	}
	return c
}

func (r *zooRig) stats() pouw.Stats {
	if r.miner == nil {
		return pouw.Stats{}
	}
	return r.miner.Stats()
}

// checkProofs verifies every proof the miner reported, and checks that the
// miner reported each winning tile exactly once and that its kernel never
// failed its own check. It returns the number of proofs.
func (r *zooRig) checkProofs(t testing.TB) int {
	t.Helper()
	if r.miner == nil {
		return 0
	}
	r.mu.Lock()
	found := slices.Clone(r.proofs)
	r.mu.Unlock()
	s := r.miner.Stats()
	assert.Equal(t, s.Proofs, int64(len(found)), "Stats.Proofs counts the proofs handed to OnProof")
	assert.Zero(t, s.SelfCheckFailures, "self-check failures: %v", s.LastSelfCheck)
	for i, f := range found {
		require.NotNil(t, f.Proof, "proof %d", i)
		_, err := pouw.Verify(f.Proof.Job, f.Proof.Profile, f.Proof.Plain, pouw.VerifyOptions{})
		assert.NoError(t, err, "proof %d (%v) does not verify", i, f.Proof.Meta)
		assert.Contains(t, []any{"forward", "grad-A", "grad-B"}, f.Proof.Meta["role"], "proof %d", i)
	}
	// The count is a Poisson draw around the expectation: far outside it,
	// the lottery is not the one the difficulty promises.
	assert.InDelta(t, s.ExpectedProofs, float64(len(found)), 5*math.Sqrt(s.ExpectedProofs)+3,
		"proofs found against expected")
	return len(found)
}

// zooRun is what one variant's training left behind.
type zooRun struct {
	losses []float64 // the training curve the checks read
	raw    []float64 // every step's loss, where losses are epoch means
	stats  pouw.Stats
	proofs int
	census Census
}

// zooLoop runs steps training steps: feed (may be nil) sets the step's
// inputs, run executes the graph forward and backward, the solver updates
// params, and reset readies the machine for the next step. It returns the
// loss of every step (read before the update).
func zooLoop(t testing.TB, steps int, cost *gorgonia.Node, params gorgonia.Nodes, solver gorgonia.Solver,
	feed func(step int), run func() error, reset func()) []float64 {
	t.Helper()
	losses := make([]float64, 0, steps)
	for step := range steps {
		if feed != nil {
			feed(step)
		}
		require.NoError(t, run(), "step %d", step)
		l := zooScalar(t, cost)
		require.False(t, math.IsNaN(l) || math.IsInf(l, 0), "step %d: loss %v", step, l)
		losses = append(losses, l)
		require.NoError(t, solver.Step(gorgonia.NodesToValueGrads(params)), "step %d", step)
		if reset != nil {
			reset()
		}
	}
	return losses
}

func zooScalar(t testing.TB, n *gorgonia.Node) float64 {
	t.Helper()
	require.NotNil(t, n.Value(), "%v has no value", n)
	switch v := n.Value().Data().(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	}
	t.Fatalf("%v is %T, not a float scalar", n, n.Value().Data())
	return 0
}

// zooMean averages xs in windows of size w: the per-epoch loss of a model
// trained one example at a time.
func zooMean(xs []float64, w int) []float64 {
	var out []float64
	for i := 0; i+w <= len(xs); i += w {
		var s float64
		for _, x := range xs[i : i+w] {
			s += x
		}
		out = append(out, s/float64(w))
	}
	return out
}

// Training tolerance of the mined variants. A mined model computes its
// products in int7 (about 2 % relative error each, see op's tests), so its
// loss curve is not the stock one, only close to it: after the last step
// its loss must be within zooLossTol (15 %) of the stock model's, and below
// zooLearned (0.8) times its own first loss, so that it visibly trained.
const (
	zooLossTol = 0.15
	zooLearned = 0.8
)

// checkTrains checks that got trained and ended within zooLossTol of stock.
func checkTrains(t testing.TB, v zooVariant, got, stock []float64) {
	t.Helper()
	require.NotEmpty(t, got)
	first, last := got[0], got[len(got)-1]
	assert.Less(t, last, zooLearned*first, "%v: loss %.4f → %.4f: it does not train", v, first, last)
	ref := stock[len(stock)-1]
	assert.InDelta(t, ref, last, zooLossTol*ref, "%v: final loss %.4f, stock %.4f", v, last, ref)
}

// reasonCounts renders Stats.Unmined sorted, for logs and the README.
func reasonCounts(u map[pouw.UnminedReason]int64) string {
	var parts []string
	for r, n := range u {
		parts = append(parts, fmt.Sprintf("%d× %v", n, r))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// logFigures writes one model's figures in a form the README can quote.
func logFigures(t testing.TB, model string, runs map[zooVariant]*zooRun) {
	t.Helper()
	for _, v := range zooVariants {
		r := runs[v]
		if r == nil {
			continue
		}
		l := r.losses
		line := fmt.Sprintf("zoo %s [%v]: loss %.4f → %.4f", model, v, l[0], l[len(l)-1])
		if v != zooStock {
			s := r.stats
			line += fmt.Sprintf("; products %d, mined %d (%.2f MMAC mined of %.2f), proofs %d (%.1f expected)",
				s.Products, s.Mined, float64(s.MinedMACs)/1e6, float64(s.MACs)/1e6, r.proofs, s.ExpectedProofs)
			for _, role := range []string{"forward", "grad-A", "grad-B"} {
				if rs, ok := s.ByRole[role]; ok {
					line += fmt.Sprintf("; %s %d/%d mined", role, rs.Mined, rs.Products)
				}
			}
			if len(s.Unmined) > 0 {
				line += "; unmined: " + reasonCounts(s.Unmined)
			}
		}
		if len(r.census.Converted) > 0 || len(r.census.Skipped) > 0 {
			line += "; census: " + r.census.String()
		}
		t.Log(line)
	}
}

// zooNormal is a tensor of normal numbers times scale.
func zooNormal(rng *rand.Rand, scale float64, shape ...int) *tensor.Dense {
	d := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range d {
		d[i] = rng.NormFloat64() * scale
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// zooOneHot is the len(labels)×classes one-hot matrix of labels, or with
// vector the one-hot vector of labels[0].
func zooOneHot(labels []int, classes int, vector bool) *tensor.Dense {
	if vector {
		d := make([]float64, classes)
		d[labels[0]] = 1
		return tensor.New(tensor.WithShape(classes), tensor.WithBacking(d))
	}
	d := make([]float64, len(labels)*classes)
	for i, c := range labels {
		d[i*classes+c] = 1
	}
	return tensor.New(tensor.WithShape(len(labels), classes), tensor.WithBacking(d))
}

// expectUnmined builds the Stats.Unmined a model should leave: every entry
// is a count of products of one shape refused by one rule.
type expectUnmined map[pouw.UnminedReason]int64

func (e expectUnmined) add(code pouw.ErrorCode, m, k, n int, times int64) {
	e[pouw.UnminedReason{Code: code, M: m, K: k, N: n}] += times
}

// zooCount is the accounting a model's mined variant must show after
// steps steps: products per step by role, and the unmined ones by reason.
type zooCount struct {
	forward, gradA, gradB int64 // products per step, by role
	unmined               expectUnmined
}

func (c zooCount) check(t testing.TB, s pouw.Stats, steps int64) {
	t.Helper()
	perStep := c.forward + c.gradA + c.gradB
	assert.Equal(t, perStep*steps, s.Products, "products")
	var unmined int64
	for _, n := range c.unmined {
		unmined += n
	}
	assert.Equal(t, perStep*steps-unmined*steps, s.Mined, "mined products")
	want := map[pouw.UnminedReason]int64{}
	for r, n := range c.unmined {
		want[r] = n * steps
	}
	got := s.Unmined
	if got == nil {
		got = map[pouw.UnminedReason]int64{}
	}
	assert.Equal(t, want, got, "unmined products by reason")
	for role, n := range map[string]int64{"forward": c.forward, "grad-A": c.gradA, "grad-B": c.gradB} {
		assert.Equal(t, n*steps, s.ByRole[role].Products, "%s products", role)
	}
}

// zooAs returns t (float64) as a tensor of dtype dt.
func zooAs(dt tensor.Dtype, t *tensor.Dense) *tensor.Dense {
	if dt == tensor.Float64 {
		return t
	}
	src := t.Data().([]float64)
	d := make([]float32, len(src))
	for i, v := range src {
		d[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d))
}
