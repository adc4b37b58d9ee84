package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/pouw/gateway"
	"github.com/usefulwork/minedmatmul/pouw/gateway/gatewaytest"
)

// hugeTargetJob is j's mining_job with its target replaced by a number of
// the given length: what a hostile gateway may send.
func hugeTargetJob(t *testing.T, j pouw.Job, digits int) []byte {
	t.Helper()
	good, err := j.MarshalJSON()
	require.NoError(t, err)
	target, err := j.Target()
	require.NoError(t, err)
	old := []byte(`"target":` + target.String() + `,`)
	require.Equal(t, 1, bytes.Count(good, old))
	return bytes.Replace(good, old, []byte(`"target":`+strings.Repeat("9", digits)+`,`), 1)
}

// printable reports whether s is one line of printable text: no control
// characters (newline, carriage return, escape) and nothing a terminal
// would interpret.
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			return false
		}
	}
	return true
}

// A target of millions of digits (big.Int's decimal parse is quadratic: a
// 4-million-digit one costs half a minute) is refused by its length: Dial
// keeps its deadline, mining pauses at the first poll that sees it, and
// Close keeps its deadline while the gateway keeps sending it.
func TestGatewayHugeTarget(t *testing.T) {
	for _, tc := range []struct {
		name   string
		digits int
		reason string
	}{
		// The longest that fits the client's 4 MiB line: read and parsed.
		{"4M digits", 4_000_000, "job not minable"},
		// The proof file's 7.95 million: longer than a line, so the
		// connection is dropped before anything parses it.
		{"7.95M digits", 7_950_000, "gateway unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := testJob("huge")
			huge := hugeTargetJob(t, j, tc.digits)
			srv := gatewaytest.NewUnix(t)
			srv.SetJobJSON(huge)
			opts := gatewayOpts(t)
			opts.PollInterval = 20 * time.Millisecond
			// Long enough for the test server to send 4 to 8 MB on a loaded
			// machine (or under -race), so that the reason is the number.
			opts.RequestTimeout = 5 * time.Second

			// Dial keeps its deadline (generous margins: the unbounded
			// parse overran by tens of seconds).
			const dialDeadline = 5 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), dialDeadline)
			start := time.Now()
			gw, err := gateway.Dial(ctx, srv.Addr(), opts)
			dialTime := time.Since(start)
			cancel()
			require.NoError(t, err)
			t.Logf("Dial returned after %v", dialTime)
			assert.Less(t, dialTime, dialDeadline+3*time.Second, "Dial overran its deadline")
			closed := false
			t.Cleanup(func() {
				if !closed {
					closeGateway(t, gw, time.Second)
				}
			})

			// Mining is paused from the first product, for a short reason;
			// the error quotes a short prefix of the number, if anything.
			_, err = gw.CurrentJob()
			require.ErrorIs(t, err, pouw.ErrPaused)
			st := gw.Stats()
			assert.True(t, st.Paused)
			assert.Equal(t, tc.reason, st.Reason)
			assert.Less(t, len(st.LastError), 400, "%.400s", st.LastError)
			assert.True(t, printable(st.LastError), "%q", st.LastError)
			if tc.reason == "job not minable" {
				assert.Equal(t, pouw.ErrBadEncoding, pouw.CodeOf(err), "%v", err)
				assert.Contains(t, st.LastError, "mining_job.target")
			}

			// A good job resumes mining; the huge one pauses it again at the
			// next poll.
			srv.SetJob(j)
			eventually(t, "resume", func() bool { _, ok := currentHeader(gw); return ok })
			srv.SetJobJSON(huge)
			start = time.Now()
			eventually(t, "pause", func() bool { _, ok := currentHeader(gw); return !ok })
			t.Logf("paused %v after the huge target was served", time.Since(start))
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.Equal(t, tc.reason, gw.Stats().Reason)

			// Close keeps its deadline while polls keep meeting the number.
			const closeDeadline = time.Second
			start = time.Now()
			err = closeGateway(t, gw, closeDeadline)
			closeTime := time.Since(start)
			closed = true
			assert.NoError(t, err)
			t.Logf("Close returned after %v", closeTime)
			assert.Less(t, closeTime, closeDeadline+3*time.Second, "Close overran its deadline")

			// The connection-level call says the same, promptly.
			c, err := gateway.NewConn(srv.Addr(), 0)
			require.NoError(t, err)
			defer c.Close()
			ctx, cancel = context.WithTimeout(context.Background(), dialDeadline)
			defer cancel()
			start = time.Now()
			_, err = c.MiningInfo(ctx)
			assert.Less(t, time.Since(start), dialDeadline+3*time.Second)
			require.Error(t, err)
			assert.Less(t, len(err.Error()), 400, "%.400s", err)
			if tc.reason == "job not minable" {
				assert.Equal(t, pouw.ErrBadEncoding, pouw.CodeOf(err), "%v", err)
			} else {
				assert.ErrorIs(t, err, gateway.ErrLineTooLong)
			}
		})
	}
}

// hostileMessage is a gateway error message that, printed raw, would end the
// current line, forge one of pouw submit's own lines, erase the line it is
// on, and then fill the terminal with megabytes of text.
func hostileMessage(fill int) string {
	return "denied\nsubmitted  /tmp/FORGED.json  id=0000 header=0000…\r\x1b[2K\x1b]0;title\x07\u202e" +
		strings.Repeat("A", fill)
}

// clean200 is what the client shows of msg, a message that starts with
// hostileMessage's prefix: its escaped form cut at 200 bytes, then "…".
func clean200(msg string) string {
	escaped := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\x1b", `\x1b`, "\x07", `\a`, "\u202e", `\u202e`).Replace(msg)
	return escaped[:200] + "…"
}

// Text from the gateway is escaped and capped wherever it is shown: in an
// Error, in the pause reason, in Stats and in the log lines.
func TestGatewayTextIsEscaped(t *testing.T) {
	// Just under the client's line limit, once encoded as JSON.
	msg := hostileMessage(gateway.MaxLine - 1024)

	e := &gateway.Error{Code: gateway.CodeServerError, Message: msg, Data: []byte(`"` + strings.Repeat("D", 1<<20) + `"`)}
	s := e.Error()
	assert.True(t, printable(s), "%q", s)
	assert.Less(t, len(s), 600, "capped")
	assert.Contains(t, s, `denied\nsubmitted`)
	assert.Contains(t, s, `\r\x1b[2K\x1b]0;title\a\u202eAAA`)
	assert.True(t, strings.HasPrefix(s, "gateway error -32000: "+clean200(msg)+" ("), "%s", s)

	// Printable text, backslashes and quotes included, is shown as sent:
	// escaping twice changes nothing.
	e = &gateway.Error{Code: gateway.CodeServerError, Message: `queue "full" \n\x1b ÿ π`}
	assert.Equal(t, `gateway error -32000: queue "full" \n\x1b ÿ π`, e.Error())
	e = &gateway.Error{Code: -1, Message: "\xff\x00\u0085\u2028"}
	assert.Equal(t, `gateway error -1: \xff\x00\u0085\u2028`, e.Error())

	// Over the wire, through a connection.
	srv := gatewaytest.NewUnix(t)
	srv.SetJob(testJob("hostile"))
	c, err := gateway.NewConn(srv.Addr(), 0)
	require.NoError(t, err)
	defer c.Close()
	srv.InjectError("getMiningInfo", gateway.CodeServerError, msg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.MiningInfo(ctx)
	var ge *gateway.Error
	require.ErrorAs(t, err, &ge, "%.300v", err)
	assert.Equal(t, msg, ge.Message, "the message itself is kept as sent")
	assert.True(t, printable(err.Error()), "%q", err.Error())
	assert.Less(t, len(err.Error()), 400)

	// A client that logs: a hostile pause message and a hostile rejection
	// of a proof each give one printable line of bounded length.
	var logMu sync.Mutex
	var lines []string
	opts := gatewayOpts(t)
	opts.MaxAttempts = 1
	opts.Logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	srv.Pause("mining_paused: " + msg)
	gw := dial(t, srv, opts)
	_, err = gw.CurrentJob()
	require.ErrorIs(t, err, pouw.ErrPaused)
	assert.True(t, printable(err.Error()), "%q", err.Error())
	assert.Less(t, len(err.Error()), 400)
	st := gw.Stats()
	assert.True(t, printable(st.Reason), "%q", st.Reason)
	assert.Less(t, len(st.Reason), 400)
	assert.True(t, printable(st.LastError), "%q", st.LastError)
	assert.Less(t, len(st.LastError), 600)

	srv.SetJob(testJob("hostile"))
	eventually(t, "resume", func() bool { _, ok := currentHeader(gw); return ok })
	srv.InjectError("submitPlainProof", -32602, msg)
	var proof *pouw.Proof
	tr := newTrainer(t, 11, gw, func(f pouw.Found) {
		if proof == nil {
			proof = f.Proof
		}
	})
	for proof == nil {
		require.Less(t, tr.steps, 100)
		tr.step()
	}
	require.NoError(t, gw.Submit(proof))
	eventually(t, "the rejection", func() bool { return gw.Stats().Failed == 1 })
	require.Error(t, closeGateway(t, gw, 5*time.Second))
	st = gw.Stats()
	assert.True(t, printable(st.LastError), "%q", st.LastError)
	assert.Less(t, len(st.LastError), 600)

	logMu.Lock()
	defer logMu.Unlock()
	require.NotEmpty(t, lines)
	var sawPause, sawReject bool
	for _, l := range lines {
		assert.True(t, printable(l), "log line %q", l)
		assert.Less(t, len(l), 800, "log line %.800q", l)
		sawPause = sawPause || strings.Contains(l, "mining paused: ")
		sawReject = sawReject || strings.Contains(l, "not submitted")
	}
	assert.True(t, sawPause, "%q", lines)
	assert.True(t, sawReject, "%q", lines)
}

// Dial's proof writer removes what a killed run left: temporary files older
// than a minute, never a finished proof or a temporary file being written.
func TestDialRemovesStaleTempFiles(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	srv.SetJob(testJob("stale"))
	opts := gatewayOpts(t)
	require.NoError(t, os.MkdirAll(opts.ProofDir, 0o755))
	old := time.Now().Add(-10 * time.Minute)
	plant := func(name string, mtime time.Time) string {
		path := filepath.Join(opts.ProofDir, name)
		require.NoError(t, os.WriteFile(path, []byte(`{"plain_proof":`), 0o644))
		require.NoError(t, os.Chtimes(path, mtime, mtime))
		return path
	}
	// Names as internal/atomicfile writes them: "." + final name + ".tmp-" + random.
	stale := plant(".proof-0123456789abcdef0123456789abcdef.json.tmp-123456789", old)
	fresh := plant(".proof-fedcba9876543210fedcba9876543210.json.tmp-987654321", time.Now())
	finished := plant("proof-0123456789abcdef0123456789abcdef.json", old)
	other := plant(".notes.txt.tmp-1", old) // not a proof's temporary file

	gw := dial(t, srv, opts)
	_, err := os.Stat(stale)
	assert.True(t, errors.Is(err, os.ErrNotExist), "the stale temporary file is removed: %v", err)
	for _, keep := range []string{fresh, finished, other} {
		_, err := os.Stat(keep)
		assert.NoError(t, err, "%s is kept", filepath.Base(keep))
	}
	require.NoError(t, closeGateway(t, gw, time.Second))
}
