package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/pouw/gateway/gatewaytest"
)

// devGateway starts a test gateway whose template is the development job
// that mineSmall's proofs were found under, verifying under profile local.
func devGateway(t *testing.T, tcp bool) *gatewaytest.Server {
	srv := gatewaytest.NewUnix(t)
	if tcp {
		srv = gatewaytest.NewTCP(t)
	}
	nbits, err := parseNbits(easyNbits)
	require.NoError(t, err)
	srv.SetJob(pouw.DevJob(nbits).J)
	srv.SetProfile(pouw.Local)
	return srv
}

func TestSubmitSendsEveryFile(t *testing.T) {
	files := minePearl(t)
	for _, tcp := range []bool{false, true} {
		srv := devGateway(t, tcp)
		code, out, errOut := call(append([]string{"submit", "--gateway", srv.Addr()}, files...)...)
		require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, len(files))
		for i, l := range lines {
			assert.True(t, strings.HasPrefix(l, "submitted  "+files[i]+"  id="), l)
		}
		subs := srv.Submissions()
		require.Len(t, subs, len(files))
		for _, s := range subs {
			assert.False(t, s.Stale)
			assert.NoError(t, s.Err, "the gateway's copy verifies")
		}
	}
}

func TestSubmitReportsEachFailure(t *testing.T) {
	files := minePearl(t)
	srv := devGateway(t, false)
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.json")
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cut, data[:len(data)/2], 0o644))
	missing := filepath.Join(dir, "gone.json")

	// The second request is rejected by the gateway, the third is cut off
	// (and the connection redialled for the fourth).
	srv.InjectFault("submitPlainProof", gatewaytest.None)
	srv.InjectFault("submitPlainProof", gatewaytest.Reject)
	srv.InjectFault("submitPlainProof", gatewaytest.Drop)
	args := []string{"submit", "-gateway", srv.Addr(), files[0], files[1], files[0], cut, missing, files[1]}
	code, out, _ := call(args...)
	assert.Equal(t, exitFail, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 6, out)
	assert.True(t, strings.HasPrefix(lines[0], "submitted  "+files[0]), lines[0])
	assert.Equal(t, "error      "+files[1]+"  gateway error -32000: injected failure", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "error      "+files[0]+"  submitPlainProof: gateway unreachable: "), lines[2])
	assert.True(t, strings.HasPrefix(lines[3], "error      "+cut+"  ErrBadEncoding: "), lines[3])
	assert.Equal(t, "error      "+missing+"  ErrIO: stat: no such file or directory", lines[4])
	assert.True(t, strings.HasPrefix(lines[5], "submitted  "+files[1]), lines[5])

	srv.Pause("mining_paused: no template")
	code, out, _ = call("submit", "--gateway", srv.Addr(), files[0])
	assert.Equal(t, exitFail, code)
	assert.Equal(t, "error      "+files[0]+"  gateway error -32001: mining_paused: no template\n", out)

	srv.Stop()
	code, out, _ = call("submit", "--gateway", srv.Addr(), files[0])
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "gateway unreachable: dial")
}

func TestSubmitUsage(t *testing.T) {
	for _, args := range [][]string{
		{"submit"},
		{"submit", "--gateway", "http://x", "f.json"},
		{"submit", "--timeout", "0s", "f.json"},
		{"submit", "--bogus"},
	} {
		code, _, errOut := call(args...)
		assert.Equal(t, exitUsage, code, args)
		assert.NotEmpty(t, errOut, args)
	}
	code, _, errOut := call("submit", "-h")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut, "Usage: pouw submit")
	_, out, _ := call("help")
	assert.Contains(t, out, "submit")
}

// A local-profile proof is refused before it reaches the gateway.
func TestSubmitRefusesLocalProofs(t *testing.T) {
	files := mineSmall(t)
	srv := devGateway(t, false)
	code, out, _ := call("submit", "-gateway", srv.Addr(), files[0])
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "a local-profile proof: only pearl-profile proofs are submitted")
	assert.Empty(t, srv.Submissions())
}
