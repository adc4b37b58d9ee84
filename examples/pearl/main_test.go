package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"lukechampine.com/blake3"

	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/pouw/gateway"
	"github.com/usefulwork/minedmatmul/pouw/gateway/gatewaytest"
)

// One short epoch against a test gateway: the eligible products are mined
// under the gateway's job, every proof is submitted and verifies there, and
// the summary reports the eligible share and the gateway's counts.
func TestTrainAgainstGateway(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	job := pouw.Job{
		Header: pouw.Header{
			Version:   0x20000000,
			PrevBlock: blake3.Sum256([]byte("examples/pearl test")),
			Timestamp: 1_700_000_000,
			Bits:      pouw.Pearl.Nbits(5e7, 128), // a handful of proofs in one step
		},
		CertVersion: pouw.CertSalted,
	}
	srv.SetJob(job)
	dir := filepath.Join(t.TempDir(), "proofs")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-gateway", srv.Addr(), "-proofs", dir, "-epochs", "1", "-examples", "2048",
		"-hidden", "64", "-poll", "10ms", "-quiet"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "mined 4 of 7 products, 99.5% of")
	assert.Contains(t, out, "3 ineligible")
	assert.Contains(t, out, "jobs seen         1")
	assert.NotContains(t, out, "not submitted")

	subs := srv.Submissions()
	require.NotEmpty(t, subs, "at this difficulty a step finds proofs\n%s", out)
	for _, s := range subs {
		assert.Equal(t, job.Header, s.Job.Header)
		assert.NoError(t, s.Err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "proof-*.json"))
	require.NoError(t, err)
	assert.Len(t, files, len(subs), "every proof is kept on disk too")
}

// A gateway that is down does not stop training: nothing is mined, the run
// completes and says why.
func TestTrainWithGatewayDown(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := run([]string{"-gateway", filepath.Join(dir, "none.sock"), "-proofs", filepath.Join(dir, "p"),
		"-epochs", "1", "-examples", "2048", "-hidden", "64", "-poll", "10ms", "-quiet"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Less(t, time.Since(start), time.Minute)
	out := stdout.String()
	assert.Contains(t, out, "mined 0 of 7 products")
	assert.Contains(t, out, "7 paused")
	assert.Contains(t, out, "ErrNoJob 2048x2048x64")
	assert.Contains(t, stderr.String(), "gateway unreachable: dial unix")
}

// hostileMessage is gateway text that, logged raw, would end the line,
// forge one of the program's own lines, erase the line it is on, and then
// fill the log with megabytes.
func hostileMessage(fill int) string {
	return "denied\ngateway unix:///x: job with nbits 0x1d00ffff FORGED\r\x1b[2K\x1b]0;title\x07\u202e" + strings.Repeat("A", fill)
}

// checkLog asserts that every line of a log is printable (no control
// character: none can forge or erase a line) and of bounded length.
func checkLog(t *testing.T, log string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		assert.Less(t, len(l), 1000, "%.300q", l)
		assert.NotContains(t, l, "FORGED\r")
		for _, r := range l {
			if !unicode.IsGraphic(r) {
				assert.Fail(t, "control character in the log", "%U in %.300q", r, l)
				break
			}
		}
	}
}

// Text from the gateway reaches the log escaped and shortened: a hostile
// mining_paused message, and hostile rejections of every proof, each give
// lines of printable text.
func TestGatewayTextIsEscapedInTheLog(t *testing.T) {
	msg := hostileMessage(gateway.MaxLine - 1024) // the longest that fits a line
	dir := t.TempDir()
	args := func(srv *gatewaytest.Server, proofs string) []string {
		return []string{"-gateway", srv.Addr(), "-proofs", filepath.Join(dir, proofs), "-epochs", "1", "-examples", "2048",
			"-hidden", "64", "-poll", "10ms", "-drain", "10s", "-quiet"}
	}

	srv := gatewaytest.NewUnix(t)
	srv.Pause("mining_paused: " + msg)
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(args(srv, "paused"), &stdout, &stderr), "%.2000s", stderr.String())
	assert.Contains(t, stdout.String(), "mined 0 of 7 products")
	assert.Contains(t, stderr.String(), `mining_paused: denied\ngateway unix:///x: job`)
	checkLog(t, stderr.String())
	checkLog(t, stdout.String())

	srv = gatewaytest.NewUnix(t)
	srv.SetJob(pouw.Job{
		Header: pouw.Header{
			Version:   0x20000000,
			PrevBlock: blake3.Sum256([]byte("examples/pearl hostile")),
			Timestamp: 1_700_000_000,
			Bits:      pouw.Pearl.Nbits(5e7, 128),
		},
		CertVersion: pouw.CertSalted,
	})
	for range 100 { // more than one step finds
		srv.InjectError("submitPlainProof", gateway.CodeInvalidParams, msg)
	}
	stdout.Reset()
	stderr.Reset()
	require.NoError(t, run(args(srv, "rejected"), &stdout, &stderr), "%.2000s", stderr.String())
	assert.Contains(t, stdout.String(), "not submitted")
	assert.Contains(t, stderr.String(), `gateway error -32602: denied\ngateway unix:///x: job`)
	checkLog(t, stderr.String())
	checkLog(t, stdout.String())
}
