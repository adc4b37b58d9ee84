package pouw

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	_ encoding.BinaryMarshaler   = (*PlainProof)(nil)
	_ encoding.BinaryUnmarshaler = (*PlainProof)(nil)
)

// testPlainProof builds a realistic proof: random int8 matrices A (m×k) and
// Bᵀ (n×k), a contiguous tile of h rows and w columns.
func testPlainProof(t testing.TB, seed uint64, m, n, k, r, h, w int) *PlainProof {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	key := testKey(byte(seed))
	a := randomMatrix(rng, m, k)
	bt := randomMatrix(rng, n, k)
	tile := func(total, size int) []uint64 {
		start := rng.IntN(total - size + 1)
		out := make([]uint64, size)
		for i := range out {
			out[i] = uint64(start + i)
		}
		return out
	}
	pa, err := openRows(key, a, k, tile(m, h))
	require.NoError(t, err)
	pb, err := openRows(key, bt, k, tile(n, w))
	require.NoError(t, err)
	return &PlainProof{M: uint64(m), N: uint64(n), K: uint64(k), NoiseRank: uint64(r), A: pa, BT: pb}
}

// specEncode writes the layout of PROTOCOL.md §8 field by field, independently
// of MarshalBinary.
func specEncode(p *PlainProof) []byte {
	var buf bytes.Buffer
	le := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	le([]uint64{p.M, p.N, p.K, p.NoiseRank})
	for _, mp := range []*MatrixMerkleProof{&p.A, &p.BT} {
		le(uint64(len(mp.Proof.LeafData)))
		for _, l := range mp.Proof.LeafData {
			le(uint64(len(l)))
			buf.Write(l)
		}
		le(uint64(len(mp.Proof.LeafIndices)))
		le(mp.Proof.LeafIndices)
		le(mp.Proof.TotalLeaves)
		buf.Write(mp.Proof.Root[:])
		le(uint64(len(mp.Proof.Siblings)))
		for _, s := range mp.Proof.Siblings {
			buf.Write(s[:])
		}
		le(uint64(len(mp.RowIndices)))
		le(mp.RowIndices)
	}
	buf.WriteByte(0)
	return buf.Bytes()
}

var plainProofShapes = []struct {
	m, n, k, r, h, w int
}{
	{4, 6, 7, 32, 2, 2},          // one chunk per matrix, no siblings
	{64, 48, 100, 32, 4, 2},      // rows straddle chunks
	{40, 40, 1024, 32, 2, 4},     // a row is a chunk
	{33, 20, 1500, 64, 8, 2},     // rows span 2-3 chunks
	{128, 96, 3000, 128, 16, 16}, // a Pearl-sized tile
}

func TestPlainProofRoundTrip(t *testing.T) {
	for i, s := range plainProofShapes {
		p := testPlainProof(t, uint64(i+1), s.m, s.n, s.k, s.r, s.h, s.w)
		b, err := p.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, specEncode(p), b, "shape %+v", s)

		q, err := DecodePlainProof(b)
		require.NoError(t, err)
		require.Equal(t, p, q)
		b2, err := q.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, b2)

		var u PlainProof
		require.NoError(t, u.UnmarshalBinary(b))
		require.Equal(t, *p, u)

		// The decoded openings still verify.
		key := testKey(byte(i + 1))
		_, err = q.A.verifyRows(key, q.M, q.K)
		require.NoError(t, err)
		_, err = q.BT.verifyRows(key, q.N, q.K)
		require.NoError(t, err)
	}
}

func TestPlainProofLayout(t *testing.T) {
	p := &PlainProof{M: 1, N: 2, K: 3, NoiseRank: 32,
		A: MatrixMerkleProof{Proof: MerkleProof{
			LeafData: [][]byte{bytes.Repeat([]byte{0xAB}, chunkSize)}, LeafIndices: []uint64{5},
			TotalLeaves: 9, Root: [32]byte{0: 0xEE, 31: 0xFF}, Siblings: [][32]byte{{0: 0x11}},
		}, RowIndices: []uint64{7}},
	}
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	assert.Equal(t, []uint64{1, 2, 3, 32}, []uint64{u64(0), u64(8), u64(16), u64(24)})
	assert.EqualValues(t, 1, u64(32))         // leaf_data count
	assert.EqualValues(t, chunkSize, u64(40)) // leaf length
	assert.Equal(t, byte(0xAB), b[48])
	off := 48 + chunkSize
	assert.EqualValues(t, 1, u64(off))   // leaf_indices count
	assert.EqualValues(t, 5, u64(off+8)) // leaf index
	assert.EqualValues(t, 9, u64(off+16))
	assert.Equal(t, byte(0xEE), b[off+24])
	assert.Equal(t, byte(0xFF), b[off+55])
	assert.EqualValues(t, 1, u64(off+56)) // siblings count
	assert.Equal(t, byte(0x11), b[off+64])
	assert.EqualValues(t, 1, u64(off+96)) // row_indices count
	assert.EqualValues(t, 7, u64(off+104))
	off += 112
	// bt: an empty MatrixMerkleProof is five zero counts/words plus the root.
	assert.Equal(t, make([]byte, 8+8+8+32+8+8), b[off:off+72])
	assert.Equal(t, []byte{0}, b[off+72:])
	assert.Len(t, b, off+73)

	q, err := DecodePlainProof(b)
	require.NoError(t, err)
	assert.Nil(t, q.BT.Proof.LeafData)
	assert.Nil(t, q.BT.RowIndices)
	assert.Equal(t, p, q)
}

func TestDecodePlainProofRejectsTruncationAndTrailing(t *testing.T) {
	p := testPlainProof(t, 7, 64, 48, 100, 32, 4, 2)
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	for n := range len(b) {
		_, err := DecodePlainProof(b[:n])
		require.Error(t, err, "prefix of %d bytes", n)
		require.Equal(t, ErrBadEncoding, CodeOf(err), "prefix of %d bytes: %v", n, err)
	}
	for _, extra := range [][]byte{{0}, {1}, make([]byte, 100)} {
		_, err = DecodePlainProof(append(bytes.Clone(b), extra...))
		require.Equal(t, ErrBadEncoding, CodeOf(err))
		require.ErrorContains(t, err, "trailing")
	}
}

func TestDecodePlainProofRejectsBadFields(t *testing.T) {
	p := testPlainProof(t, 8, 64, 48, 100, 32, 4, 2)
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	patch := func(off int, v uint64) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint64(c[off:], v)
		return c
	}
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"moe tag 1":           {append(bytes.Clone(b[:len(b)-1]), 1), "moe"},
		"leaf length 1023":    {patch(40, 1023), "leaf_data"},
		"leaf length 0":       {patch(40, 0), "leaf_data"},
		"leaf count +1":       {patch(32, uint64(len(p.A.Proof.LeafData))+1), "a.proof"},
		"leaf count huge":     {patch(32, 1<<60), "a.proof.leaf_data count"},
		"leaf count max":      {patch(32, ^uint64(0)), "a.proof.leaf_data count"},
		"over the size limit": {make([]byte, MaxPlainProofSize+1), "limit"},
	} {
		_, err := DecodePlainProof(tc.in)
		require.Error(t, err, name)
		assert.Equal(t, ErrBadEncoding, CodeOf(err), name)
		assert.ErrorContains(t, err, tc.want, name)
	}
}

func TestDecodePlainProofErrorNamesOffset(t *testing.T) {
	b := make([]byte, 40)
	binary.LittleEndian.PutUint64(b[32:], 3) // three leaves in 0 bytes
	_, err := DecodePlainProof(b)
	require.ErrorContains(t, err, "a.proof.leaf_data count at offset 32")
}

// hugeCountInputs are 128-byte PlainProof prefixes in which one Vec count of
// A (after a valid prefix) declares 2⁶⁰ items.
func hugeCountInputs(t testing.TB) map[string][]byte {
	t.Helper()
	empty := &PlainProof{M: 1, N: 1, K: 1, NoiseRank: 32}
	b, err := empty.MarshalBinary()
	require.NoError(t, err)
	// Offsets of the counts in an empty proof's A part.
	out := map[string][]byte{}
	for name, at := range map[string]int{
		"leaf_data": 32, "leaf_indices": 40, "siblings": 88, "row_indices": 96,
	} {
		c := make([]byte, 128)
		copy(c, b)
		binary.LittleEndian.PutUint64(c[at:], 1<<60)
		out[name] = c
	}
	return out
}

func TestDecodePlainProofHugeCountsDoNotAllocate(t *testing.T) {
	for name, in := range hugeCountInputs(t) {
		start := time.Now()
		_, err := DecodePlainProof(in)
		require.Equal(t, ErrBadEncoding, CodeOf(err), name)
		require.ErrorContains(t, err, name+" count", name)
		require.Less(t, time.Since(start), time.Second, name)
		// The struct, the error and its message: nothing proportional to 2⁶⁰.
		allocs := testing.AllocsPerRun(10, func() { _, _ = DecodePlainProof(in) })
		require.LessOrEqual(t, allocs, 20.0, name)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _ = DecodePlainProof(in)
		runtime.ReadMemStats(&after)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), name)
	}
}

func TestMarshalPlainProofRejectsBadLeaf(t *testing.T) {
	p := testPlainProof(t, 9, 4, 6, 7, 32, 2, 2)
	p.BT.Proof.LeafData[0] = p.BT.Proof.LeafData[0][:100]
	_, err := p.MarshalBinary()
	require.Equal(t, ErrBadEncoding, CodeOf(err))
	require.ErrorContains(t, err, "bt.proof.leaf_data[0]")
}

func TestUnmarshalBinaryLeavesProofOnError(t *testing.T) {
	p := testPlainProof(t, 10, 4, 6, 7, 32, 2, 2)
	before := *p
	require.Error(t, p.UnmarshalBinary([]byte{1, 2, 3}))
	require.Equal(t, before, *p)
}

func BenchmarkDecodePlainProof(b *testing.B) {
	p := testPlainProof(b, 11, 128, 96, 3000, 128, 16, 16)
	enc, err := p.MarshalBinary()
	require.NoError(b, err)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodePlainProof(enc); err != nil {
			b.Fatal(err)
		}
	}
}
