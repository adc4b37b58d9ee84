package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
)

// One short epoch on real MNIST: the mined model learns, and every proof
// file it writes verifies.
func TestTrainAndMineShort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proofs")
	var stdout, stderr bytes.Buffer
	err := run([]string{
		"-epochs", "1", "-train-limit", "3000", "-test-limit", "1000", "-hidden", "128",
		"-macs-per-proof", "2e8", "-proofs", dir, "-quiet",
	}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "mined (int7 products, exact)")
	assert.Regexp(t, `test accuracy\s+([89]\d)\.\d\d %`, out, "30 steps should pass 80 %% (chance is 10 %%; stock gets 80.2 %%)")

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "at this difficulty a short epoch finds proofs")
	roles := map[string]bool{}
	for _, f := range files {
		p, err := pouw.ReadProofFile(f)
		require.NoError(t, err)
		v, err := p.Verify(pouw.VerifyOptions{})
		require.NoError(t, err, f)
		assert.True(t, v.Win)
		roles[p.Meta["role"].(string)] = true
	}
	t.Logf("%d proofs, roles %v", len(files), roles)
	_, err = os.Stat(filepath.Join(dir, "run.png"))
	assert.NoError(t, err)
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseFlags([]string{"-nbits", "0x207fffff"}, &stderr)
	assert.NoError(t, err)
	_, err = parseFlags([]string{"-nbits", "0x04923456"}, &stderr)
	assert.Error(t, err)
	_, err = parseFlags([]string{"-epochs", "0"}, &stderr)
	assert.Error(t, err)
	_, err = parseFlags([]string{"extra"}, &stderr)
	assert.Error(t, err)
	err = run([]string{"-model", "rnn", "-train-limit", "100"}, &stderr, &stderr)
	assert.ErrorContains(t, err, "unknown -model")
}
