package pouw

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// strictJSONSeeds are inputs on both sides of every rule of the reader.
var strictJSONSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12E+4`, `true`, `false`, `null`,
	` {"a": [1, "b", {"c": null}], "d": "\u00e9\n\"\\\/\b\f\r\t"} `,
	`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `[{"x":1},{"x":1}]`, `{"\u0061":1,"a":2}`,
	`01`, `-`, `1.`, `.5`, `1e`, `+1`, `NaN`, `tru`, `nul`, `[1,]`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a" 1}`,
	`{a:1}`, `'a'`, `"\x"`, `"\u12"`, `"a` + "\t" + `"`, `"a`, `[`, `{"a":[}`, `{} {}`, `1 2`, `[] x`,
	"\xef\xbb\xbf{}", "\u00a0{}", `{"a":"` + "\xff" + `"}`, `/* c */ {}`,
	strings.Repeat("[", 33) + strings.Repeat("]", 33), strings.Repeat("[", 34) + strings.Repeat("]", 34),
}

// The strict reader accepts exactly what encoding/json accepts, less what
// it exists to refuse: invalid UTF-8, a key twice, nesting deeper than 32.
func checkStrictJSON(t *testing.T, in []byte) {
	err := checkJSON(in)
	if err == nil {
		if !json.Valid(in) {
			t.Fatalf("%q: accepted, but it is not JSON", in)
		}
		return
	}
	if CodeOf(err) != ErrBadEncoding {
		t.Fatalf("%q: error without ErrBadEncoding: %v", in, err)
	}
	if len(err.Error()) > 200 {
		t.Fatalf("%q: long error %.300q", in, err)
	}
	if json.Valid(in) && utf8.Valid(in) {
		if msg := err.Error(); !strings.Contains(msg, "appears twice") && !strings.Contains(msg, "nested deeper") {
			t.Fatalf("%q: refused, but it is JSON: %v", in, err)
		}
	}
}

func TestStrictJSON(t *testing.T) {
	for _, s := range strictJSONSeeds {
		checkStrictJSON(t, []byte(s))
	}
	for in, want := range map[string]string{
		`{"a":1,"a":2}`:          `JSON: key "a" appears twice`,
		`{"\u0061":1,"a":2}`:     `JSON: key "a" appears twice`,
		`[{"x":{"y":1,"y":1}}]`:  `JSON: key "y" appears twice`,
		`{"a":"` + "\xff" + `"}`: `JSON: invalid UTF-8 at byte 6`,
		`01`:                     `JSON: data after the value, at byte 1`,
		`{"a":1}{}`:              `JSON: data after the value, at byte 7`,
		`{"a":1,}`:               `JSON: invalid character '}' looking for the beginning of an object key, at byte 7`,
		`"a` + "\n" + `b"`:       `JSON: invalid character '\n' in a string, at byte 2`,
		`[1`:                     `JSON: unexpected end of input after an array element`,
		strings.Repeat("[", 34) + strings.Repeat("]", 34): `JSON: nested deeper than 32`,
	} {
		assert.EqualError(t, checkJSON([]byte(in)), "ErrBadEncoding: "+want, "%q", in)
	}
	assert.NoError(t, checkJSON([]byte(strings.Repeat("[", 33)+strings.Repeat("]", 33))))

	// Members come back raw, as written, without the whitespace around them.
	obj, err := jsonObject("x", []byte(` { "a" : [1, 2] , "b":"\u0041" } `), []string{"a"}, []string{"b"})
	require.NoError(t, err)
	assert.Equal(t, `[1, 2]`, string(obj["a"]))
	assert.Equal(t, `"\u0041"`, string(obj["b"]))
	s, err := jsonString("b", obj["b"])
	require.NoError(t, err)
	assert.Equal(t, "A", s)
}

// A number of millions of digits costs the reader one look at each: the
// 7.95-million-digit target is refused in milliseconds (about 20 ms here,
// where encoding/json's reader took 200 ms). The bound is generous, for
// loaded machines and -race (about 1 s); parsing the number took minutes.
func TestParseProofHugeTargetIsFast(t *testing.T) {
	_, good := proofFile(t)
	target := field(t, field(t, good, "mining_job"), "target")
	in := []byte(edit(t, good, `"target":`+target, `"target":`+strings.Repeat("9", 7_950_000)))
	best := time.Hour
	for range 5 {
		start := time.Now()
		_, err := ParseProof(in)
		best = min(best, time.Since(start))
		require.Equal(t, ErrBadEncoding, CodeOf(err))
	}
	t.Logf("ParseProof refused a %d-byte file with a 7.95-million-digit target in %v", len(in), best)
	assert.Less(t, best, 10*time.Second)
}

// FuzzStrictJSON: the strict reader never accepts what is not JSON, and
// refuses JSON only for the rules it adds. Inputs are small and each run is
// a single pass, so it runs at the fuzzer's full rate.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range strictJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkStrictJSON(t, in)
	})
}
