package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Killing the program mid-run (SIGKILL: no chance to clean up) leaves only
// complete, valid proof files.
func TestKilledRunLeavesOnlyValidProofs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := filepath.Join(t.TempDir(), "mnist")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dir := filepath.Join(t.TempDir(), "proofs")
	// A difficulty this easy writes proofs many times a second.
	cmd := exec.Command(bin, "-quiet", "-epochs", "50", "-hidden", "64", "-train-limit", "5000",
		"-test-limit", "500", "-macs-per-proof", "2e6", "-proofs", dir)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()

	deadline := time.Now().Add(60 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) >= 20 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no proofs after a minute")
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	for _, f := range files {
		p, err := pouw.ReadProofFile(f)
		require.NoError(t, err, "a killed run left an incomplete proof file")
		_, err = p.Verify(pouw.VerifyOptions{})
		require.NoError(t, err, f)
	}
	t.Logf("%d proof files, all valid", len(files))
}
