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
	// The FuzzVerify seed, written compactly, unpacks to the proof.
	packed := packProof(t, raw)
	pp, err := DecodePlainProof(unpackProof(packed))
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
// The input is a plain proof written compactly (see unpackProof): the seed,
// the smallest valid proof there is (one 2×2 tile, k = r = 32), is 215 bytes
// where its encoding is 2289. What limits the rate is the fuzzer's own
// cost per run (a few µs here) and its minimizer, which runs the target
// about len² times on every new input: about a second for a seed-sized
// input, a minute (the default -fuzzminimizetime) for one of kilobytes.
func FuzzVerify(f *testing.F) {
	proof := smallProof(f)
	raw, err := proof.Plain.MarshalBinary()
	require.NoError(f, err)
	f.Add(packProof(f, raw))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = unpackProof(b)
		pp, err := DecodePlainProof(b)
		if err != nil {
			return
		}
		for _, profile := range []Profile{Local, Pearl} {
			// At the easiest target first: what fails there fails at the
			// job's own target too (only the bound differs), so the second
			// run is only for what passes.
			var vs [2]*Verification
			var errs [2]error
			for i, opts := range []VerifyOptions{{NbitsOverride: 0x207fffff}, {}} {
				v, err := Verify(proof.Job, profile, pp, opts)
				vs[i], errs[i] = v, err
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
				if err != nil {
					break
				}
			}
			if errs[0] == nil && errs[1] != nil && CodeOf(errs[1]) != ErrHighHash {
				t.Fatalf("passes at the easiest target, fails at the job's with %v", errs[1])
			}
			if errs[0] == nil && vs[0].Ticket != vs[1].Ticket {
				t.Fatal("the ticket depends on the target")
			}
		}
	})
}

// Fuzz inputs that stand for a plain proof's encoding (§8.1) are written
// compactly, so that seeds are small and the fuzzer mutates structure, not
// padding: every u64 of the layout (m, n, k, noise_rank, the counts, the
// leaf lengths, the leaf and row indices, total_leaves) as a uvarint, and
// every leaf without its trailing zero bytes (a leaf of L ≤ 1024 bytes
// stands for those L bytes padded with zeros to 1024, as every real leaf
// is). Roots, siblings, the MoE tag and whatever follows are copied.

// unpackProof expands a compact input into the encoding it stands for. An
// input without the compact layout (truncated, a count or a leaf too long,
// or expanding past 4 MiB) comes back unchanged, for the decoder to reject.
func unpackProof(b []byte) []byte {
	out, ok := transcodeProof(b, true, func(leaf []byte) []byte {
		return append(leaf[:len(leaf):len(leaf)], make([]byte, chunkSize-len(leaf))...)
	})
	if !ok {
		return b
	}
	return out
}

// packProof writes a valid encoding compactly: the inverse of unpackProof.
func packProof(t testing.TB, raw []byte) []byte {
	t.Helper()
	out, ok := transcodeProof(raw, false, func(leaf []byte) []byte { return bytes.TrimRight(leaf, "\x00") })
	require.True(t, ok)
	require.Equal(t, raw, unpackProof(out))
	return out
}

// transcodeProof copies a plain-proof layout from b, reading its u64s as
// uvarints and writing them as 8 bytes little-endian (compact, unpacking),
// or the other way round (packing), with every leaf replaced by leaf(it).
// ok is false where b does not have the layout.
func transcodeProof(b []byte, compact bool, leaf func([]byte) []byte) (out []byte, ok bool) {
	const maxOut = 4 << 20
	off := 0
	u64 := func() (uint64, bool) {
		if compact {
			v, n := binary.Uvarint(b[off:])
			if n <= 0 {
				return 0, false
			}
			off += n
			return v, true
		}
		if len(b)-off < 8 {
			return 0, false
		}
		off += 8
		return binary.LittleEndian.Uint64(b[off-8:]), true
	}
	put := func(v uint64) {
		if compact {
			out = binary.LittleEndian.AppendUint64(out, v)
		} else {
			out = binary.AppendUvarint(out, v)
		}
	}
	ints := func(n uint64) bool { // n u64s
		for range n {
			v, ok := u64()
			if !ok {
				return false
			}
			put(v)
		}
		return true
	}
	take := func(n uint64) bool { // n bytes copied verbatim
		if n > uint64(len(b)-off) {
			return false
		}
		out = append(out, b[off:off+int(n)]...)
		off += int(n)
		return true
	}
	count := func(item uint64) (uint64, bool) { // a count of items of at least item bytes each
		n, ok := u64()
		if !ok || n > uint64(len(b)-off)/item {
			return 0, false
		}
		put(n)
		return n, true
	}
	if !ints(4) { // m, n, k, noise_rank
		return nil, false
	}
	for range 2 { // a, bt
		n, ok := count(1)
		if !ok {
			return nil, false
		}
		for range n {
			l, ok := u64()
			if !ok || l > chunkSize || l > uint64(len(b)-off) {
				return nil, false
			}
			lf := leaf(b[off : off+int(l)])
			off += int(l)
			put(uint64(len(lf)))
			out = append(out, lf...)
			if len(out) > maxOut {
				return nil, false
			}
		}
		if n, ok := count(1); !ok || !ints(n) { // leaf_indices
			return nil, false
		}
		if !ints(1) || !take(32) { // total_leaves, root
			return nil, false
		}
		if n, ok := count(32); !ok || !take(32*n) { // siblings
			return nil, false
		}
		if n, ok := count(1); !ok || !ints(n) { // row_indices
			return nil, false
		}
	}
	return append(out, b[off:]...), true // the MoE tag, and whatever follows
}
