package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

// receiptRun trains 10 steps with a receipt (checkpoints every 5 steps)
// into a fresh directory and returns it.
func receiptRun(t *testing.T, seed string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-epochs", "1", "-train-limit", "1000", "-test-limit", "300", "-hidden", "64",
		"-macs-per-proof", "1e7", "-checkpoint-every", "5", "-seed", seed, "-proofs", dir, "-quiet"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.Contains(t, stdout.String(), "go run ./cmd/pouw audit "+dir)
	return dir
}

func audit(t *testing.T, dir, dataDir string) (*receipt.Report, error) {
	t.Helper()
	if dataDir == "" {
		var err error
		dataDir, err = mnist.DefaultDir()
		require.NoError(t, err)
	}
	return receipt.Audit(dir, receipt.AuditOptions{OpenDataset: func(d receipt.Dataset) (receipt.Features, error) {
		train, _, err := openMNIST(dataDir, d)
		return train, err
	}})
}

func replayOf(dir, dataDir string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := replay(dir, dataDir, 5, &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

// copyDir copies a run directory, so each tamper test starts clean.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy")
	require.NoError(t, os.CopyFS(to, os.DirFS(from)))
	return to
}

// lines and writeLines read and write the receipt's records.
func lines(t *testing.T, dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, receipt.FileName))
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func writeLines(t *testing.T, dir string, ls []string) {
	require.NoError(t, os.WriteFile(filepath.Join(dir, receipt.FileName), []byte(strings.Join(ls, "\n")+"\n"), 0o644))
}

// A clean run passes the audit and the replay: every proof is a recorded
// product, the checkpoints re-derive the weight operands, the inputs
// rebuild from MNIST, and the replayed steps and the final accuracy are
// bit for bit the recorded ones.
func TestReceiptAuditAndReplay(t *testing.T) {
	dir := receiptRun(t, "1")
	rep, err := audit(t, dir, "")
	require.NoError(t, err)
	assert.Positive(t, rep.Proofs, "at this difficulty 10 steps find proofs")
	assert.Equal(t, 3, rep.Checkpoints)
	assert.Positive(t, rep.WeightOperands)
	assert.Equal(t, 5, rep.InputSteps)
	assert.Equal(t, 10, rep.InputOperands, "x feeds the first layer and its weight gradient")
	out, err := replayOf(dir, "")
	require.NoError(t, err, out)
	assert.Contains(t, out, "OK    2 steps replayed")
	assert.Contains(t, out, "as recorded")

	// A second run into the same directory keeps the first one aside.
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"-epochs", "1", "-train-limit", "200", "-test-limit", "100", "-hidden", "32",
		"-proofs", dir, "-quiet"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "the previous run in "+dir+" moved to ")
	_, err = audit(t, dir, "")
	assert.NoError(t, err)
}

// Every tamper is caught, by the audit or by the replay, with a message
// that names what failed.
func TestReceiptTampering(t *testing.T) {
	clean := receiptRun(t, "1")
	other := receiptRun(t, "2")
	proofsOf := func(dir string) []string {
		files, err := filepath.Glob(filepath.Join(dir, "proof-*.json"))
		require.NoError(t, err)
		return files
	}
	require.NotEmpty(t, proofsOf(clean))
	require.NotEmpty(t, proofsOf(other))

	t.Run("proof mined on random matrices", func(t *testing.T) {
		dir := copyDir(t, clean)
		first, err := pouw.ReadProofFile(proofsOf(clean)[0])
		require.NoError(t, err)
		var found []pouw.Found
		miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.StaticJob{J: first.Job}, OnProof: func(f pouw.Found) { found = append(found, f) }})
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(7, 7))
		for len(found) == 0 {
			a := pouw.Matrix{Rows: 64, Cols: 128, Data: make([]int8, 64*128)}
			for i := range a.Data {
				a.Data[i] = int8(rng.IntN(129) - 64)
			}
			_, err := miner.MatMul(a, a, pouw.Tag{Role: "forward"})
			require.NoError(t, err)
		}
		w, err := pouw.NewProofWriter(dir, nil)
		require.NoError(t, err)
		err = w.Write(found[0].Proof)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		_, err = audit(t, dir, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "its matrices are not a product recorded in the receipt")
	})
	t.Run("record edited", func(t *testing.T) {
		dir := copyDir(t, clean)
		ls := lines(t, dir)
		for i, l := range ls {
			if strings.Contains(l, `"kind":"step"`) {
				ls[i] = strings.Replace(l, `"loss":`, `"loss":1`, 1)
				break
			}
		}
		writeLines(t, dir, ls)
		_, err := audit(t, dir, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is not the hash of line")
	})
	t.Run("record removed", func(t *testing.T) {
		dir := copyDir(t, clean)
		ls := lines(t, dir)
		writeLines(t, dir, append(ls[:5:5], ls[6:]...))
		_, err := audit(t, dir, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 6 (")
		assert.Contains(t, err.Error(), "a record was removed, inserted or reordered")
	})
	t.Run("records reordered", func(t *testing.T) {
		dir := copyDir(t, clean)
		ls := lines(t, dir)
		ls[7], ls[8] = ls[8], ls[7]
		writeLines(t, dir, ls)
		_, err := audit(t, dir, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 8 (")
	})
	t.Run("checkpoint swapped for another step's", func(t *testing.T) {
		dir := copyDir(t, clean)
		ck := filepath.Join(dir, receipt.CheckpointDir)
		later, err := os.ReadFile(filepath.Join(ck, "weights-00000005.ckpt"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(ck, "weights-00000000.ckpt"), later, 0o644))
		_, err = audit(t, dir, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "checkpoints/weights-00000000.ckpt: SHA-256")
		assert.Contains(t, err.Error(), "the file was changed or swapped")
		_, err = replayOf(dir, "")
		assert.ErrorContains(t, err, "the file was changed or swapped")
	})
	t.Run("data file changed", func(t *testing.T) {
		src, err := mnist.DefaultDir()
		require.NoError(t, err)
		data := t.TempDir()
		require.NoError(t, os.CopyFS(data, os.DirFS(src)))
		labels := filepath.Join(data, mnist.TestLabels)
		b, err := os.ReadFile(labels)
		require.NoError(t, err)
		require.NoError(t, os.Chmod(labels, 0o644))
		require.NoError(t, os.WriteFile(labels, append(b, 0), 0o644))
		_, err = audit(t, clean, data)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "data file "+labels)
		_, err = replayOf(clean, data)
		assert.ErrorContains(t, err, "not the data the run trained on")
	})
	t.Run("another run's proofs", func(t *testing.T) {
		dir := copyDir(t, clean)
		for _, f := range proofsOf(dir) {
			require.NoError(t, os.Remove(f))
		}
		for _, f := range proofsOf(other) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
		}
		_, err := audit(t, dir, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "its matrices are not a product recorded in the receipt")
		assert.Contains(t, err.Error(), "the receipt lists are missing")
	})
	t.Run("forged loss, chain recomputed", func(t *testing.T) {
		// A forger who rewrites the chain passes its check; the replay
		// recomputes the step and catches the claim.
		dir := copyDir(t, clean)
		ls := lines(t, dir)
		for i, l := range ls {
			if strings.Contains(l, `"kind":"step"`) && strings.Contains(l, `"step":1,`) {
				ls[i] = strings.Replace(l, `"loss":`, `"loss":1`, 1)
				break
			}
		}
		writeLines(t, dir, rechain(t, ls))
		_, err := audit(t, dir, "")
		require.NoError(t, err, "the chain was recomputed")
		out, err := replayOf(dir, "")
		require.ErrorIs(t, err, errAudit)
		assert.Contains(t, out, "step 1: loss")
	})
}

// rechain recomputes every record's seq-chained prev, as a forger would.
func rechain(t *testing.T, ls []string) []string {
	prev := strings.Repeat("0", 64)
	out := make([]string, len(ls))
	for i, l := range ls {
		j := strings.Index(l, `"prev":"`) + len(`"prev":"`)
		l = l[:j] + prev + l[j+64:]
		out[i] = l
		prev = sha256Hex(l)
	}
	return out
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
