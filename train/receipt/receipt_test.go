package receipt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// A checkpoint reads back exactly, whatever the tensors' layout, and a
// truncated or padded file is an error, never a panic.
func TestCheckpointRoundTrip(t *testing.T) {
	w := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 2, 3, 4, 5, -6}))
	tr := w.Clone().(*tensor.Dense)
	require.NoError(t, tr.T()) // a transposed view: stored as its logical values
	b := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0.5, -1e300}))
	data, err := encodeCheckpoint([]Param{{"w", w}, {"wT", tr}, {"b", b}})
	require.NoError(t, err)
	got, err := decodeCheckpoint(data)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, -6}, got[0].Value.Data())
	assert.Equal(t, []float32{1, 3, 5, 2, 4, -6}, got[1].Value.Data())
	assert.Equal(t, []int{2, 3}, []int(got[1].Value.Shape()))
	assert.Equal(t, []float64{0.5, -1e300}, got[2].Value.Data())
	for n := range len(data) {
		_, err := decodeCheckpoint(data[:n])
		assert.Error(t, err, "truncated to %d bytes", n)
	}
	_, err = decodeCheckpoint(append(data, 0))
	assert.ErrorContains(t, err, "trailing")
	_, err = encodeCheckpoint([]Param{{"w", w}, {"w", w}})
	assert.Error(t, err, "duplicate names")
}

// Records written by a Writer read back in order with their chain intact;
// the writer refuses records before Start and after Close.
func TestWriterAndOpen(t *testing.T) {
	cfg := pouw.Config{K: 64, Rank: 32}
	cfg.Rows, _ = pouw.Contiguous(2)
	cfg.Cols, _ = pouw.Contiguous(2)
	dir := t.TempDir()
	w, err := Create(dir)
	require.NoError(t, err)
	w.Mined(pouw.MinedProduct{Tag: pouw.Tag{Node: "early"}, Job: pouw.DevJob(0x207fffff).J, Config: cfg})
	require.ErrorContains(t, w.Start(Run{}), "before Start")

	dir = t.TempDir()
	w, err = Create(dir)
	require.NoError(t, err)
	_, err = Create(dir)
	require.ErrorContains(t, err, "already holds a receipt")
	require.NoError(t, w.Start(Run{Model: Model{Name: "m"}}))
	require.NoError(t, w.Checkpoint([]Param{{"w", tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))}}))
	w.BeginStep(1)
	w.Mined(pouw.MinedProduct{Tag: pouw.Tag{Node: "n", Role: "forward"}, M: 2, K: 64, N: 2, Job: pouw.DevJob(0x207fffff).J, Config: cfg, Proofs: []string{"p1"}})
	require.NoError(t, w.EndStep(1, []int{4, 7}, 0.5))
	w.Updated()
	require.NoError(t, w.Close(0.9))
	require.NoError(t, w.Close(0.9), "a second Close is a no-op")

	r, err := Open(dir)
	require.NoError(t, err)
	assert.Equal(t, 6, r.Records) // run, checkpoint, job, product, step, end
	require.Len(t, r.Products, 1)
	assert.Equal(t, int64(1), r.Products[0].Step)
	idx, err := r.Steps[0].Indices()
	require.NoError(t, err)
	assert.Equal(t, []int{4, 7}, idx)
	assert.Equal(t, &End{Steps: 1, Weights: 1, TestAccuracy: 0.9, Proofs: 1}, r.End)
	params, err := r.LoadCheckpoint(r.Checkpoints[0])
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2}, params[0].Value.Data())

	// A last record cut short (a killed run) is named as such.
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b[:len(b)-10], 0o644))
	_, err = Open(dir)
	require.ErrorContains(t, err, "truncated last record")
	// A checkpoint path outside the directory is refused.
	_, err = r.LoadCheckpoint(Checkpoint{File: "../" + strings.Repeat("x", 3)})
	assert.ErrorContains(t, err, "not a file under")
}
