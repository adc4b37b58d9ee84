package train

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// blobs is a synthetic two-class data set: points around (+1, +1) or (−1, −1).
type blobs struct {
	x      [][2]float32
	labels []int
}

func newBlobs(n int, seed uint64) blobs {
	rng := rand.New(rand.NewPCG(seed, 3))
	var b blobs
	for i := 0; i < n; i++ {
		c := i % 2
		s := float32(2*c - 1)
		b.x = append(b.x, [2]float32{s + float32(rng.NormFloat64())*0.5, s + float32(rng.NormFloat64())*0.5})
		b.labels = append(b.labels, c)
	}
	return b
}

func (b blobs) Len() int { return len(b.labels) }
func (b blobs) Fill(i int, x []float32) int {
	if x != nil {
		copy(x, b.x[i][:])
	}
	return b.labels[i]
}

func logistic(t *testing.T, batch int) *Model {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 2), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 2), gorgonia.WithName("y"))
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{0.1, -0.1, 0.05, 0.2}))))
	logits := gorgonia.Must(gorgonia.Mul(x, w))
	logp := gorgonia.Must(gorgonia.LogSoftMax(logits))
	loss := gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(logp, y)), 1))))))
	_, err := gorgonia.Grad(loss, w)
	require.NoError(t, err)
	return &Model{Name: "logistic", Graph: g, X: x, Y: y, Output: logits, Loss: loss, Learnables: gorgonia.Nodes{w}}
}

func TestRunLearns(t *testing.T) {
	m := logistic(t, 20)
	var progress bytes.Buffer
	epochs := 0
	sum, tl, err := Run(m, newBlobs(400, 1), newBlobs(101, 2), Options{
		Epochs: 3, Solver: gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.05), gorgonia.WithBatchSize(20)),
		Progress: &progress, Seed: 1, OnEpoch: func(int, *Summary) { epochs++ },
	})
	require.NoError(t, err)
	assert.Equal(t, 3, epochs)
	assert.Len(t, sum.TestAccuracy, 3)
	assert.Greater(t, sum.FinalAccuracy(), 0.9)
	assert.Less(t, sum.TrainLoss[2], sum.TrainLoss[0])
	assert.Len(t, tl.Loss, 3*20)
	assert.Contains(t, progress.String(), "epoch 3/3 [========================] 20/20")

	var out bytes.Buffer
	_, err = sum.WriteTo(&out)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "stock gorgonia.Mul float32")
	assert.Contains(t, out.String(), "test accuracy")

}

func TestRunRejectsBadOptions(t *testing.T) {
	m := logistic(t, 20)
	_, _, err := Run(m, newBlobs(40, 1), newBlobs(40, 2), Options{})
	assert.Error(t, err)
	_, _, err = Run(m, newBlobs(10, 1), newBlobs(40, 2), Options{Epochs: 1, Solver: gorgonia.NewVanillaSolver()})
	assert.ErrorContains(t, err, "fewer than one batch")
}

func TestSummaryOfMinedRun(t *testing.T) {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(5e4, 32))})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 9))
	a := pouw.Matrix{Rows: 32, Cols: 64, Data: make([]int8, 32*64)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	_, err = miner.MatMul(a, a, pouw.Tag{Role: "forward", Node: "test"})
	require.NoError(t, err)
	_, err = miner.MatMul(a, pouw.Matrix{Rows: 1, Cols: 64, Data: make([]int8, 64)}, pouw.Tag{Role: "forward", Node: "vec"})
	require.NoError(t, err)
	s := &Summary{Model: "m", Mined: true, Epochs: 1, TestAccuracy: []float64{0.5}, Stats: miner.Stats(),
		Nbits: pouw.Local.Nbits(5e4, 32), ProofDir: "proofs", ProofFiles: 2, EpochTimes: []time.Duration{time.Second}}
	var out bytes.Buffer
	_, err = s.WriteTo(&out)
	require.NoError(t, err)
	for _, want := range []string{"products", "1 mined, 1 unmined", "1× ErrTile 32x64x1", "MACs mined", "tiles tried",
		"proofs found", "expected at nbits", "forward", "GEMM+transcript"} {
		assert.Contains(t, out.String(), want)
	}
}

func TestFormatMACs(t *testing.T) {
	assert.Equal(t, "3.20 GMAC", FormatMACs(3.2e9))
	assert.Equal(t, "12 MAC", FormatMACs(12))
	assert.Equal(t, "1.00 TMAC", FormatMACs(1e12))
}

// A mined run whose model still holds stock products (the logistic model is
// built with gorgonia.Mul and never swapped) warns at the start and says so
// in the summary: it trains, but those products are never mined.
func TestRunWarnsOfStockProducts(t *testing.T) {
	m := logistic(t, 20)
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(5e4, 32))})
	require.NoError(t, err)
	var progress bytes.Buffer
	sum, _, err := Run(m, newBlobs(40, 1), newBlobs(20, 2), Options{
		Epochs: 1, Solver: gorgonia.NewVanillaSolver(), Miner: miner, Progress: &progress,
	})
	require.NoError(t, err)
	assert.Contains(t, progress.String(), "warning: 3 matrix product(s) are stock Gorgonia nodes")
	assert.Len(t, sum.StockProducts, 3, "the forward product and its two gradients")
	var out bytes.Buffer
	_, err = sum.WriteTo(&out)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "3 stock product node(s), never mined")
	assert.Zero(t, miner.Stats().Products)
}

// TestSharedGradients trains a model whose two learnables share their
// gradient node (logits = x·(w1 + w2): Gorgonia's addition hands both the
// same one), which a solver zeroes after stepping the first: each must
// still be stepped with the whole gradient, by the same amount.
func TestSharedGradients(t *testing.T) {
	const batch = 20
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 2), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 2), gorgonia.WithName("y"))
	w := func(name string) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{0.1, -0.1, 0.05, 0.2}))))
	}
	w1, w2 := w("w1"), w("w2")
	logits := gorgonia.Must(gorgonia.Mul(x, gorgonia.Must(gorgonia.Add(w1, w2))))
	logp := gorgonia.Must(gorgonia.LogSoftMax(logits))
	loss := gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(logp, y)), 1))))))
	_, err := gorgonia.Grad(loss, w1, w2)
	require.NoError(t, err)
	require.Same(t, w1.Deriv(), w2.Deriv(), "the model no longer shares its gradient node")
	m := &Model{Name: "shared", Graph: g, X: x, Y: y, Output: logits, Loss: loss, Learnables: gorgonia.Nodes{w1, w2}}
	tr, err := NewTrainer(m)
	require.NoError(t, err)
	defer tr.Close()
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	for _, solver := range []gorgonia.Solver{NewAdam(0.05, batch), gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.5))} {
		before := [2][]float32{slices.Clone(w1.Value().Data().([]float32)), slices.Clone(w2.Value().Data().([]float32))}
		_, err = tr.Step(newBlobs(batch, 4), idx)
		require.NoError(t, err)
		require.NoError(t, solver.Step(gorgonia.NodesToValueGrads(m.Learnables)))
		for i := range before[0] {
			d1 := w1.Value().Data().([]float32)[i] - before[0][i]
			d2 := w2.Value().Data().([]float32)[i] - before[1][i]
			assert.NotZero(t, d1, "%T: w1[%d] did not move", solver, i)
			assert.Equal(t, d1, d2, "%T: w1[%d] and w2[%d] moved differently", solver, i, i)
		}
	}
}
