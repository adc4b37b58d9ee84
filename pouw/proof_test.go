package pouw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	_ json.Marshaler   = (*Proof)(nil)
	_ json.Unmarshaler = (*Proof)(nil)
	_ json.Marshaler   = Job{}
	_ json.Unmarshaler = (*Job)(nil)
)

// proofFile is a valid proof file, as MarshalJSON writes it.
func proofFile(t *testing.T) (*Proof, string) {
	t.Helper()
	proof := validProof(t, Local, 8, 64, 8, 32, 2, 2)
	proof.Meta = map[string]any{"role": "forward", "step": int64(12), "node": "MatMul(x, w)"}
	data, err := proof.MarshalJSON()
	require.NoError(t, err)
	_, err = ParseProof(data)
	require.NoError(t, err)
	return proof, string(data)
}

// edit replaces the only occurrence of old in s with new.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "%q", old)
	return strings.Replace(s, old, new, 1)
}

// field returns the raw JSON value of key in the object s.
func field(t *testing.T, s, key string) string {
	t.Helper()
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(s), &obj))
	v, ok := obj[key]
	require.True(t, ok, key)
	return string(v)
}

// ParseProof accepts one encoding of a proof file: anything that two JSON
// parsers could read differently, or that this one would have to guess at,
// is rejected with ErrBadEncoding.
func TestParseProofIsStrict(t *testing.T) {
	_, good := proofFile(t)
	job := field(t, good, "mining_job")
	plain := field(t, good, "plain_proof")
	header := field(t, job, "incomplete_header_bytes")
	target := field(t, job, "target")
	require.True(t, strings.HasSuffix(header, `=="`), "76 bytes end in two pad characters")

	// A header whose last base64 digit carries stray bits: "…A==" → "…B==".
	strayHeader := header[:len(header)-4] + string(header[len(header)-4]+1) + `=="`
	_, decodeErr := base64.StdEncoding.DecodeString(strayHeader[1 : len(strayHeader)-1])
	require.NoError(t, decodeErr, "Go's lenient decoder takes it")

	urlSafe := strings.NewReplacer("+", "-", "/", "_").Replace(plain)
	require.NotEqual(t, plain, urlSafe)
	cases := map[string]string{
		"key in upper case":         edit(t, good, `"plain_proof":`, `"PLAIN_PROOF":`),
		"key in title case":         edit(t, good, `"profile":`, `"Profile":`),
		"nested key in other case":  edit(t, good, `"cert_version":`, `"Cert_Version":`),
		"plain_proof twice":         edit(t, good, `{"plain_proof":`, `{"plain_proof":"AA==","plain_proof":`),
		"cert_version twice":        edit(t, good, `"cert_version":3`, `"cert_version":3,"cert_version":3`),
		"meta key twice":            edit(t, good, `"role":"forward"`, `"role":"forward","role":"grad-A"`),
		"unknown top-level key":     edit(t, good, `,"profile":`, `,"extra":1,"profile":`),
		"unknown mining_job key":    edit(t, good, `"cert_version":3`, `"cert_version":3,"height":1`),
		"missing profile":           edit(t, good, `,"profile":"local"`, ``),
		"missing target":            edit(t, good, `"target":`+target+`,`, ``),
		"newline in plain_proof":    edit(t, good, plain, plain[:20]+`\n`+plain[20:]),
		"CRLF in plain_proof":       edit(t, good, plain, plain[:20]+`\r\n`+plain[20:]),
		"space in plain_proof":      edit(t, good, plain, plain[:20]+` `+plain[20:]),
		"newline in header":         edit(t, good, header, header[:10]+`\n`+header[10:]),
		"stray bits in header":      edit(t, good, header, strayHeader),
		"header without padding":    edit(t, good, header, strings.TrimSuffix(header, `=="`)+`"`),
		"URL-safe base64":           edit(t, good, plain, urlSafe),
		"plain_proof not a string":  edit(t, good, plain, `null`),
		"target with leading zero":  edit(t, good, `"target":`+target, `"target":0`+target),
		"target as a string":        edit(t, good, `"target":`+target, `"target":"`+target+`"`),
		"target negative":           edit(t, good, `"target":`+target, `"target":-`+target),
		"target with a fraction":    edit(t, good, `"target":`+target, `"target":`+target+`.0`),
		"target with an exponent":   edit(t, good, `"target":`+target, `"target":`+target[:10]+`e`+fmt.Sprint(len(target)-10)),
		"target of 79 digits":       edit(t, good, `"target":`+target, `"target":1`+strings.Repeat("0", 78)),
		"cert_version 3.0":          edit(t, good, `"cert_version":3`, `"cert_version":3.0`),
		"cert_version over 32 bits": edit(t, good, `"cert_version":3`, `"cert_version":4294967299`),
		"ancestor headers":          edit(t, good, `"ancestor_headers":[]`, `"ancestor_headers":["AA=="]`),
		"profile not a string":      edit(t, good, `"profile":"local"`, `"profile":1`),
		"meta not an object":        good[:strings.Index(good, `,"meta":`)] + `,"meta":[1]}`,
		"meta null":                 good[:strings.Index(good, `,"meta":`)] + `,"meta":null}`,
		"invalid UTF-8 in meta":     edit(t, good, `"forward"`, "\"for\xffward\""),
		"invalid UTF-8 in a key":    edit(t, good, `"role"`, "\"r\xc3\""),
		"data after the object":     good + `{}`,
		"two objects":               good + "\n" + good,
		"a comment":                 good + " // proof",
		"an array":                  "[" + good + "]",
		"trailing comma":            strings.TrimSuffix(good, "}") + ",}",
		"NBSP before the object":    "\u00a0" + good,
		"BOM before the object":     "\ufeff" + good,
		"NUL after the object":      good + "\x00",
		"empty":                     ``,
		"null":                      `null`,
		"truncated":                 good[:len(good)/2],
		"nested deeper than 32":     edit(t, good, `"meta":{`, `"meta":{"deep":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`,`),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := ParseProof([]byte(in))
			assert.Nil(t, p)
			assert.Equal(t, ErrBadEncoding, CodeOf(err), "%v", err)
			if err != nil {
				assert.Less(t, len(err.Error()), 300, "errors quote a short prefix of the input")
			}
		})
	}

	// Rules of the job rather than of the encoding have their own codes.
	for name, tc := range map[string]struct {
		in   string
		want ErrorCode
	}{
		"target off by one":       {edit(t, good, `"target":`+target, `"target":`+plusOne(t, target)), ErrTarget},
		"target zero":             {edit(t, good, `"target":`+target, `"target":0`), ErrTarget},
		"cert_version 4":          {edit(t, good, `"cert_version":3`, `"cert_version":4`), ErrCertVersion},
		"cert_version 0":          {edit(t, good, `"cert_version":3`, `"cert_version":0`), ErrCertVersion},
		"profile mainnet":         {edit(t, good, `"profile":"local"`, `"profile":"mainnet"`), ErrProfile},
		"profile in another case": {edit(t, good, `"profile":"local"`, `"profile":"Local"`), ErrProfile},
	} {
		_, err := ParseProof([]byte(tc.in))
		assert.Equal(t, tc.want, CodeOf(err), "%s: %v", name, err)
	}
}

func plusOne(t *testing.T, decimal string) string {
	t.Helper()
	x, ok := new(big.Int).SetString(decimal, 10)
	require.True(t, ok)
	return x.Add(x, big.NewInt(1)).String()
}

// A target of millions of digits (big.Int's decimal parse is quadratic) is
// rejected by its length, before anything parses it, with a short message.
func TestParseProofHugeTarget(t *testing.T) {
	_, good := proofFile(t)
	target := field(t, field(t, good, "mining_job"), "target")
	huge := strings.Repeat("9", 7_950_000)
	in := []byte(edit(t, good, `"target":`+target, `"target":`+huge))
	require.Less(t, len(in), MaxProofFileSize)
	_, err := ParseProof(in)
	require.Equal(t, ErrBadEncoding, CodeOf(err), "%.300v", err)
	assert.Less(t, len(err.Error()), 300, "%.300v", err)
	assert.ErrorContains(t, err, "mining_job.target")

	// The same inside a meta number: meta keeps numbers as written.
	in = []byte(edit(t, good, `"step":12`, `"step":`+huge))
	p, err := ParseProof(in)
	require.NoError(t, err)
	assert.Len(t, p.Meta["step"], len(huge))

	// Over the size limit, the whole file is refused by its length.
	_, err = ParseProof(make([]byte, MaxProofFileSize+1))
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	assert.Less(t, len(err.Error()), 300)
}

// What MarshalJSON writes parses back to the same proof and the same bytes.
func TestProofJSONRoundTrip(t *testing.T) {
	proof, good := proofFile(t)
	for _, meta := range []map[string]any{
		nil,
		{},
		{"step": int64(-3), "lr": 0.001, "big": uint64(1) << 63, "ok": true, "none": nil},
		{"html": "<a href=\"x\">&</a>", "unicode": "π ≈ 3.14 \u2028", "nested": map[string]any{"list": []any{1, "two", 3.5}}},
		{"quotes": `"\`, "control": "\x01\t\n", "": "empty key"},
	} {
		p := *proof
		p.Meta = meta
		data, err := p.MarshalJSON()
		require.NoError(t, err)
		back, err := ParseProof(data)
		require.NoError(t, err, "%s", data)
		assert.Equal(t, p.Plain, back.Plain)
		assert.Equal(t, p.Job, back.Job)
		assert.Equal(t, p.Profile, back.Profile)
		assert.Len(t, back.Meta, len(meta))
		again, err := back.MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, string(data), string(again))
		if len(meta) == 0 {
			assert.NotContains(t, string(data), "meta")
		}
	}

	// UnmarshalJSON is ParseProof; on error the proof is left unchanged.
	var p Proof
	require.NoError(t, json.Unmarshal([]byte(good), &p))
	again, err := json.Marshal(&p)
	require.NoError(t, err)
	assert.Equal(t, good, string(again))
	before := p
	err = json.Unmarshal([]byte(edit(t, good, `"profile":"local"`, `"profile":"pearl","x":1`)), &p)
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	assert.Equal(t, before, p)
}

// A proof MarshalJSON cannot write is an error, never a panic, and never a
// file ParseProof would refuse.
func TestProofMarshalJSONErrors(t *testing.T) {
	proof, _ := proofFile(t)
	for name, tc := range map[string]struct {
		p    *Proof
		want ErrorCode
	}{
		"zero":            {&Proof{}, ErrBadInput},
		"no plain proof":  {&Proof{Job: proof.Job, Profile: Local}, ErrBadInput},
		"no profile":      {&Proof{Plain: proof.Plain, Job: proof.Job}, ErrProfile},
		"zero job":        {&Proof{Plain: proof.Plain, Profile: Local}, ErrTarget},
		"bad version":     {&Proof{Plain: proof.Plain, Job: Job{Header: proof.Job.Header, CertVersion: 9}, Profile: Local}, ErrCertVersion},
		"bad leaf":        {&Proof{Plain: &PlainProof{A: MatrixMerkleProof{Proof: MerkleProof{LeafData: [][]byte{{1}}}}}, Job: proof.Job, Profile: Local}, ErrBadEncoding},
		"meta too nested": {&Proof{Plain: proof.Plain, Job: proof.Job, Profile: Local, Meta: map[string]any{"x": nested(40)}}, ErrBadEncoding},
	} {
		require.NotPanics(t, func() {
			_, err := tc.p.MarshalJSON()
			assert.Equal(t, tc.want, CodeOf(err), "%s: %v", name, err)
			_, err = json.Marshal(tc.p)
			assert.Error(t, err, name)
		}, name)
	}
	_, err := (&Proof{Plain: proof.Plain, Job: proof.Job, Profile: Local, Meta: map[string]any{"c": make(chan int)}}).MarshalJSON()
	assert.Error(t, err)
	_, err = (&Proof{}).ID()
	assert.Equal(t, ErrBadInput, CodeOf(err))
}

func nested(depth int) any {
	var v any = "bottom"
	for range depth {
		v = []any{v}
	}
	return v
}

func TestJobJSON(t *testing.T) {
	job := DevJob(0x1d00ffff).J
	data, err := job.MarshalJSON()
	require.NoError(t, err)
	hb := job.Header.bytes()
	assert.Equal(t, `{"incomplete_header_bytes":"`+base64.StdEncoding.EncodeToString(hb[:])+
		`","target":26959535291011309493156476344723991336010898738574164086137773096960,"cert_version":3,"ancestor_headers":[]}`,
		string(data))
	var back Job
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, job, back)
	tgt, err := back.Target()
	require.NoError(t, err)
	assert.Equal(t, 0, CompactToBig(0x1d00ffff).Cmp(tgt))

	// Legacy versions are jobs too (a verifier may be asked to check them).
	job.CertVersion = CertV1
	data, err = job.MarshalJSON()
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, job, back)

	// On error the job is left unchanged.
	before := back
	for _, in := range []string{
		`{}`,
		strings.Replace(string(data), `"cert_version":1`, `"cert_version":7`, 1),
		strings.Replace(string(data), `"target":`, `"target":1`, 1),
		strings.Replace(string(data), `"ancestor_headers":[]`, `"ancestor_headers":[[]]`, 1),
		strings.Replace(string(data), `"ancestor_headers":[]`, `"ancestor_headers":null`, 1),
	} {
		assert.Error(t, back.UnmarshalJSON([]byte(in)), in)
		assert.Equal(t, before, back)
	}

	// A job that is not one cannot be written.
	_, err = Job{}.MarshalJSON()
	assert.Equal(t, ErrTarget, CodeOf(err))
	_, err = Job{Header: Header{Bits: 0x207fffff}, CertVersion: 4}.MarshalJSON()
	assert.Equal(t, ErrCertVersion, CodeOf(err))
}

func TestDevJob(t *testing.T) {
	j, err := DevJob(0x1e00ffff).CurrentJob()
	require.NoError(t, err)
	assert.Equal(t, uint32(0x1e00ffff), j.Header.Bits)
	assert.Equal(t, uint32(CertSalted), j.CertVersion)
	assert.Equal(t, uint32(1), j.Header.Version)
	assert.NotEqual(t, [32]byte{}, j.Header.PrevBlock)
	j2, _ := DevJob(0x1e00ffff).CurrentJob()
	assert.Equal(t, j, j2, "deterministic")
}

// What writer_test.go does not cover: the same proof twice is one file,
// and a proof that cannot be encoded is reported with its code.
func TestProofWriterSameProofAndBadProof(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proofs")
	var mu sync.Mutex
	var done []string
	var failed []error
	w, err := NewProofWriter(dir, func(p *Proof, path string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = append(failed, err)
			return
		}
		done = append(done, path)
	})
	require.NoError(t, err)
	assert.Equal(t, dir, w.Dir())
	a := validProof(t, Local, 8, 64, 8, 32, 2, 2)
	b := validProof(t, Local, 10, 64, 8, 32, 2, 2)
	w.OnProof(Found{Proof: a})
	require.NoError(t, w.Write(b))
	require.NoError(t, w.Write(&Proof{})) // no plain proof
	require.NoError(t, w.Write(a))        // the same proof, the same file
	err = w.Close()
	assert.ErrorContains(t, err, "1 proof(s) not written")
	assert.Equal(t, ErrBadInput, CodeOf(err))
	require.Len(t, failed, 1)
	assert.Equal(t, ErrBadInput, CodeOf(failed[0]))
	assert.Equal(t, done, w.Written())
	require.Len(t, done, 3)
	assert.Equal(t, done[0], done[2])
	for i, p := range []*Proof{a, b} {
		back, err := ReadProofFile(done[i])
		require.NoError(t, err)
		assert.Equal(t, p.Plain, back.Plain)
		_, err = back.Verify(VerifyOptions{})
		assert.NoError(t, err)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2)

	// A directory that cannot be created is an error.
	_, err = NewProofWriter(filepath.Join(done[0], "sub"), nil)
	assert.Error(t, err)
}

// Proof files of any byte content parse, or fail with a code; what parses
// writes back out as bytes that parse to the very same bytes again.
//
// Seeds are as small as a proof file gets, since the fuzzer's minimizer
// runs the target about len² times on every new input: the smallest plain
// proof that decodes (ParseProof does not verify; 177 bytes, 236 in
// base64) under a job whose target is 1 (one digit), without meta; and a
// file whose job, profile and meta parse (they are read before the plain
// proof) around an empty plain proof. What limits the rate is the
// minimizer on inputs of a few hundred bytes, and the fuzzer's own cost.
func FuzzParseProof(f *testing.F) {
	job := Job{Header: Header{Bits: 0x03000001}, CertVersion: CertSalted}
	proof := &Proof{Plain: &PlainProof{M: 2, N: 2, K: 32, NoiseRank: 32}, Job: job, Profile: Local}
	data, err := proof.MarshalJSON()
	require.NoError(f, err)
	data = bytes.Replace(data, []byte(`,"ancestor_headers":[]`), nil, 1) // optional
	_, err = ParseProof(data)
	require.NoError(f, err)
	f.Add(data)
	mj, err := job.MarshalJSON()
	require.NoError(f, err)
	f.Add([]byte(`{"plain_proof":"","mining_job":` + string(mj) + `,"profile":"pearl","meta":{"x":[1.5,null,true,"\u00e9"]}}`))
	f.Add([]byte(`{"a":[{"b":1e999}],"a":2}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParseProof(in)
		if err != nil {
			if CodeOf(err) == 0 {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		out, err := p.MarshalJSON()
		if err != nil {
			t.Fatalf("a parsed proof does not marshal: %v", err)
		}
		q, err := ParseProof(out)
		if err != nil {
			t.Fatalf("MarshalJSON wrote what ParseProof refuses: %v", err)
		}
		again, err := q.MarshalJSON()
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("not a fixed point: %v", err)
		}
	})
}

// What the project writes is in the strict form, whatever meta holds: a
// ProofWriter's file is the indented form of MarshalJSON's bytes, which
// ParseProof reads back to the same bytes. Meta that cannot be written
// strictly (two keys that are one once invalid UTF-8 is replaced) is an
// error, never a file.
func TestWrittenProofFilesAreStrict(t *testing.T) {
	proof, _ := proofFile(t)
	proof.Meta = map[string]any{
		"bad":         "a\xffb\xc3",
		"key\xfe":     1,
		"control":     "\x00\x1b[2J\r\n\u2028",
		"html":        "<script>&</script>",
		"PLAIN_PROOF": "meta keys are free-form",
		"plain_proof": "so is this one",
		"Role":        "case differs",
		"role":        "forward",
		"nested":      map[string]any{"a": []any{"x\xff", map[string]any{"b": nil}}},
	}
	dir := t.TempDir()
	w, err := NewProofWriter(dir, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(proof))
	require.NoError(t, w.Close())
	require.Len(t, w.Written(), 1)
	file, err := os.ReadFile(w.Written()[0])
	require.NoError(t, err)

	direct, err := proof.MarshalJSON()
	require.NoError(t, err)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, file))
	assert.Equal(t, string(direct), compact.String(), "the file is MarshalJSON's bytes, indented")
	back, err := ParseProof(file)
	require.NoError(t, err)
	// Invalid UTF-8 was written as \ufffd; read back, it is U+FFFD, which
	// is written as itself: from then on the bytes are a fixed point.
	again, err := back.MarshalJSON()
	require.NoError(t, err)
	third, err := ParseProof(again)
	require.NoError(t, err)
	fixed, err := third.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, string(again), string(fixed))
	assert.Equal(t, "a\ufffdb\ufffd", back.Meta["bad"])
	assert.Contains(t, back.Meta, "key\ufffd")
	assert.Equal(t, "\x00\x1b[2J\r\n\u2028", back.Meta["control"])

	proof.Meta = map[string]any{"a\xff": 1, "a\xfe": 2}
	_, err = proof.MarshalJSON()
	assert.Equal(t, ErrBadEncoding, CodeOf(err), "%v", err)
	assert.ErrorContains(t, err, "appears twice")
}
