package pouw_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
)

func TestProofWriterWritesEveryProofAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proofs") // the writer creates it
	var then []string
	w, err := pouw.NewProofWriter(dir, func(p *pouw.Proof, path string, err error) {
		require.NoError(t, err)
		then = append(then, path)
	})
	require.NoError(t, err)
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(5e4, 32)), OnProof: w.OnProof})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 9))
	a := pouw.Matrix{Rows: 32, Cols: 64, Data: make([]int8, 32*64)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	_, err = miner.MatMul(a, a, pouw.Tag{Role: "forward", Node: "test"})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	written := w.Written()
	require.NotEmpty(t, written)
	assert.Equal(t, written, then, "then sees every file, in order")
	assert.EqualValues(t, miner.Stats().Proofs, len(written))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, len(written), "no temp files left")
	for _, path := range written {
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "a proof is public")
		p, err := pouw.ReadProofFile(path)
		require.NoError(t, err)
		_, err = p.Verify(pouw.VerifyOptions{})
		require.NoError(t, err)
		assert.Equal(t, "forward", p.Meta["role"])
	}
}

func TestProofWriterReportsWriteErrors(t *testing.T) {
	dir := t.TempDir()
	var thenErr error
	w, err := pouw.NewProofWriter(dir, func(_ *pouw.Proof, _ string, err error) { thenErr = err })
	require.NoError(t, err)
	// Removing the directory fails every write, as root too (which
	// ignores permissions).
	require.NoError(t, os.RemoveAll(dir))
	proof := &pouw.Proof{Plain: &pouw.PlainProof{}, Job: pouw.DevJob(0x207fffff).J, Profile: pouw.Local}
	require.NoError(t, w.Write(proof))
	err = w.Close()
	require.Error(t, err)
	assert.ErrorContains(t, err, "1 proof(s) not written")
	assert.Error(t, thenErr, "then hears of the failure")
}

// A killed writer's temporary files are removed when the next one starts,
// never a finished proof, nor a temporary file young enough to be another
// process's write in flight.
func TestProofWriterRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".proof-abc.json.tmp-123")
	young := filepath.Join(dir, ".proof-def.json.tmp-456")
	keep := filepath.Join(dir, "proof-abc.json")
	other := filepath.Join(dir, ".notes.tmp-1")
	for _, f := range []string{stale, young, keep, other} {
		require.NoError(t, os.WriteFile(f, []byte("{"), 0o644))
	}
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	require.NoError(t, os.Chtimes(other, old, old))
	w, err := pouw.NewProofWriter(dir, nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.NoFileExists(t, stale)
	assert.FileExists(t, young)
	assert.FileExists(t, keep)
	assert.FileExists(t, other)
}

// An interrupted run may still find a proof while the writer closes: that
// is counted and reported, never a panic, and closing twice is harmless.
func TestProofWriterAfterClose(t *testing.T) {
	w, err := pouw.NewProofWriter(t.TempDir(), nil)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	proof := &pouw.Proof{Plain: &pouw.PlainProof{}, Job: pouw.DevJob(0x207fffff).J, Profile: pouw.Local}
	assert.NotPanics(t, func() { w.OnProof(pouw.Found{Proof: proof}) })
	assert.Error(t, w.Write(proof))
	err = w.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 proof(s) dropped")
}
