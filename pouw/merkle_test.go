package pouw

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"lukechampine.com/blake3"
	"lukechampine.com/blake3/guts"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// The reference tree below is written straight from PROTOCOL.md §8, one chunk
// and one level at a time, so that the fast builder (SIMD eigentrees, no
// padded copy) and the verifier are checked against the spec, not themselves.

func pad1024(data []byte) []byte {
	out := make([]byte, (len(data)+chunkSize-1)/chunkSize*chunkSize)
	copy(out, data)
	return out
}

// refLevels returns every level of the tree over pad1024(data), leaves first,
// stopping at the two children of the root (or the single leaf).
func refLevels(key *[32]byte, data []byte) [][][8]uint32 {
	kw := keyWords(key)
	padded := pad1024(data)
	var leaves [][8]uint32
	for i := 0; i < len(padded); i += chunkSize {
		n := guts.CompressChunk(padded[i:i+chunkSize], &kw, uint64(i/chunkSize), guts.FlagKeyedHash)
		leaves = append(leaves, guts.ChainingValue(n))
	}
	levels := [][][8]uint32{leaves}
	for cur := leaves; len(cur) > 2; {
		var next [][8]uint32
		for i := 0; i < len(cur); i += 2 {
			if i+1 == len(cur) {
				next = append(next, cur[i]) // odd last node promoted
			} else {
				next = append(next, guts.ChainingValue(guts.ParentNode(cur[i], cur[i+1], &kw, guts.FlagKeyedHash)))
			}
		}
		levels = append(levels, next)
		cur = next
	}
	return levels
}

func refRoot(key *[32]byte, data []byte) [32]byte {
	kw := keyWords(key)
	padded := pad1024(data)
	if len(padded) == chunkSize {
		n := guts.CompressChunk(padded, &kw, 0, guts.FlagKeyedHash)
		n.Flags |= guts.FlagRoot
		return wordsRoot(guts.CompressNode(n))
	}
	levels := refLevels(key, data)
	top := levels[len(levels)-1]
	n := guts.ParentNode(top[0], top[1], &kw, guts.FlagKeyedHash)
	n.Flags |= guts.FlagRoot
	return wordsRoot(guts.CompressNode(n))
}

func wordsRoot(w [16]uint32) [32]byte {
	b := guts.WordsToBytes(w)
	return [32]byte(b[:32])
}

// refSiblings follows the sibling order of PROTOCOL.md §8 literally.
func refSiblings(key *[32]byte, data []byte, leaves []uint64) [][32]byte {
	levels := refLevels(key, data)
	in := map[uint64]bool{}
	for _, l := range leaves {
		in[l] = true
	}
	var sibs [][32]byte
	size := uint64(len(levels[0]))
	for level := 0; size > 1; level++ {
		var cur []uint64
		for j := range in {
			cur = append(cur, j)
		}
		slices.Sort(cur)
		next := map[uint64]bool{}
		for _, j := range cur {
			if j%2 == 1 && !in[j-1] {
				sibs = append(sibs, cvBytes(levels[level][j-1]))
			} else if j%2 == 0 && !in[j+1] && j+1 < size {
				sibs = append(sibs, cvBytes(levels[level][j+1]))
			}
			next[j/2] = true
		}
		in = next
		size = (size + 1) / 2
	}
	return sibs
}

func testKey(seed byte) *[32]byte {
	var k [32]byte
	for i := range k {
		k[i] = seed + byte(i)*7
	}
	return &k
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func requireRuleErr(t *testing.T, err error, codes ...ErrorCode) {
	t.Helper()
	require.Error(t, err)
	var re RuleError
	require.ErrorAs(t, err, &re)
	if len(codes) > 0 {
		require.Contains(t, codes, re.Code, "error: %v", err)
	}
}

func TestCommitmentRootIsTreeRoot(t *testing.T) {
	key := testKey(1)
	rng := rand.New(rand.NewPCG(1, 1))
	var sizes []int
	for _, chunks := range []int{1, 2, 3, 4, 5, 7, 8, 10, 16, 17, 31, 32, 33, 48, 64, 100, 129, 300} {
		sizes = append(sizes, chunks*chunkSize)
	}
	sizes = append(sizes, 1, 63, 64, 65, 1023, 1025, 2047, 5000, 16*chunkSize+1, 40*chunkSize-3, 300*chunkSize+17)
	for _, size := range sizes {
		data := randBytes(rng, size)
		h := blake3.New(32, key[:])
		h.Write(pad1024(data))
		want := [32]byte(h.Sum(nil))

		assert.Equal(t, want, CommitmentRoot(key, data), "size %d", size)
		assert.Equal(t, want, refRoot(key, data), "size %d: reference tree", size)
		n := numChunks(size)
		for _, leaves := range [][]uint64{{0}, {n - 1}} {
			p, err := buildMerkleProof(key, data, leaves)
			require.NoError(t, err)
			assert.Equal(t, want, p.Root, "size %d leaves %v", size, leaves)
		}
	}
}

// Several inputs hashed in one pool get the roots they get alone, under
// every implementation of the 16-chunk groups: batches of groups mix inputs.
func TestCommitmentRootsTogether(t *testing.T) {
	impltest.Run(t, testCommitmentRootsTogether, "hash16")
}

func testCommitmentRootsTogether(t *testing.T) {
	key := testKey(3)
	rng := rand.New(rand.NewPCG(3, 3))
	datas := [][]byte{randBytes(rng, 100), randBytes(rng, 37*chunkSize+5), randBytes(rng, 16*chunkSize), nil, randBytes(rng, 1),
		randBytes(rng, 5*groupBytes+100), randBytes(rng, 9*groupBytes), randBytes(rng, 2*groupBytes), randBytes(rng, 17*groupBytes-1)}
	roots := make([][32]byte, len(datas))
	ptrs := make([]*[32]byte, len(datas))
	for i := range roots {
		ptrs[i] = &roots[i]
	}
	commitmentRoots(key, datas, ptrs)
	for i, d := range datas {
		h := blake3.New(32, key[:])
		h.Write(pad1024(d))
		assert.Equal(t, [32]byte(h.Sum(nil)), roots[i], "input %d", i)
	}
}

func TestCommitmentRootKeyMatters(t *testing.T) {
	data := []byte("abc")
	assert.NotEqual(t, CommitmentRoot(testKey(1), data), CommitmentRoot(testKey(2), data))
	// Padding is part of the commitment: "abc" and "abc\x00" pad alike.
	assert.Equal(t, CommitmentRoot(testKey(1), data), CommitmentRoot(testKey(1), append(data, 0)))
}

func checkAgainstReference(t *testing.T, key *[32]byte, data []byte, leaves []uint64) MerkleProof {
	t.Helper()
	p, err := buildMerkleProof(key, data, leaves)
	require.NoError(t, err)
	padded := pad1024(data)
	require.Equal(t, numChunks(len(data)), p.TotalLeaves)
	require.Equal(t, leaves, p.LeafIndices)
	for i, l := range leaves {
		require.Equal(t, padded[l*chunkSize:(l+1)*chunkSize], p.LeafData[i])
	}
	require.Equal(t, refRoot(key, data), p.Root)
	require.Equal(t, refSiblings(key, data, leaves), p.Siblings, "chunks %d leaves %v", p.TotalLeaves, leaves)
	require.NoError(t, p.Verify(key))
	return p
}

func TestBuildMerkleProofAllSubsets(t *testing.T) {
	key := testKey(3)
	rng := rand.New(rand.NewPCG(2, 2))
	for chunks := 1; chunks <= 9; chunks++ {
		data := randBytes(rng, chunks*chunkSize-rng.IntN(chunkSize))
		for mask := 1; mask < 1<<chunks; mask++ {
			var leaves []uint64
			for i := range chunks {
				if mask&(1<<i) != 0 {
					leaves = append(leaves, uint64(i))
				}
			}
			checkAgainstReference(t, key, data, leaves)
		}
	}
}

func TestBuildMerkleProofRandomSubsets(t *testing.T) {
	key := testKey(4)
	rng := rand.New(rand.NewPCG(3, 3))
	// Sizes past MaxSIMD·2 chunks exercise the library's multi-core eigentree.
	for _, chunks := range []int{11, 16, 17, 32, 33, 63, 64, 65, 100, 257, 600} {
		data := randBytes(rng, chunks*chunkSize-rng.IntN(2)*rng.IntN(chunkSize))
		for range 6 {
			leaves := randomSubset(rng, uint64(chunks), 1+rng.IntN(6))
			checkAgainstReference(t, key, data, leaves)
		}
	}
}

func randomSubset(rng *rand.Rand, n uint64, count int) []uint64 {
	set := map[uint64]bool{}
	for len(set) < min(count, int(n)) {
		set[rng.Uint64N(n)] = true
	}
	var out []uint64
	for l := range set {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

func TestBuildMerkleProofRejectsBadInput(t *testing.T) {
	key := testKey(5)
	data := make([]byte, 3*chunkSize)
	for _, leaves := range [][]uint64{nil, {3}, {1, 1}, {2, 1}} {
		_, err := buildMerkleProof(key, data, leaves)
		requireRuleErr(t, err, ErrBadInput)
	}
	_, err := buildMerkleProof(key, nil, []uint64{0})
	requireRuleErr(t, err, ErrBadInput)
}

func cloneProof(p MerkleProof) MerkleProof {
	q := p
	q.LeafData = make([][]byte, len(p.LeafData))
	for i, l := range p.LeafData {
		q.LeafData[i] = slices.Clone(l)
	}
	q.LeafIndices = slices.Clone(p.LeafIndices)
	q.Siblings = slices.Clone(p.Siblings)
	return q
}

func TestMerkleProofVerifyRejectsTampering(t *testing.T) {
	key := testKey(6)
	rng := rand.New(rand.NewPCG(4, 4))
	data := randBytes(rng, 37*chunkSize+100)
	good := checkAgainstReference(t, key, data, []uint64{0, 5, 6, 20, 37})
	require.NotEmpty(t, good.Siblings)

	mutate := func(name string, f func(p *MerkleProof), codes ...ErrorCode) {
		t.Helper()
		p := cloneProof(good)
		f(&p)
		err := p.Verify(key)
		require.Error(t, err, name)
		requireRuleErr(t, err, codes...)
	}
	bad := []ErrorCode{ErrBadMerkleProof}
	for i := range good.Siblings {
		for _, bit := range []int{0, 77, 255} {
			mutate("sibling bit", func(p *MerkleProof) { p.Siblings[i][bit/8] ^= 1 << (bit % 8) }, bad...)
		}
	}
	for i := range good.LeafData {
		for range 8 {
			at := rng.IntN(chunkSize)
			mutate("leaf byte", func(p *MerkleProof) { p.LeafData[i][at] ^= 0x40 }, bad...)
		}
		mutate("leaf index +1", func(p *MerkleProof) { p.LeafIndices[i]++ }, bad...)
		mutate("leaf index -1", func(p *MerkleProof) { p.LeafIndices[i]-- }, bad...)
		mutate("short leaf", func(p *MerkleProof) { p.LeafData[i] = p.LeafData[i][:chunkSize-1] }, ErrBadEncoding)
		mutate("long leaf", func(p *MerkleProof) { p.LeafData[i] = append(p.LeafData[i], 0) }, ErrBadEncoding)
		mutate("missing leaf", func(p *MerkleProof) {
			p.LeafData = slices.Delete(p.LeafData, i, i+1)
			p.LeafIndices = slices.Delete(p.LeafIndices, i, i+1)
		}, bad...)
	}
	for _, tl := range []uint64{0, good.TotalLeaves - 1, good.TotalLeaves + 1, 2 * good.TotalLeaves, math.MaxUint64} {
		mutate("total leaves", func(p *MerkleProof) { p.TotalLeaves = tl }, bad...)
	}
	for i := range good.Siblings {
		mutate("missing sibling", func(p *MerkleProof) { p.Siblings = slices.Delete(p.Siblings, i, i+1) }, bad...)
	}
	mutate("extra sibling", func(p *MerkleProof) { p.Siblings = append(p.Siblings, [32]byte{}) }, bad...)
	mutate("extra sibling first", func(p *MerkleProof) { p.Siblings = append([][32]byte{{}}, p.Siblings...) }, bad...)
	mutate("swapped siblings", func(p *MerkleProof) { p.Siblings[0], p.Siblings[1] = p.Siblings[1], p.Siblings[0] }, bad...)
	mutate("no siblings", func(p *MerkleProof) { p.Siblings = nil }, bad...)
	mutate("extra leaf", func(p *MerkleProof) {
		p.LeafData = append(p.LeafData, make([]byte, chunkSize))
		p.LeafIndices = append(p.LeafIndices, 30)
	}, bad...)
	mutate("extra genuine leaf", func(p *MerkleProof) {
		// A leaf with its true data still changes which siblings are needed.
		p.LeafData = append(p.LeafData, pad1024(data)[30*chunkSize:31*chunkSize])
		p.LeafIndices = append(p.LeafIndices, 30)
	}, bad...)
	mutate("unsorted", func(p *MerkleProof) {
		p.LeafIndices[1], p.LeafIndices[2] = p.LeafIndices[2], p.LeafIndices[1]
		p.LeafData[1], p.LeafData[2] = p.LeafData[2], p.LeafData[1]
	}, bad...)
	mutate("duplicate", func(p *MerkleProof) { p.LeafIndices[2] = p.LeafIndices[1] }, bad...)
	mutate("index out of range", func(p *MerkleProof) { p.LeafIndices[len(p.LeafIndices)-1] = p.TotalLeaves }, bad...)
	mutate("no leaves", func(p *MerkleProof) { p.LeafData, p.LeafIndices = nil, nil }, bad...)
	mutate("count mismatch", func(p *MerkleProof) { p.LeafIndices = p.LeafIndices[:1] }, ErrBadEncoding)
	mutate("root", func(p *MerkleProof) { p.Root[31] ^= 1 }, bad...)
	err := good.Verify(testKey(7))
	requireRuleErr(t, err, ErrBadMerkleProof)
}

func TestMerkleProofSingleLeaf(t *testing.T) {
	key := testKey(8)
	data := []byte("one short chunk")
	p := checkAgainstReference(t, key, data, []uint64{0})
	require.Empty(t, p.Siblings)
	require.Equal(t, CommitmentRoot(key, data), p.Root)

	q := cloneProof(p)
	q.Siblings = [][32]byte{{}}
	requireRuleErr(t, q.Verify(key), ErrBadMerkleProof)
	q = cloneProof(p)
	q.TotalLeaves = 2 // now the leaf needs a sibling and a non-root compression
	requireRuleErr(t, q.Verify(key), ErrBadMerkleProof)
}

func TestMerkleProofVerifyNeverPanics(t *testing.T) {
	key := testKey(9)
	leaf := make([]byte, chunkSize)
	for _, p := range []MerkleProof{
		{},
		{LeafData: [][]byte{leaf}},
		{LeafIndices: []uint64{0}},
		{LeafData: [][]byte{nil}, LeafIndices: []uint64{0}, TotalLeaves: 1},
		{LeafData: [][]byte{leaf}, LeafIndices: []uint64{0}, TotalLeaves: 0},
		{LeafData: [][]byte{leaf}, LeafIndices: []uint64{0}, TotalLeaves: math.MaxUint64},
		{LeafData: [][]byte{leaf}, LeafIndices: []uint64{math.MaxUint64 - 1}, TotalLeaves: math.MaxUint64},
		{LeafData: [][]byte{leaf}, LeafIndices: []uint64{math.MaxUint64 - 1}, TotalLeaves: math.MaxUint64, Siblings: make([][32]byte, 64)},
		{LeafData: [][]byte{leaf}, LeafIndices: []uint64{1}, TotalLeaves: 2, Siblings: make([][32]byte, 3)},
		{LeafData: [][]byte{leaf, leaf}, LeafIndices: []uint64{0, 1}, TotalLeaves: 2, Siblings: make([][32]byte, 1)},
	} {
		require.NotPanics(t, func() { requireRuleErr(t, p.Verify(key)) })
	}
}

func TestRowLeaves(t *testing.T) {
	for _, tc := range []struct{ row, k, first, last uint64 }{
		{0, 7, 0, 0},
		{146, 7, 0, 1}, // bytes 1022..1028 straddle two chunks
		{147, 7, 1, 1},
		{3, 1024, 3, 3},
		{0, 1500, 0, 1},
		{1, 1500, 1, 2},
		{1, 3000, 2, 5},
		{1, 1, 0, 0},
		{1024, 1, 1, 1},
	} {
		first, last := rowLeaves(tc.row, tc.k)
		assert.Equal(t, [2]uint64{tc.first, tc.last}, [2]uint64{first, last}, "row %d k %d", tc.row, tc.k)
	}
}

func randomMatrix(rng *rand.Rand, rows, k int) []byte {
	b := make([]byte, rows*k)
	for i := range b {
		b[i] = byte(int8(rng.IntN(255) - 127))
	}
	return b
}

func TestOpenRowsVerifyRows(t *testing.T) {
	key := testKey(10)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, k := range []int{1, 7, 100, 1024, 1500, 3000} {
		for _, rows := range []int{1, 2, 3, 16, 150, 400} {
			data := randomMatrix(rng, rows, k)
			var sets [][]uint64
			sets = append(sets, []uint64{0}, []uint64{uint64(rows - 1)})
			for range 4 {
				sets = append(sets, randomSubset(rng, uint64(rows), 1+rng.IntN(8)))
			}
			if rows >= 16 {
				start := rng.IntN(rows - 15)
				var tile []uint64
				for i := range 16 {
					tile = append(tile, uint64(start+i))
				}
				sets = append(sets, tile)
			}
			for _, set := range sets {
				mp, err := openRows(key, data, k, set)
				require.NoError(t, err)
				require.Equal(t, CommitmentRoot(key, data), mp.Proof.Root)
				got, err := mp.verifyRows(key, uint64(rows), uint64(k))
				require.NoError(t, err, "k %d rows %d set %v", k, rows, set)
				require.Len(t, got, len(set))
				for i, r := range set {
					want := make([]int8, k)
					for j := range want {
						want[j] = int8(data[int(r)*k+j])
					}
					require.Equal(t, want, got[i], "k %d row %d", k, r)
				}
			}
		}
	}
}

func TestVerifyRowsRejects(t *testing.T) {
	key := testKey(11)
	rng := rand.New(rand.NewPCG(6, 6))
	const rows, k = 40, 100
	data := randomMatrix(rng, rows, k)
	set := []uint64{3, 4, 10, 11, 25} // chunks {0, 1, 2} of 0..3
	good, err := openRows(key, data, k, set)
	require.NoError(t, err)
	_, err = good.verifyRows(key, rows, k)
	require.NoError(t, err)

	check := func(mp MatrixMerkleProof, totalRows, k uint64, codes ...ErrorCode) {
		t.Helper()
		require.NotPanics(t, func() {
			_, err := mp.verifyRows(key, totalRows, k)
			requireRuleErr(t, err, codes...)
		})
	}
	clone := func() MatrixMerkleProof {
		return MatrixMerkleProof{Proof: cloneProof(good.Proof), RowIndices: slices.Clone(good.RowIndices)}
	}
	bad := ErrBadMerkleProof

	mp := clone()
	mp.RowIndices[1], mp.RowIndices[2] = mp.RowIndices[2], mp.RowIndices[1]
	check(mp, rows, k, bad)
	mp = clone()
	mp.RowIndices[1] = mp.RowIndices[0]
	check(mp, rows, k, bad)
	mp = clone()
	mp.RowIndices = nil
	check(mp, rows, k, bad)
	mp = clone()
	mp.RowIndices = append(mp.RowIndices, rows)
	check(mp, rows, k, bad)
	mp = clone()
	mp.RowIndices = mp.RowIndices[:len(mp.RowIndices)-1] // the last row's leaf becomes extra
	check(mp, rows, k, bad)
	// Relabelling row 3 as row 2 opens the same chunk (0), so it verifies,
	// but what comes back is row 2's true bytes: openings cannot lie.
	mp = clone()
	mp.RowIndices[0] = 2
	got, err := mp.verifyRows(key, rows, k)
	require.NoError(t, err)
	for j := range k {
		require.Equal(t, int8(data[2*k+j]), got[0][j])
	}

	// Wrong shapes: the tree size no longer matches.
	check(good, rows+11, k, ErrTreeSize)
	check(good, rows, k+30, ErrTreeSize)
	check(good, 0, k, ErrShape)
	check(good, rows, 0, ErrShape)
	check(good, math.MaxUint64, 2, ErrShape)
	// A shape with the same number of chunks (40×100 and 39×100 both pad to
	// 4) passes the size check, and the rows are still where they were.
	_, err = good.verifyRows(key, rows-1, k)
	require.NoError(t, err)
	mp = clone()
	mp.Proof.TotalLeaves++
	check(mp, rows, k, ErrTreeSize)

	// A genuine Merkle proof that opens one chunk too many, or too few.
	leaves := slices.Clone(good.Proof.LeafIndices)
	require.Equal(t, []uint64{0, 1, 2}, leaves)
	extra, err := buildMerkleProof(key, data, append(leaves, 3))
	require.NoError(t, err)
	require.NoError(t, extra.Verify(key))
	check(MatrixMerkleProof{Proof: extra, RowIndices: set}, rows, k, bad)
	fewer, err := buildMerkleProof(key, data, leaves[:len(leaves)-1])
	require.NoError(t, err)
	check(MatrixMerkleProof{Proof: fewer, RowIndices: set}, rows, k, bad)

	// Tampered row bytes.
	mp = clone()
	mp.Proof.LeafData[0][350] ^= 1
	check(mp, rows, k, bad)

	// A forged k making one row span an enormous number of chunks must fail
	// fast, without materialising the chunk list.
	huge := MatrixMerkleProof{Proof: MerkleProof{
		LeafData: [][]byte{make([]byte, chunkSize)}, LeafIndices: []uint64{0}, TotalLeaves: 1 << 40,
	}, RowIndices: []uint64{0}}
	check(huge, 1, 1<<50, bad)
}

func TestOpenRowsRejectsBadInput(t *testing.T) {
	key := testKey(12)
	data := make([]byte, 10*7)
	for _, tc := range []struct {
		k    int
		rows []uint64
	}{
		{0, []uint64{0}}, {-1, []uint64{0}}, {3, []uint64{0}}, // 70 is not a multiple of 3
		{7, nil}, {7, []uint64{10}}, {7, []uint64{2, 2}}, {7, []uint64{3, 2}},
	} {
		_, err := openRows(key, data, tc.k, tc.rows)
		requireRuleErr(t, err, ErrBadInput)
	}
	_, err := openRows(key, nil, 7, []uint64{0})
	requireRuleErr(t, err, ErrBadInput)
}

func TestBuildMerkleProofDoesNotAliasData(t *testing.T) {
	key := testKey(13)
	data := bytes.Repeat([]byte{1}, 3*chunkSize)
	p, err := buildMerkleProof(key, data, []uint64{1})
	require.NoError(t, err)
	data[chunkSize] = 9
	require.Equal(t, byte(1), p.LeafData[0][0])
}

func BenchmarkCommitmentRoot(b *testing.B) {
	data := make([]byte, 16<<20)
	key := testKey(1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		CommitmentRoot(key, data)
	}
}

func BenchmarkOpenRows(b *testing.B) {
	const rows, k = 4096, 4096 // 16 MiB
	data := make([]byte, rows*k)
	key := testKey(1)
	tile := make([]uint64, 16)
	for i := range tile {
		tile[i] = uint64(1000 + i)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := openRows(key, data, k, tile); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRows(b *testing.B) {
	const rows, k = 4096, 4096
	data := make([]byte, rows*k)
	key := testKey(1)
	tile := make([]uint64, 16)
	for i := range tile {
		tile[i] = uint64(1000 + i)
	}
	mp, err := openRows(key, data, k, tile)
	require.NoError(b, err)
	for b.Loop() {
		if _, err := mp.verifyRows(key, rows, k); err != nil {
			b.Fatal(err)
		}
	}
}

// A miner opens two rows of a 3×1500 matrix; a verifier that knows only the
// job key, the root and the shape gets the rows back.
func TestOpenRowsStraddlingChunks(t *testing.T) {
	var key [32]byte // the job key (PROTOCOL.md §3)
	data := make([]byte, 3*1500)
	data[1500] = 0xFF // row 1 starts with -1
	mp, err := openRows(&key, data, 1500, []uint64{1, 2})
	require.NoError(t, err)
	assert.Equal(t, CommitmentRoot(&key, data), mp.Proof.Root)
	assert.Equal(t, []uint64{1, 2, 3, 4}, mp.Proof.LeafIndices)

	rows, err := mp.verifyRows(&key, 3, 1500)
	require.NoError(t, err)
	assert.Equal(t, int8(-1), rows[0][0])
	assert.Len(t, rows[1], 1500)
}
