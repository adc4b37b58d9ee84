package pouw

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// protocolSeeds are the committed seed corpora of the fuzz targets below,
// one valid input each (plus what f.Add supplies).
func protocolSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	c16, err := Contiguous(16)
	require.NoError(t, err)
	strided, err := FromList([]uint32{0, 1, 8, 9, 32, 33, 40, 41})
	require.NoError(t, err)
	cfg := Config{K: 4096, Rank: 256, Rows: c16, Cols: strided}.Bytes()
	proof := validProof(t, Local, 8, 1024, 6, 32, 2, 2)
	raw, err := proof.Plain.MarshalBinary()
	require.NoError(t, err)
	enc := strided.Encode()
	return map[string][]byte{
		"FuzzDecodePattern/valid-strided": enc[:],
		"FuzzDecodeConfig/valid":          cfg[:],
		"FuzzVerify/valid":                raw,
	}
}

// TestProtocolFuzzSeeds keeps the committed corpora in step with the code;
// -pouw.write-seeds rewrites them.
func TestProtocolFuzzSeeds(t *testing.T) {
	for name, want := range protocolSeeds(t) {
		path := filepath.Join("testdata/fuzz", name)
		if *writeFuzzSeeds {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", want)
			require.NoError(t, os.WriteFile(path, []byte(file), 0o644))
		}
		require.Equal(t, want, readCorpusBytes(t, path), "%s is stale: rerun with -pouw.write-seeds", name)
	}
}

// FuzzDecodePattern: no panic; what decodes is canonical and re-encodes to
// the same bytes.
func FuzzDecodePattern(f *testing.F) {
	for _, b := range [][]byte{{0, 15, 0, 0, 0, 0}, {7, 1, 0, 0, 0, 0}, {0, 1, 3, 31, 0, 0}, {255, 255, 255, 255, 255, 255}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePattern(b)
		if err != nil {
			if CodeOf(err) != ErrBadEncoding {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		if enc := p.Encode(); !bytes.Equal(enc[:], b) {
			t.Fatalf("%x re-encodes as %x", b, enc)
		}
		if p.Len() <= 1<<12 {
			canon, err := FromList(p.Indices())
			if err != nil || canon != p {
				t.Fatalf("%x is not the canonical form of its indices: %v", b, err)
			}
		}
	})
}

// FuzzDecodeConfig: no panic; what decodes re-encodes to the same bytes.
func FuzzDecodeConfig(f *testing.F) {
	f.Add(make([]byte, ConfigSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeConfig(b)
		if err != nil {
			if CodeOf(err) != ErrBadEncoding {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		if enc := c.Bytes(); !bytes.Equal(enc[:], b) {
			t.Fatalf("%x re-encodes as %x", b, enc)
		}
	})
}

// FuzzVerify: whatever bytes arrive, decoding and verifying never panic and
// every rejection carries a code. The job is the one the seed was mined
// under, so mutations of a valid proof explore deep into verification.
func FuzzVerify(f *testing.F) {
	proof := validProof(f, Local, 8, 1024, 6, 32, 2, 2)
	raw, err := proof.Plain.MarshalBinary()
	require.NoError(f, err)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		pp, err := DecodePlainProof(b)
		if err != nil {
			return
		}
		for _, profile := range []Profile{Local, Pearl} {
			v, err := Verify(proof.Job, profile, pp, VerifyOptions{})
			if err != nil && CodeOf(err) == 0 {
				t.Fatalf("uncoded error: %v", err)
			}
			if err == nil && !v.Win {
				t.Fatal("accepted without a win")
			}
		}
	})
}
