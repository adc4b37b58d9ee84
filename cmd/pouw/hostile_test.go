package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw/gateway"
)

// outputLines splits a command's output into its lines, checking that each
// is printable text (no carriage return, escape or other control character
// that would let input forge or erase a line) of at most max bytes.
func outputLines(t *testing.T, out string, max int) []string {
	t.Helper()
	require.True(t, strings.HasSuffix(out, "\n"), "%.300q", out)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		assert.LessOrEqual(t, len(l), max, "%.300q", l)
		for _, r := range l {
			if !unicode.IsGraphic(r) {
				assert.Fail(t, "control character in the output", "%U in %.300q", r, l)
				break
			}
		}
	}
	return lines
}

// edited writes a copy of the proof file src with the one match of the
// regular expression re replaced by repl, and returns its path.
func edited(t *testing.T, src, name, re, repl string) string {
	t.Helper()
	return corrupt(t, src, name, func(b []byte) []byte {
		rx := regexp.MustCompile(re)
		require.Len(t, rx.FindAllIndex(b, -1), 1, "%s in %s", re, src)
		return rx.ReplaceAll(b, []byte(repl))
	})
}

// A target of 7.95 million digits (big.Int's decimal parse is quadratic:
// about 100 s of CPU) is refused by its length, at once, on one short line
// that does not repeat the number.
func TestVerifyHugeTarget(t *testing.T) {
	good := mineSmall(t)[0]
	huge := edited(t, good, "huge.json", `"target": [0-9]+,`, `"target": `+strings.Repeat("9", 7_950_000)+`,`)
	info, err := os.Stat(huge)
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(7_950_000))

	best := time.Duration(1 << 62)
	for range 3 {
		start := time.Now()
		code, out, _ := call("verify", huge, good)
		best = min(best, time.Since(start))
		assert.Equal(t, exitFail, code)
		lines := outputLines(t, out, 300)
		require.Len(t, lines, 2)
		assert.True(t, strings.HasPrefix(lines[0], "FAIL  "+huge+"  ErrBadEncoding: mining_job.target: want an integer of at most 78 digits"), lines[0])
		assert.NotContains(t, lines[0], strings.Repeat("9", 100))
		assert.True(t, strings.HasPrefix(lines[1], "OK    "+good), "the next file is checked: %s", lines[1])
	}
	// Both files, read, parsed and verified: tens of milliseconds. The
	// bound is generous, for loaded machines and -race; unbounded, the
	// parse took minutes.
	t.Logf("pouw verify HUGE GOOD took %v", best)
	assert.Less(t, best, 10*time.Second)

	code, out, _ := call("inspect", huge)
	assert.Equal(t, exitFail, code)
	assert.Less(t, len(out), 1000, "%.1000s", out)
	assert.Contains(t, out, `"verdict": "ErrBadEncoding"`)
}

// One proof, one encoding: every other spelling of a proof file fails and
// the line names the rule it breaks.
func TestVerifyNamesTheEncodingRule(t *testing.T) {
	good := mineSmall(t)[0]
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	header := regexp.MustCompile(`"incomplete_header_bytes": "([^"]*)"`).FindSubmatch(data)[1]
	require.True(t, bytes.HasSuffix(header, []byte("==")), "76 bytes end in two pad characters")
	// The last character before the padding carries 2 bits of data and 4
	// bits that must be zero: set the lowest.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, header[len(header)-3])
	require.Zero(t, last%16)
	stray := string(header[:len(header)-3]) + string(alphabet[last+1]) + "=="

	for _, tc := range []struct {
		name, re, repl, rule string
	}{
		{"key in upper case", `"plain_proof":`, `"PLAIN_PROOF":`, `proof: key "PLAIN_PROOF": keys are case-sensitive, want "plain_proof"`},
		{"nested key in other case", `"cert_version":`, `"Cert_Version":`, `mining_job: key "Cert_Version": keys are case-sensitive`},
		{"cert_version twice", `"cert_version": 3`, `"cert_version": 3, "cert_version": 1`, `JSON: key "cert_version" appears twice`},
		{"junk plain_proof first", `"plain_proof": "`, `"plain_proof": "AA==", "plain_proof": "`, `JSON: key "plain_proof" appears twice`},
		{"meta key twice", `"role": "mine"`, `"role": "mine", "role": "other"`, `JSON: key "role" appears twice`},
		{"unknown top-level key", `"profile": "local"`, `"profile": "local", "extra": 1`, `proof: unknown key "extra"`},
		{"unknown mining_job key", `"cert_version": 3`, `"cert_version": 3, "height": 7`, `mining_job: unknown key "height"`},
		{"escaped newline in base64", `("plain_proof": "[A-Za-z0-9+/]{20})`, `$1\n`, `plain_proof: whitespace or a line break at character 20 of the base64`},
		{"escaped CRLF in base64", `("plain_proof": "[A-Za-z0-9+/]{20})`, `$1\r\n`, `plain_proof: whitespace or a line break at character 20`},
		{"raw newline in base64", `("plain_proof": "[A-Za-z0-9+/]{20})`, "$1\n", `JSON: invalid character '\n' in a string`},
		{"stray bits in base64", `"incomplete_header_bytes": "[^"]*"`, `"incomplete_header_bytes": "` + stray + `"`, `mining_job.incomplete_header_bytes: not canonical base64`},
		{"base64 without padding", `"incomplete_header_bytes": "([^"=]*)=="`, `"incomplete_header_bytes": "$1"`, `mining_job.incomplete_header_bytes: not canonical base64`},
		{"invalid UTF-8 in meta", `"role": "mine"`, "\"role\": \"mi\xffne\"", `JSON: invalid UTF-8 at byte `},
		{"target with leading zero", `"target": `, `"target": 0`, `JSON: invalid character '1' after an object key:value pair`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := edited(t, good, "bad.json", tc.re, tc.repl)
			code, out, _ := call("verify", bad, good)
			assert.Equal(t, exitFail, code)
			lines := outputLines(t, out, 300)
			require.Len(t, lines, 2)
			assert.True(t, strings.HasPrefix(lines[0], "FAIL  "+bad+"  ErrBadEncoding: "+tc.rule), "%s\nwant the rule %s", lines[0], tc.rule)
			assert.True(t, strings.HasPrefix(lines[1], "OK    "+good), lines[1])
		})
	}
}

// A file name is shown as given when it is printable, and quoted when it
// would forge or erase a line.
func TestVerifyQuotesUnprintableNames(t *testing.T) {
	good := mineSmall(t)[0]
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	dir := t.TempDir()
	forged := filepath.Join(dir, "x.json\nOK    FORGED.json  ticket=00")
	erasing := filepath.Join(dir, "y.json\r\x1b[2K")
	for _, p := range []string{forged, erasing} {
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	code, out, _ := call("verify", forged, erasing, filepath.Join(dir, "gone\n.json"))
	assert.Equal(t, exitFail, code)
	lines := outputLines(t, out, 1000)
	require.Len(t, lines, 3, "%q", out)
	assert.True(t, strings.HasPrefix(lines[0], `OK    "`+dir+`/x.json\nOK    FORGED.json  ticket=00"  ticket=`), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], `OK    "`+dir+`/y.json\r\x1b[2K"  ticket=`), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], `FAIL  "`+dir+`/gone\n.json"  ErrIO: `), lines[2])
}

// hostileMessage is a gateway error message that, printed raw, would end
// pouw submit's line, forge a "submitted" line of its own, erase the line it
// is on, and then print megabytes.
func hostileMessage(fill int) string {
	return "denied\nsubmitted  /tmp/FORGED.json  id=00 header=00…\r\x1b[2K\x1b]0;title\x07\u202e" + strings.Repeat("A", fill)
}

// Whatever a gateway answers, pouw submit prints one printable line of
// bounded length per file.
func TestSubmitEscapesGatewayText(t *testing.T) {
	files := minePearl(t)
	srv := devGateway(t, false)
	// As long as fits the client's line once encoded as JSON; longer is an
	// over-long line, which drops the connection (also one line).
	msg := hostileMessage(gateway.MaxLine - 1024)
	srv.InjectError("submitPlainProof", gateway.CodeServerError, msg)
	srv.InjectError("submitPlainProof", gateway.CodeInvalidParams, msg)
	srv.InjectError("submitPlainProof", gateway.CodeServerError, hostileMessage(gateway.MaxLine))
	args := []string{"submit", "-gateway", srv.Addr(), files[0], files[1], files[0], files[1]}
	code, out, _ := call(args...)
	assert.Equal(t, exitFail, code)
	lines := outputLines(t, out, 400)
	require.Len(t, lines, 4, "%.2000q", out)
	want := `  gateway error -32000: denied\nsubmitted  /tmp/FORGED.json  id=00 header=00…\r\x1b[2K\x1b]0;title\a\u202eAAAA`
	assert.True(t, strings.HasPrefix(lines[0], "error      "+files[0]+want), lines[0])
	assert.True(t, strings.HasSuffix(lines[0], "A…"), "shortened: %s", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "error      "+files[1]+"  gateway error -32602: denied\\nsubmitted"), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "error      "+files[0]+"  submitPlainProof: gateway unreachable: response: line exceeds"), lines[2])
	assert.True(t, strings.HasPrefix(lines[3], "submitted  "+files[1]+"  id="), lines[3])

	// A hostile mining_paused message: the same, once per file.
	srv.Pause("mining_paused: " + msg)
	code, out, _ = call("submit", "-gateway", srv.Addr(), files[0], files[1])
	assert.Equal(t, exitFail, code)
	lines = outputLines(t, out, 400)
	require.Len(t, lines, 2, "%.2000q", out)
	for i, l := range lines {
		assert.True(t, strings.HasPrefix(l, "error      "+files[i]+`  gateway error -32001: mining_paused: denied\nsubmitted`), l)
	}
}

// inspect prints a file's meta as JSON; what encoding/json leaves raw and a
// terminal acts on (C1 controls, bidirectional overrides) is escaped too,
// and the output is the same JSON.
func TestInspectEscapesMeta(t *testing.T) {
	good := mineSmall(t)[0]
	hostile := "mi\u202ene\u009b[2J\u2066\x7f\U000e0001"
	bad := edited(t, good, "meta.json", `"role": "mine"`, `"role": "`+hostile+`", "\u202ekey": 1`)
	code, out, _ := call("inspect", bad)
	assert.Equal(t, exitOK, code, out)
	outputLines(t, out, 1000)
	assert.Contains(t, out, `"role": "mi\u202ene\u009b[2J\u2066\u007f\udb40\udc01"`)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	meta := v["meta"].(map[string]any)
	assert.Equal(t, hostile, meta["role"])
	assert.Contains(t, meta, "\u202ekey")
}
