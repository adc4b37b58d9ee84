package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
)

// easyNbits finds about one proof per 10⁵ MACs: a 64×128×64 product (524288
// MACs) finds a handful.
var easyNbits = fmt.Sprintf("%#08x", pouw.Local.Nbits(1e5, 32))

// call runs the tool in-process and returns its exit status and output.
func call(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(&o, &e, args)
	return code, o.String(), e.String()
}

// mineSmall mines a small product into a fresh directory and returns the
// proof files written, sorted.
func mineSmall(t *testing.T, extra ...string) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proofs") // mine must create it
	args := append([]string{"mine", "--m", "64", "--k", "128", "--n", "64", "--tile", "8x8",
		"--nbits", easyNbits, "--seed", "7", "--out", dir}, extra...)
	code, out, errOut := call(args...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no proof found; output:\n%s", out)
	for _, f := range files {
		assert.Contains(t, out, f, "summary lists every file written")
	}
	assert.Contains(t, out, "tile=8x8")
	assert.Contains(t, out, fmt.Sprintf("proofs   %d found", len(files)))
	sort.Strings(files)
	return files
}

// minePearl mines the smallest product Pearl's rules admit (k = 16r = 2048)
// under the pearl profile: the only proofs a gateway takes.
func minePearl(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proofs")
	code, out, errOut := call("mine", "--m", "32", "--k", "2048", "--n", "32", "--profile", "pearl",
		"--nbits", easyNbits, "--seed", "7", "--out", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 2, "need two proofs; output:\n%s", out)
	sort.Strings(files)
	return files
}

func TestMineWritesProofsThatVerify(t *testing.T) {
	files := mineSmall(t)
	code, out, _ := call(append([]string{"verify"}, files...)...)
	assert.Equal(t, exitOK, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(files))
	for i, l := range lines {
		assert.True(t, strings.HasPrefix(l, "OK    "+files[i]+"  ticket="), l)
		assert.Contains(t, l, "tile=8x8 at (")
		assert.Contains(t, l, "profile=local cert=3 k=128 r=32")
	}
}

func TestMineIsDeterministic(t *testing.T) {
	base := func(files []string) []string {
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		return names
	}
	first, second := mineSmall(t), mineSmall(t)
	assert.Equal(t, base(first), base(second))
	other := mineSmall(t, "--seed", "8")
	assert.NotEqual(t, base(first), base(other), "another seed draws other matrices")
}

func TestMineUnmined(t *testing.T) {
	// Pearl needs k ≥ 1024: the product is computed but not mined.
	code, out, errOut := call("mine", "--m", "16", "--k", "64", "--n", "16", "--profile", "pearl", "--out", t.TempDir())
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "unmined  16x64x16: ErrInnerDim: ")
	assert.Contains(t, errOut, "not mined")
}

func TestMineUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--tile", "16"},
		{"--tile", "0x4"},
		{"--m", "0"},
		{"--profile", "mainnet"},
		{"--nbits", "zz"},
		{"--nbits", "0"},
		{"--nbits", "0x1d00ffff", "--macs-per-proof", "1e6"},
		{"--macs-per-proof", "-3"},
		{"extra"},
	} {
		code, _, errOut := call(append([]string{"mine", "--out", t.TempDir()}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}

// corrupt writes a copy of the proof file src into dir after applying f to
// its bytes, and returns the copy's path.
func corrupt(t *testing.T, src, name string, f func([]byte) []byte) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, f(data), 0o644))
	return path
}

// flipPayload changes one base64 character of plain_proof to another valid
// one. Character 200 encodes byte 150 of the bincode: past the shape (32
// bytes) and the two length prefixes (16), inside A's first opened leaf.
func flipPayload(data []byte) []byte {
	const key = `"plain_proof": "`
	start := bytes.Index(data, []byte(key)) + len(key)
	end := start + bytes.IndexByte(data[start:], '"')
	if start < len(key) || end < start {
		panic("no plain_proof in the proof file")
	}
	out := bytes.Clone(data)
	i := start + 200
	if i >= end {
		panic("plain_proof too short")
	}
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

func TestVerifyRejects(t *testing.T) {
	good := mineSmall(t)[0]
	flipped := corrupt(t, good, "flipped.json", flipPayload)
	truncated := corrupt(t, good, "truncated.json", func(b []byte) []byte { return b[:len(b)/2] })
	missing := filepath.Join(t.TempDir(), "missing.json")

	// What the library says about the flipped file, so the test does not
	// guess which check the byte trips.
	_, verr := func() (*pouw.Verification, error) {
		p, err := pouw.ReadProofFile(flipped)
		if err != nil {
			return nil, err
		}
		return p.Verify(pouw.VerifyOptions{})
	}()
	require.Error(t, verr)
	flipCode := pouw.CodeOf(verr)
	require.NotZero(t, flipCode, "%v", verr)
	require.NotEqual(t, pouw.ErrBadEncoding, flipCode, "the flip should pass decoding: %v", verr)

	for _, tc := range []struct {
		name, path, code string
	}{
		{"flipped", flipped, flipCode.String()},
		{"truncated", truncated, "ErrBadEncoding"},
		{"missing", missing, "ErrIO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := call("verify", good, tc.path)
			assert.Equal(t, exitFail, code)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Len(t, lines, 2)
			assert.True(t, strings.HasPrefix(lines[0], "OK    "+good), lines[0])
			assert.True(t, strings.HasPrefix(lines[1], "FAIL  "+tc.path+"  "+tc.code+": "), lines[1])
		})
	}
}

func TestVerifyNbitsOverride(t *testing.T) {
	good := mineSmall(t)[0]
	// Target 1: no ticket is that low.
	code, out, _ := call("verify", "-nbits", "0x03000001", good)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "FAIL  "+good+"  ErrHighHash: ")
	// The easiest target: every correct proof is a share.
	code, out, _ = call("verify", "--nbits", "207fffff", good)
	assert.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "nbits=0x207fffff")

	code, _, _ = call("verify", "-nbits", "0x04800000", good) // negative target
	assert.Equal(t, exitUsage, code)
	code, _, _ = call("verify")
	assert.Equal(t, exitUsage, code)
}

var inspectKeys = []string{
	"file", "id", "profile", "cert_version", "header", "header_nbits", "m", "n", "k", "rank", "dot_len",
	"tile", "tile_h", "tile_w", "config", "row_offset", "col_offset", "rows_pattern", "cols_pattern",
	"job_key", "hash_a", "hash_b", "HA", "HB", "s_B", "s_A", "jackpot", "ticket", "ticket_int",
	"nbits", "target", "target_hex", "bound", "bound_hex", "expected_macs_per_proof", "win", "verdict", "meta",
}

func inspectJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, out, errOut := call(append([]string{"inspect"}, args...)...)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v), "stdout:\n%s\nstderr:\n%s", out, errOut)
	return code, v
}

func TestInspect(t *testing.T) {
	good := mineSmall(t)[0]
	code, v := inspectJSON(t, good)
	assert.Equal(t, exitOK, code)
	for _, k := range inspectKeys {
		assert.Contains(t, v, k)
	}
	assert.NotContains(t, v, "error")
	assert.Equal(t, "valid", v["verdict"])
	assert.Equal(t, "local", v["profile"])
	assert.Equal(t, 3.0, v["cert_version"])
	assert.Equal(t, "8x8", v["tile"])
	assert.Equal(t, easyNbits, v["nbits"])
	assert.Len(t, v["jackpot"], 16)
	assert.Len(t, v["config"], 2*pouw.ConfigSize)
	rows := v["rows_pattern"].(map[string]any)
	assert.Len(t, rows["hex"], 2*6)
	assert.Len(t, rows["indices"], 8)

	// The same proof against an impossible target: every value, then the
	// verdict, and exit 1.
	code, v = inspectJSON(t, "-nbits", "0x03000001", good)
	assert.Equal(t, exitFail, code)
	assert.Equal(t, "ErrHighHash", v["verdict"])
	assert.NotEmpty(t, v["error"])
	assert.Equal(t, false, v["win"])
	for _, k := range inspectKeys {
		assert.Contains(t, v, k)
	}

	// A file that does not parse: only the verdict.
	code, v = inspectJSON(t, corrupt(t, good, "t.json", func(b []byte) []byte { return b[:10] }))
	assert.Equal(t, exitFail, code)
	assert.Equal(t, "ErrBadEncoding", v["verdict"])
	assert.NotContains(t, v, "ticket")

	// A corrupted opening: the shape and tile are derived, the seeds are not.
	code, v = inspectJSON(t, corrupt(t, good, "f.json", flipPayload))
	assert.Equal(t, exitFail, code)
	assert.NotEqual(t, "valid", v["verdict"])
	assert.Equal(t, "ErrBadMerkleProof", v["verdict"])
	assert.Contains(t, v, "tile")
	assert.Contains(t, v, "job_key")
	assert.NotContains(t, v, "s_A")

	code, _, _ = call("inspect")
	assert.Equal(t, exitUsage, code)
}

func TestDispatch(t *testing.T) {
	code, _, errOut := call("frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	assert.Contains(t, errOut, "Commands:")

	code, _, errOut = call()
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "Commands:")

	for _, h := range []string{"help", "-h", "--help"} {
		code, out, _ := call(h)
		assert.Equal(t, exitOK, code)
		for _, c := range []string{"verify", "inspect", "mine", "help"} {
			assert.Contains(t, out, "\t"+c+" ")
		}
	}
	for _, c := range []string{"verify", "inspect", "mine"} {
		code, _, errOut := call(c, "-h")
		assert.Equal(t, exitOK, code)
		assert.Contains(t, errOut, "Usage: pouw "+c)
	}
}

// callWithin is call, failing the test if the command runs longer than d
// (a read that blocks) instead of hanging it.
func callWithin(t *testing.T, d time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, stdout, stderr = call(args...)
	}()
	select {
	case <-done:
		return code, stdout, stderr
	case <-time.After(d):
		t.Fatalf("pouw %s blocked for %v", strings.Join(args, " "), d)
		return 0, "", ""
	}
}

// A FIFO (or anything but a regular file: a directory, a device) is
// refused at once by verify, submit and inspect, and the files after it are
// still checked: opening a FIFO for reading would block forever.
func TestVerifySkipsNonRegularFiles(t *testing.T) {
	good := mineSmall(t)[0]
	pearlGood := minePearl(t)[0]
	srv := devGateway(t, false)
	fifo := filepath.Join(t.TempDir(), "fifo.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	dir := t.TempDir()
	odd := []string{fifo, dir}
	if info, err := os.Stat(os.DevNull); err == nil && info.Mode()&os.ModeCharDevice != 0 {
		odd = append(odd, os.DevNull)
	}
	for _, tc := range []struct {
		args []string
		next string // the line for the regular file after them
	}{
		{append(append([]string{"verify"}, odd...), good), "OK    " + good + "  ticket="},
		{append(append([]string{"submit", "-gateway", srv.Addr(), "-timeout", "5s"}, odd...), pearlGood), "submitted  " + pearlGood + "  id="},
	} {
		code, out, _ := callWithin(t, 20*time.Second, tc.args...)
		assert.Equal(t, exitFail, code)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		require.Len(t, lines, len(odd)+1, out)
		for i, f := range odd {
			assert.Contains(t, lines[i], "  "+f+"  ErrIO: not a regular file", tc.args[0])
		}
		assert.True(t, strings.HasPrefix(lines[len(odd)], tc.next), "%s: %s", tc.args[0], lines[len(odd)])
	}
	require.Len(t, srv.Submissions(), 1)
	for _, f := range odd {
		code, v := func() (int, map[string]any) {
			code, out, _ := callWithin(t, 20*time.Second, "inspect", f)
			var v map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &v), out)
			return code, v
		}()
		assert.Equal(t, exitFail, code)
		assert.Equal(t, "ErrIO", v["verdict"])
		assert.Contains(t, v["error"], "not a regular file")
	}
}

// A proof relabelled to another certificate version or profile fails, each
// way, with the rule named, and the verdict names what it was checked under.
func TestVerifyRelabelled(t *testing.T) {
	good := mineSmall(t)[0]
	pearlGood := minePearl(t)[0]
	relabel := func(src, name string, from, to []string) string {
		return corrupt(t, src, name, func(b []byte) []byte {
			for i := range from {
				require.Contains(t, string(b), from[i])
				b = bytes.Replace(b, []byte(from[i]), []byte(to[i]), 1)
			}
			return b
		})
	}
	v1 := relabel(good, "v1.json", []string{`"cert_version": 3`}, []string{`"cert_version": 1`})
	v2 := relabel(good, "v2.json", []string{`"cert_version": 3`}, []string{`"cert_version": 2`})
	pearl := relabel(good, "pearl.json", []string{`"profile": "local"`}, []string{`"profile": "pearl"`})
	local := relabel(pearlGood, "local.json", []string{`"profile": "pearl"`}, []string{`"profile": "local"`})
	both := relabel(pearlGood, "both.json", []string{`"profile": "pearl"`, `"cert_version": 3`}, []string{`"profile": "local"`, `"cert_version": 2`})
	code, out, _ := call("verify", good, pearlGood, v1, v2, pearl, local, both)
	assert.Equal(t, exitFail, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 7, out)
	assert.True(t, strings.HasPrefix(lines[0], "OK    "+good+"  ticket="), lines[0])
	assert.Contains(t, lines[0], "profile=local cert=3")
	assert.True(t, strings.HasPrefix(lines[1], "OK    "+pearlGood+"  ticket="), lines[1])
	assert.Contains(t, lines[1], "profile=pearl cert=3")
	for _, tc := range []struct {
		line       string
		file, want string
	}{
		{lines[2], v1, "ErrCertVersion: the proof's job has certificate version 1, version 3 was expected"},
		{lines[3], v2, "ErrCertVersion: the proof's job has certificate version 2, version 3 was expected"},
		{lines[4], pearl, "ErrProfile: the proof is labelled pearl, but its configuration (k=128 r=32 tile=8x8) breaks Pearl's rules (ErrRank: "},
		{lines[5], local, "ErrProfile: the proof is labelled local, but its configuration (k=2048 r=128 tile=16x16) meets Pearl's rules and is checked under pearl"},
		{lines[6], both, "ErrCertVersion: the proof's job has certificate version 2, version 3 was expected"},
	} {
		assert.True(t, strings.HasPrefix(tc.line, "FAIL  "+tc.file+"  "+tc.want), "%s\nwant %s", tc.line, tc.want)
	}

	// Asked for, a legacy version is what the proof is checked under: the
	// ticket differs, so it does not win at this target.
	code, out, _ = call("verify", "-cert-version", "1", v1)
	assert.Equal(t, exitFail, code)
	assert.NotContains(t, out, "ErrCertVersion")
	// Asked for pearl, a local proof labelled pearl breaks Pearl's rules;
	// asked for local, a pearl-labelled proof is the wrong one.
	code, out, _ = call("verify", "-profile", "pearl", pearl)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "FAIL  "+pearl+"  ErrRank: ")
	code, out, _ = call("verify", "-profile", "local", pearlGood)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "FAIL  "+pearlGood+"  ErrProfile: the proof is labelled pearl, profile local was expected")
	code, _, errOut := call("verify", "-cert-version", "4", good)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "want 1, 2 or 3")
}
