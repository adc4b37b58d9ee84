package train

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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

	png := filepath.Join(t.TempDir(), "run.png")
	require.NoError(t, WritePlot(png, sum, tl))
	data, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG")))
}

func TestRunRejectsBadOptions(t *testing.T) {
	m := logistic(t, 20)
	_, _, err := Run(m, newBlobs(40, 1), newBlobs(40, 2), Options{})
	assert.Error(t, err)
	_, _, err = Run(m, newBlobs(10, 1), newBlobs(40, 2), Options{Epochs: 1, Solver: gorgonia.NewVanillaSolver()})
	assert.ErrorContains(t, err, "fewer than one batch")
}

func TestProofSinkWritesEveryProofAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proofs")
	sink, err := NewProofSink(dir)
	require.NoError(t, err)
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.NbitsForExpectedMACs(5e4)), OnProof: sink.Found})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 9))
	a := pouw.Matrix{Rows: 32, Cols: 64, Data: make([]int8, 32*64)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	_, err = miner.MatMul(a, a, pouw.Tag{Role: "forward", Node: "test"})
	require.NoError(t, err)
	require.NoError(t, sink.Close())
	written := sink.Written()
	require.NotEmpty(t, written)
	assert.EqualValues(t, miner.Stats().Proofs, len(written))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, len(written), "no temp files left")
	for _, path := range written {
		p, err := pouw.ReadProofFile(path)
		require.NoError(t, err)
		_, err = p.Verify(pouw.VerifyOptions{})
		require.NoError(t, err)
		assert.Equal(t, "forward", p.Meta["role"])
	}

	s := &Summary{Model: "m", Mined: true, Epochs: 1, TestAccuracy: []float64{0.5}, Stats: miner.Stats(),
		Nbits: pouw.NbitsForExpectedMACs(5e4), ProofDir: dir, ProofFiles: len(written), EpochTimes: []time.Duration{time.Second}}
	var out bytes.Buffer
	_, err = s.WriteTo(&out)
	require.NoError(t, err)
	for _, want := range []string{"products", "1 mined, 0 unmined", "MACs mined", "tiles tried", "proofs found", "forward", "GEMM+transcript"} {
		assert.Contains(t, out.String(), want)
	}
}

func TestProofSinkReportsWriteErrors(t *testing.T) {
	dir := t.TempDir()
	sink, err := NewProofSink(dir)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o500))
	defer os.Chmod(dir, 0o755)
	if os.Geteuid() == 0 {
		// root ignores directory permissions: remove the directory instead.
		require.NoError(t, os.RemoveAll(dir))
	}
	proof := &pouw.Proof{Plain: &pouw.PlainProof{}, Job: pouw.DevJob(0x207fffff).J, Profile: pouw.Local}
	sink.Found(pouw.Found{Proof: proof})
	err = sink.Close()
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "not written"), err.Error())
}

func TestFormatMACs(t *testing.T) {
	assert.Equal(t, "3.20 GMAC", FormatMACs(3.2e9))
	assert.Equal(t, "12 MAC", FormatMACs(12))
	assert.Equal(t, "1.00 TMAC", FormatMACs(1e12))
}

func TestProofSinkRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".proof-abc.json.tmp-123")
	keep := filepath.Join(dir, "proof-abc.json")
	require.NoError(t, os.WriteFile(stale, []byte("{"), 0o644))
	require.NoError(t, os.WriteFile(keep, []byte("{}"), 0o644))
	sink, err := NewProofSink(dir)
	require.NoError(t, err)
	require.NoError(t, sink.Close())
	assert.NoFileExists(t, stale)
	assert.FileExists(t, keep)
}

// An interrupted run may still find a proof while the sink closes: that is
// counted, never a panic, and closing twice is harmless.
func TestProofSinkFoundAfterClose(t *testing.T) {
	sink, err := NewProofSink(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, sink.Close())
	proof := &pouw.Proof{Plain: &pouw.PlainProof{}, Job: pouw.DevJob(0x207fffff).J, Profile: pouw.Local}
	assert.NotPanics(t, func() { sink.Found(pouw.Found{Proof: proof}) })
	err = sink.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 proof(s) dropped")
}
