package pouw

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	cfg, err := Config{K: 4096, Rank: 256, Rows: c16, Cols: strided}.MarshalBinary()
	require.NoError(t, err)
	proof := smallProof(t)
	raw, err := proof.Plain.MarshalBinary()
	require.NoError(t, err)
	// The FuzzVerify seed, leaves written short, unpacks to the proof.
	packed := packLeaves(t, raw)
	require.Equal(t, raw, unpackLeaves(packed))
	pp, err := DecodePlainProof(unpackLeaves(packed))
	require.NoError(t, err)
	_, err = Verify(proof.Job, Local, pp, VerifyOptions{})
	require.NoError(t, err)
	pat, err := strided.MarshalBinary()
	require.NoError(t, err)
	return map[string][]byte{
		"FuzzDecodePattern/valid-strided": pat,
		"FuzzDecodeConfig/valid":          cfg,
		"FuzzVerify/valid":                packed,
	}
}

// TestProtocolFuzzSeeds keeps the committed corpora in step with the code;
// -pouw.write-seeds rewrites them. Seeds are kept small, so that a fuzzer
// mutates and minimizes structure from its first second.
func TestProtocolFuzzSeeds(t *testing.T) {
	for name, want := range protocolSeeds(t) {
		path := filepath.Join("testdata/fuzz", name)
		if *writeFuzzSeeds {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			file := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", want)
			require.NoError(t, os.WriteFile(path, []byte(file), 0o644))
		}
		require.Equal(t, want, readCorpusBytes(t, path), "%s is stale: rerun with -pouw.write-seeds", name)
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Less(t, info.Size(), int64(2<<10), "%s: keep seeds small", name)
	}
}

// FuzzDecodePattern: no panic; what decodes is canonical and re-encodes to
// the same bytes.
func FuzzDecodePattern(f *testing.F) {
	for _, b := range [][]byte{{0, 15, 0, 0, 0, 0}, {7, 1, 0, 0, 0, 0}, {0, 1, 3, 31, 0, 0}, {255, 255, 255, 255, 255, 255}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Pattern
		if err := p.UnmarshalBinary(b); err != nil {
			if CodeOf(err) != ErrBadEncoding {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		enc, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("%x re-encodes as %x (%v)", b, enc, err)
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
		var c Config
		if err := c.UnmarshalBinary(b); err != nil {
			if CodeOf(err) != ErrBadEncoding {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		enc, err := c.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("%x re-encodes as %x (%v)", b, enc, err)
		}
	})
}

// FuzzVerify: whatever bytes arrive, decoding and verifying never panic and
// every rejection carries a code. The job is the one the seed was mined
// under, so mutations of a valid proof explore deep into verification.
//
// The input is a plain proof whose leaves may be written short (see
// unpackLeaves): every real leaf is 1024 bytes, most of them zero padding
// in a small proof, and a seed of kilobytes would have the fuzzer spend its
// first minutes minimizing leaf bytes rather than fuzzing.
func FuzzVerify(f *testing.F) {
	proof := smallProof(f)
	raw, err := proof.Plain.MarshalBinary()
	require.NoError(f, err)
	f.Add(packLeaves(f, raw))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = unpackLeaves(b)
		pp, err := DecodePlainProof(b)
		if err != nil {
			return
		}
		for _, profile := range []Profile{Local, Pearl} {
			for _, opts := range []VerifyOptions{{}, {NbitsOverride: 0x207fffff}} {
				v, err := Verify(proof.Job, profile, pp, opts)
				if err != nil && CodeOf(err) == 0 {
					t.Fatalf("uncoded error: %v", err)
				}
				if err == nil && !v.Win {
					t.Fatal("accepted without a win")
				}
				if err == nil && !bytes.Equal(b, raw) && pp.A.Proof.Root == proof.Plain.A.Proof.Root &&
					pp.BT.Proof.Root == proof.Plain.BT.Proof.Root && pp.M == proof.Plain.M && pp.N == proof.Plain.N &&
					pp.K == proof.Plain.K && pp.NoiseRank == proof.Plain.NoiseRank &&
					slices.Equal(pp.A.RowIndices, proof.Plain.A.RowIndices) && slices.Equal(pp.BT.RowIndices, proof.Plain.BT.RowIndices) {
					t.Fatal("another encoding of the seed's tile verifies")
				}
			}
		}
	})
}

// unpackLeaves expands the leaves of a plain-proof encoding written short: a
// leaf of length L ≤ 1024 stands for its L bytes followed by 1024 − L zero
// bytes, as a leaf of length 1024. Everything else is copied; input without
// the layout (truncated, a count or a leaf too long) comes back unchanged,
// for the decoder to reject. A full-length encoding is its own unpacking.
func unpackLeaves(b []byte) []byte {
	out, ok := mapLeaves(b, func(leaf []byte) []byte {
		return append(leaf[:len(leaf):len(leaf)], make([]byte, chunkSize-len(leaf))...)
	})
	if !ok {
		return b
	}
	return out
}

// packLeaves writes the leaves of a valid plain-proof encoding short,
// without their trailing zero bytes: the inverse of unpackLeaves.
func packLeaves(t testing.TB, b []byte) []byte {
	t.Helper()
	out, ok := mapLeaves(b, func(leaf []byte) []byte { return bytes.TrimRight(leaf, "\x00") })
	require.True(t, ok)
	require.Equal(t, b, unpackLeaves(out))
	return out
}

// mapLeaves copies a plain-proof encoding (§8.1) with every leaf (u64 length
// L ≤ 1024, then L bytes) replaced by f(leaf). ok is false where b does not
// have the layout.
func mapLeaves(b []byte, f func(leaf []byte) []byte) (out []byte, ok bool) {
	if len(b) > 1<<20 {
		return nil, false
	}
	off := 0
	u64 := func() (uint64, bool) {
		if len(b)-off < 8 {
			return 0, false
		}
		off += 8
		return binary.LittleEndian.Uint64(b[off-8:]), true
	}
	take := func(n uint64) bool { // n bytes copied verbatim
		if n > uint64(len(b)-off) {
			return false
		}
		out = append(out, b[off:off+int(n)]...)
		off += int(n)
		return true
	}
	vec := func(item uint64) bool { // a count, then count items copied verbatim
		n, ok := u64()
		out = binary.LittleEndian.AppendUint64(out, n)
		return ok && n <= uint64(len(b)-off)/item && take(n*item)
	}
	if !take(32) { // m, n, k, noise_rank
		return nil, false
	}
	for range 2 { // a, bt
		n, ok := u64()
		if !ok || n > uint64(len(b)-off)/8 {
			return nil, false
		}
		out = binary.LittleEndian.AppendUint64(out, n)
		for range n {
			l, ok := u64()
			if !ok || l > chunkSize || l > uint64(len(b)-off) {
				return nil, false
			}
			leaf := f(b[off : off+int(l)])
			out = binary.LittleEndian.AppendUint64(out, uint64(len(leaf)))
			out = append(out, leaf...)
			off += int(l)
		}
		// leaf_indices, total_leaves and root, siblings, row_indices
		if !vec(8) || !take(8+32) || !vec(32) || !vec(8) {
			return nil, false
		}
	}
	return append(out, b[off:]...), true // the MoE tag, and whatever follows
}
