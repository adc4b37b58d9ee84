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

// plainProofSeeds are the valid encodings committed as fuzz seeds, written
// compactly (see unpackProof): small shapes, and for the tile whose rows
// straddle chunks (several leaves, siblings), matrices of zeros, whose
// leaves write as nothing. The decoder does not look inside a leaf, so
// the fuzzer spends its time on structure rather than leaf bytes.
func plainProofSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	oneChunk, err := testPlainProof(t, 1, 4, 6, 7, 32, 2, 2).MarshalBinary()
	require.NoError(t, err)
	// A is 64×100 and Bᵀ 24×100: rows 9 to 12 of A straddle the first
	// chunk boundary, rows 20 and 21 of Bᵀ the second.
	key := testKey(1)
	pa, err := openRows(key, make([]byte, 64*100), 100, []uint64{9, 10, 11, 12})
	require.NoError(t, err)
	pb, err := openRows(key, make([]byte, 24*100), 100, []uint64{20, 21})
	require.NoError(t, err)
	straddle, err := (&PlainProof{M: 64, N: 24, K: 100, NoiseRank: 32, A: pa, BT: pb}).MarshalBinary()
	require.NoError(t, err)
	return map[string][]byte{
		"valid-one-chunk": packProof(t, oneChunk),
		"valid-straddle":  packProof(t, straddle),
	}
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
// every seed unpacks to a valid encoding that round-trips, and is small.
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
		require.Less(t, len(got), 512, "%s: keep seeds small", name)
		raw := unpackProof(got)
		p, err := DecodePlainProof(raw)
		require.NoError(t, err, name)
		again, err := p.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, raw, again, name)
	}
}

// FuzzDecodePlainProof: decoding never panics, and whatever decodes is
// canonical, re-encoding to the very same bytes (so a proof has one encoding).
// The input is an encoding written compactly (see unpackProof), or, where it
// does not have that layout, the encoding itself: the allocation bombs below
// are raw encodings. Decoding is cheap; the rate is the fuzzer's own.
func FuzzDecodePlainProof(f *testing.F) {
	f.Add([]byte{})
	empty, err := (&PlainProof{}).MarshalBinary() // two empty matrix proofs
	require.NoError(f, err)
	f.Add(packProof(f, empty))
	for _, b := range hugeCountInputs(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = unpackProof(b)
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
//
// The data is pattern repeated to size bytes (zeros for an empty pattern),
// so that trees of up to 64 chunks come from inputs of a few bytes: a
// []byte of kilobytes would have the fuzzer minimize it for minutes (its
// minimizer runs the target about len² times). What limits the rate is
// hashing the data, up to 64 KiB a run.
func FuzzMerkleVerify(f *testing.F) {
	f.Add([]byte("short"), uint16(5), uint64(1), uint32(0), byte(0))
	f.Add([]byte{7}, uint16(5*chunkSize+3), uint64(0b10010), uint32(60), byte(1))
	f.Add([]byte{1, 2, 3}, uint16(9000), uint64(0b101), uint32(2200), byte(0x80))
	// Leaves 3 and 7 of 9 chunks, total_leaves (bytes 2128 to 2135) flipped
	// to 14: the same siblings, so the same root.
	f.Add([]byte("0"), uint16(8986), uint64(0b10001000), uint32(2128), byte(7))
	f.Fuzz(func(t *testing.T, pattern []byte, size uint16, sel uint64, pos uint32, flip byte) {
		if size == 0 || len(pattern) > int(size) {
			return
		}
		data := make([]byte, size)
		if len(pattern) > 0 {
			for i := 0; i < len(data); i += len(pattern) {
				copy(data[i:], pattern)
			}
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
		// The tree size may differ: a proof does not bind it where the
		// openings take the same siblings in both trees (leaves 3 and 7 of
		// 9 chunks or of 14), and verifyRows checks it against the size of
		// the matrix (ErrTreeSize). The root and the data it opens may not.
		got := &q.A.Proof
		if got.Root != proof.Root {
			t.Fatalf("verified under a different root")
		}
		padded := pad1024(data)
		for i, l := range got.LeafIndices {
			if l >= n {
				t.Fatalf("verified chunk %d of a %d-chunk tree", l, n)
			}
			if !bytes.Equal(got.LeafData[i], padded[l*chunkSize:(l+1)*chunkSize]) {
				t.Fatalf("verified a false chunk %d", l)
			}
		}
	})
}
