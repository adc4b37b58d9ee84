package pouw

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeFuzzSeeds regenerates the committed seed corpus of
// FuzzDecodePlainProof: go test ./pouw -run TestPlainProofFuzzSeeds -pouw.write-seeds
var writeFuzzSeeds = flag.Bool("pouw.write-seeds", false,
	"rewrite the committed fuzz seed corpora under testdata/fuzz")

const plainProofSeedDir = "testdata/fuzz/FuzzDecodePlainProof"

// plainProofSeeds are the valid encodings committed as fuzz seeds: small
// shapes, so the fuzzer spends its time on structure rather than leaf bytes.
func plainProofSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, s := range map[string]struct{ m, n, k, r, h, w int }{
		"valid-one-chunk": {4, 6, 7, 32, 2, 2},
		"valid-straddle":  {64, 24, 100, 32, 4, 2},
	} {
		b, err := testPlainProof(t, 1, s.m, s.n, s.k, s.r, s.h, s.w).MarshalBinary()
		require.NoError(t, err)
		out[name] = b
	}
	return out
}

// readCorpusBytes parses a one-value "go test fuzz v1" file holding a []byte.
func readCorpusBytes(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	require.Len(t, lines, 2, path)
	require.Equal(t, "go test fuzz v1", string(lines[0]), path)
	lit, ok := bytes.CutPrefix(lines[1], []byte("[]byte("))
	require.True(t, ok, path)
	lit, ok = bytes.CutSuffix(lit, []byte(")"))
	require.True(t, ok, path)
	s, err := strconv.Unquote(string(lit))
	require.NoError(t, err, path)
	return []byte(s)
}

// TestPlainProofFuzzSeeds keeps the committed corpus in step with the codec:
// every seed is a valid encoding that round-trips.
func TestPlainProofFuzzSeeds(t *testing.T) {
	seeds := plainProofSeeds(t)
	if *writeFuzzSeeds {
		require.NoError(t, os.MkdirAll(plainProofSeedDir, 0o755))
		for name, b := range seeds {
			file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			require.NoError(t, os.WriteFile(filepath.Join(plainProofSeedDir, name), []byte(file), 0o644))
		}
	}
	for name, want := range seeds {
		got := readCorpusBytes(t, filepath.Join(plainProofSeedDir, name))
		require.Equal(t, want, got, "%s is stale: rerun with -pouw.write-seeds", name)
		p, err := DecodePlainProof(got)
		require.NoError(t, err, name)
		again, err := p.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, got, again, name)
	}
}

// FuzzDecodePlainProof: decoding never panics, and whatever decodes is
// canonical, re-encoding to the very same bytes (so a proof has one encoding).
func FuzzDecodePlainProof(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 32+2*72+1)) // two empty matrix proofs
	for _, b := range hugeCountInputs(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePlainProof(b)
		if err != nil {
			if CodeOf(err) != ErrBadEncoding {
				t.Fatalf("error without ErrBadEncoding: %v", err)
			}
			return
		}
		again, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded proof does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs from the input")
		}
	})
}

// FuzzMerkleVerify opens some chunks of data, corrupts one byte of the
// encoded proof and verifies: it must never panic, an untouched proof must
// verify, and anything that verifies must open the true chunks of data under
// the true root (the corruption hit a field the Merkle proof does not cover).
func FuzzMerkleVerify(f *testing.F) {
	f.Add([]byte("short"), uint64(1), uint32(0), byte(0))
	f.Add(bytes.Repeat([]byte{7}, 5*chunkSize+3), uint64(0b10010), uint32(60), byte(1))
	f.Add(bytes.Repeat([]byte{1, 2, 3}, 3000), uint64(0b101), uint32(2200), byte(0x80))
	f.Fuzz(func(t *testing.T, data []byte, sel uint64, pos uint32, flip byte) {
		if len(data) == 0 || len(data) > 64*chunkSize {
			return
		}
		key := testKey(42)
		n := numChunks(len(data))
		var leaves []uint64
		for i := range n {
			if sel>>(i%64)&1 != 0 {
				leaves = append(leaves, i)
			}
		}
		if len(leaves) == 0 {
			leaves = []uint64{sel % n}
		}
		proof, err := buildMerkleProof(key, data, leaves)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := (&PlainProof{A: MatrixMerkleProof{Proof: proof}}).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		enc[int(pos)%len(enc)] ^= flip
		q, err := DecodePlainProof(enc)
		if err != nil {
			return
		}
		err = q.A.Proof.Verify(key)
		if flip == 0 && err != nil {
			t.Fatalf("genuine proof rejected: %v", err)
		}
		if err != nil {
			if c := CodeOf(err); c != ErrBadMerkleProof && c != ErrBadEncoding {
				t.Fatalf("unexpected error code: %v", err)
			}
			return
		}
		got := &q.A.Proof
		if got.Root != proof.Root || got.TotalLeaves != n {
			t.Fatalf("verified under a different root or tree size")
		}
		padded := pad1024(data)
		for i, l := range got.LeafIndices {
			if !bytes.Equal(got.LeafData[i], padded[l*chunkSize:(l+1)*chunkSize]) {
				t.Fatalf("verified a false chunk %d", l)
			}
		}
	})
}
