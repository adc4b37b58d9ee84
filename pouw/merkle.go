package pouw

import (
	"math/bits"
	"slices"

	"lukechampine.com/blake3/guts"

	"github.com/usefulwork/minedmatmul/internal/parallel"
	"github.com/usefulwork/minedmatmul/pouw/internal/hash16"
)

// chunkSize is the length of one Merkle leaf: BLAKE3's own chunk length. The
// commitment tree is BLAKE3's chunk tree, so the two must agree (PROTOCOL.md §3).
const chunkSize = 1024

// Fails to compile if chunkSize ever drifts from the BLAKE3 chunk length.
const _ = uint(chunkSize-guts.ChunkSize) + uint(guts.ChunkSize-chunkSize)

// MerkleProof opens some leaves (1024-byte chunks) of pad1024(data) against the
// keyed BLAKE3 hash of pad1024(data), which is the root of BLAKE3's chunk tree
// (PROTOCOL.md §8). Its bincode form is Pearl's MerkleProof (plainproof.go).
type MerkleProof struct {
	// LeafData holds the opened chunks, each exactly chunkSize bytes (the last
	// chunk of the data zero-padded), in LeafIndices order.
	LeafData [][]byte
	// LeafIndices are the opened chunk indices, strictly ascending.
	LeafIndices []uint64
	// TotalLeaves is the number of chunks in the tree: ceil(len(data)/1024).
	TotalLeaves uint64
	// Root is the committed root: the keyed BLAKE3 hash of pad1024(data).
	Root [32]byte
	// Siblings are the chaining values of the subtrees next to the opened
	// paths, in the consensus order documented on buildMerkleProof.
	Siblings [][32]byte
}

// MatrixMerkleProof opens whole rows of a row-major int8 matrix: the tile rows
// of A, or the tile columns of B (rows of Bᵀ) (PROTOCOL.md §8).
type MatrixMerkleProof struct {
	// Proof opens exactly the chunks that the rows in RowIndices touch.
	Proof MerkleProof
	// RowIndices are the opened rows, strictly ascending.
	RowIndices []uint64
}

// numChunks is the number of leaves of pad1024 of an n-byte input.
func numChunks(n int) uint64 { return uint64(n+chunkSize-1) / chunkSize }

// halfUp is ceil(n/2) without the overflow of (n+1)/2 at n = 2⁶⁴−1: a decoded
// TotalLeaves may be anything.
func halfUp(n uint64) uint64 { return n/2 + n%2 }

// CommitmentRoot returns the keyed BLAKE3 hash (key = the job key) of
// pad1024(data), which is also the root of the Merkle tree over its chunks
// (PROTOCOL.md §3). It hashes the data in place on all cores; only the last,
// partial group of chunks is copied, to append the zero padding. Empty data
// hashes as the empty string; a matrix is never empty, and buildMerkleProof
// rejects it.
func CommitmentRoot(key *[32]byte, data []byte) [32]byte {
	var root [32]byte
	commitmentRoots(key, [][]byte{data}, []*[32]byte{&root})
	return root
}

// groupBytes is one batch of the hasher: 16 chunks compressed together
// (hash16.Groups, or guts.CompressBuffer for a partial one) into the
// chaining value of their subtree.
const groupBytes = hash16.GroupBytes

// commitmentRoots sets *roots[i] = CommitmentRoot(key, datas[i]) for every i.
// All inputs' 16-chunk groups are compressed in one pool, split evenly over
// the cores, up to eight whole groups a call whatever input they come from:
// the library's own hasher keeps a small input, and the smaller of A and Bᵀ,
// on one core (and spawns a goroutine per 16 KiB), which left the
// commitments running at one core's speed. The pool is cut into as many
// pieces as parallel.Range allows, down to one group a piece: a call's
// eight-lane parents, shared by fewer groups, cost a few per cent more,
// while pieces of eight left a product of nine groups (784×100 and 512×100
// operands) on one core, and split one of thirty 2:1 between two cores
// (52 → 35 and 130 → 107 µs).
func commitmentRoots(key *[32]byte, datas [][]byte, roots []*[32]byte) {
	kw := keyWords(key)
	first := make([]int, len(datas)+1) // first[i]: index of datas[i]'s first group
	for i, d := range datas {
		first[i+1] = first[i] + (len(d)+groupBytes-1)/groupBytes
	}
	cvs := make([][8]uint32, first[len(datas)])
	nodes := make([]guts.Node, len(datas)) // the root node of a one-group input
	parallel.Range(len(cvs), 1, func(lo, hi int) {
		var tail [groupBytes]byte
		var batch [8]*[groupBytes]byte
		var counters [8]uint64
		var at [8]int // the groups in batch
		n := 0
		flush := func() {
			var out [8][8]uint32
			hash16.Groups(&kw, guts.FlagKeyedHash, batch[:n], counters[:n], out[:n])
			for j, g := range at[:n] {
				cvs[g] = out[j]
			}
			n = 0
		}
		in := 0
		for g := lo; g < hi; g++ {
			for g >= first[in+1] {
				in++
			}
			d, off := datas[in], (g-first[in])*groupBytes
			single := first[in+1]-first[in] == 1
			if off+groupBytes <= len(d) && !single {
				batch[n], counters[n], at[n] = (*[groupBytes]byte)(d[off:off+groupBytes]), uint64(off/chunkSize), g
				if n++; n == len(batch) {
					flush()
				}
				continue
			}
			// The last, partial group (zero-padded to whole chunks), or the
			// only one, whose root node is kept for the root's flag.
			rest := d[off:min(off+groupBytes, len(d))]
			clear(tail[copy(tail[:], rest):])
			node := guts.CompressBuffer(&tail, int(numChunks(len(rest)))*chunkSize, &kw, uint64(off/chunkSize), guts.FlagKeyedHash)
			if single {
				nodes[in] = node
			}
			cvs[g] = guts.ChainingValue(node)
		}
		if n > 0 {
			flush()
		}
	})
	for i, d := range datas {
		switch groups := cvs[first[i]:first[i+1]]; {
		case len(d) == 0:
			*roots[i] = blake3Keyed(key, nil)
		case len(groups) == 1:
			*roots[i] = rootOf(nodes[i])
		default:
			// Pairing level by level, an odd last node promoted, is BLAKE3's
			// tree (the left subtree always the largest power of two); the
			// groups are its subtrees at level 4.
			level := slices.Clone(groups)
			for len(level) > 2 {
				for j := 0; j < len(level)/2; j++ {
					level[j] = parentCV(&kw, level[2*j], level[2*j+1])
				}
				if len(level)%2 == 1 {
					level[len(level)/2] = level[len(level)-1]
				}
				level = level[:(len(level)+1)/2]
			}
			*roots[i] = rootOf(guts.ParentNode(level[0], level[1], &kw, guts.FlagKeyedHash))
		}
	}
}

// rowLeaves returns the first and last chunk index covering row `row` of a
// matrix whose rows are k bytes long: floor(row·k/1024) ..= floor(((row+1)·k−1)/1024)
// (PROTOCOL.md §8). k must be positive and (row+1)·k must not overflow; the
// callers here check both first.
func rowLeaves(row, k uint64) (first, last uint64) {
	return row * k / chunkSize, ((row+1)*k - 1) / chunkSize
}

// chunkTree computes chaining values of subtrees of pad1024(data) without
// padding a copy of the data: only the last, partial chunk is copied.
type chunkTree struct {
	kw      [8]uint32
	data    []byte
	n       uint64 // number of chunks
	full    uint64 // number of complete chunks inside data
	lastBuf [chunkSize]byte
}

func newChunkTree(key *[32]byte, data []byte) *chunkTree {
	t := &chunkTree{kw: keyWords(key), data: data, n: numChunks(len(data)), full: uint64(len(data) / chunkSize)}
	copy(t.lastBuf[:], data[t.full*chunkSize:])
	return t
}

// chunk returns chunk i of pad1024(data).
func (t *chunkTree) chunk(i uint64) []byte {
	if i < t.full {
		return t.data[i*chunkSize : (i+1)*chunkSize]
	}
	return t.lastBuf[:]
}

// cv returns the chaining value of the subtree over chunks [start, end). In the
// level-by-level pairing a node at level L covers [j·2^L, min((j+1)·2^L, n)),
// and such a range splits exactly as BLAKE3 splits it: the largest power of
// two below its size goes left. Complete power-of-two ranges are handed to the
// library's SIMD, multi-core eigentree compressor.
func (t *chunkTree) cv(start, end uint64) [8]uint32 {
	size := end - start
	if size == 1 {
		return leafCV(&t.kw, t.chunk(start), start)
	}
	if end <= t.full && size&(size-1) == 0 {
		n := guts.CompressEigentree(t.data[start*chunkSize:end*chunkSize], &t.kw, start, guts.FlagKeyedHash)
		return guts.ChainingValue(n)
	}
	split := uint64(1) << (bits.Len64(size-1) - 1)
	return parentCV(&t.kw, t.cv(start, start+split), t.cv(start+split, end))
}

// node returns the chaining value of node j at level `level`.
func (t *chunkTree) node(level int, j uint64) [8]uint32 {
	return t.cv(j<<level, min((j+1)<<level, t.n))
}

// buildMerkleProof opens the given leaves (chunk indices, strictly ascending,
// below ceil(len(data)/1024)) of pad1024(data) under key.
//
// Siblings are emitted in the consensus order (PROTOCOL.md §8): level by level
// from the leaves, visiting the current node indices in ascending order, an odd
// index whose left neighbour is not in the set pushes that neighbour, an even
// index whose right neighbour is not in the set and exists pushes it (an even
// last node has none and is promoted unchanged); then the set becomes the
// parents and the level size ceil(size/2), until one node remains.
//
// The cost is one pass of hashing over the unopened part of the data.
func buildMerkleProof(key *[32]byte, data []byte, leaves []uint64) (MerkleProof, error) {
	if len(data) == 0 {
		return MerkleProof{}, ruleErr(ErrBadInput, "merkle: cannot commit to empty data")
	}
	if len(leaves) == 0 {
		return MerkleProof{}, ruleErr(ErrBadInput, "merkle: no leaves to open")
	}
	t := newChunkTree(key, data)
	for i, l := range leaves {
		if l >= t.n {
			return MerkleProof{}, ruleErr(ErrBadInput, "merkle: leaf %d out of range for %d leaves", l, t.n)
		}
		if i > 0 && l <= leaves[i-1] {
			return MerkleProof{}, ruleErr(ErrBadInput, "merkle: leaves not strictly ascending at position %d", i)
		}
	}

	p := MerkleProof{
		LeafData:    make([][]byte, len(leaves)),
		LeafIndices: slices.Clone(leaves),
		TotalLeaves: t.n,
	}
	// One backing array for all leaves; full slice expressions keep an append
	// to one leaf from overwriting the next.
	buf := make([]byte, len(leaves)*chunkSize)
	for i, l := range leaves {
		leaf := buf[i*chunkSize : (i+1)*chunkSize : (i+1)*chunkSize]
		copy(leaf, t.chunk(l))
		p.LeafData[i] = leaf
	}

	set := slices.Clone(leaves)
	size := t.n
	for level := 0; size > 1; level++ {
		// set is sorted and unique, so "neighbour in the set" is a look at the
		// adjacent element.
		for i, j := range set {
			if j%2 == 1 {
				if i == 0 || set[i-1] != j-1 {
					p.Siblings = append(p.Siblings, cvBytes(t.node(level, j-1)))
				}
			} else if (i+1 == len(set) || set[i+1] != j+1) && j+1 < size {
				p.Siblings = append(p.Siblings, cvBytes(t.node(level, j+1)))
			}
		}
		set = parents(set)
		size = halfUp(size)
	}

	// Every chunk has now been hashed once, either as an opened leaf (below) or
	// inside a sibling subtree, so the root comes from the proof itself.
	root, err := p.computeRoot(&t.kw)
	if err != nil {
		return MerkleProof{}, err // unreachable: the proof was built to fit
	}
	p.Root = root
	return p, nil
}

// parents maps a sorted unique index set to its parents' (index/2, deduped),
// in place.
func parents(set []uint64) []uint64 {
	out := set[:0]
	for _, j := range set {
		if len(out) == 0 || out[len(out)-1] != j/2 {
			out = append(out, j/2)
		}
	}
	return out
}

// Verify recomputes the root from the opened leaves and the siblings and checks
// it equals p.Root. It returns a RuleError: ErrBadEncoding when the proof's
// shape is malformed (leaf and index counts differ, a leaf that is not
// chunkSize bytes), ErrBadMerkleProof for everything else (no leaves, indices
// unsorted, duplicated or out of range, too few or too many siblings, a root
// mismatch). It never panics, whatever the fields hold.
func (p *MerkleProof) Verify(key *[32]byte) error {
	kw := keyWords(key)
	root, err := p.computeRoot(&kw)
	if err != nil {
		return err
	}
	if root != p.Root {
		return ruleErr(ErrBadMerkleProof, "merkle: computed root %x does not match committed root %x", root, p.Root)
	}
	return nil
}

// computeRoot validates the proof's shape and folds leaves and siblings up to
// the root, consuming siblings in the order buildMerkleProof emits them. The
// shape checks matter for soundness, not just hygiene: a duplicate or
// out-of-range index could let siblings alone rebuild the root while the leaf
// data goes unchecked.
func (p *MerkleProof) computeRoot(kw *[8]uint32) ([32]byte, error) {
	if len(p.LeafData) != len(p.LeafIndices) {
		return [32]byte{}, ruleErr(ErrBadEncoding, "merkle: %d leaves but %d leaf indices", len(p.LeafData), len(p.LeafIndices))
	}
	if len(p.LeafIndices) == 0 {
		return [32]byte{}, ruleErr(ErrBadMerkleProof, "merkle: proof opens no leaves")
	}
	for i, leaf := range p.LeafData {
		if len(leaf) != chunkSize {
			return [32]byte{}, ruleErr(ErrBadEncoding, "merkle: leaf %d is %d bytes, want %d", i, len(leaf), chunkSize)
		}
	}
	for i, l := range p.LeafIndices {
		if i > 0 && l <= p.LeafIndices[i-1] {
			return [32]byte{}, ruleErr(ErrBadMerkleProof, "merkle: leaf indices not strictly ascending at position %d", i)
		}
	}
	if last := p.LeafIndices[len(p.LeafIndices)-1]; last >= p.TotalLeaves {
		return [32]byte{}, ruleErr(ErrBadMerkleProof, "merkle: leaf index %d out of range for %d leaves", last, p.TotalLeaves)
	}

	if p.TotalLeaves == 1 {
		// A one-chunk tree has no parent: its root is the chunk itself
		// finalised with the ROOT flag, i.e. the plain keyed hash.
		if len(p.Siblings) != 0 {
			return [32]byte{}, ruleErr(ErrBadMerkleProof, "merkle: %d siblings in a one-leaf tree", len(p.Siblings))
		}
		return rootOf(guts.CompressChunk(p.LeafData[0], kw, 0, guts.FlagKeyedHash)), nil
	}

	type node struct {
		idx uint64
		cv  [8]uint32
	}
	nodes := make([]node, len(p.LeafIndices))
	for i, l := range p.LeafIndices {
		nodes[i] = node{l, leafCV(kw, p.LeafData[i], l)}
	}
	used := 0
	sibling := func() ([8]uint32, error) {
		if used == len(p.Siblings) {
			return [8]uint32{}, ruleErr(ErrBadMerkleProof, "merkle: too few siblings (%d)", len(p.Siblings))
		}
		used++
		return keyWords(&p.Siblings[used-1]), nil
	}

	// Levels above the leaves and below the root; the root merge (size 2)
	// needs the ROOT flag and is done after the loop. Writing parents in place
	// is safe: out never overtakes the element being read.
	for size := p.TotalLeaves; size > 2; size = halfUp(size) {
		out := nodes[:0]
		for i := 0; i < len(nodes); i++ {
			j, cv := nodes[i].idx, nodes[i].cv
			switch {
			case j%2 == 1: // a present left neighbour would have taken it at j-1
				left, err := sibling()
				if err != nil {
					return [32]byte{}, err
				}
				cv = parentCV(kw, left, cv)
			case i+1 < len(nodes) && nodes[i+1].idx == j+1:
				cv = parentCV(kw, cv, nodes[i+1].cv)
				i++
			case j+1 < size:
				right, err := sibling()
				if err != nil {
					return [32]byte{}, err
				}
				cv = parentCV(kw, cv, right)
			default:
				// An even last node without a right neighbour is promoted.
			}
			out = append(out, node{j / 2, cv})
		}
		nodes = out
	}

	// Two nodes remain: 0 and 1; each is opened or is the next sibling.
	var left, right [8]uint32
	var err error
	if nodes[0].idx == 0 {
		left = nodes[0].cv
	} else if left, err = sibling(); err != nil {
		return [32]byte{}, err
	}
	if last := nodes[len(nodes)-1]; last.idx == 1 {
		right = last.cv
	} else if right, err = sibling(); err != nil {
		return [32]byte{}, err
	}
	if used != len(p.Siblings) {
		return [32]byte{}, ruleErr(ErrBadMerkleProof, "merkle: %d siblings left over", len(p.Siblings)-used)
	}
	return rootOf(guts.ParentNode(left, right, kw, guts.FlagKeyedHash)), nil
}

// openRows builds the proof for the given rows (strictly ascending) of a
// rows×k int8 matrix stored row-major as bytes (len(data) == rows·k): it opens
// exactly the chunks those rows touch.
func openRows(key *[32]byte, data []byte, k int, rows []uint64) (MatrixMerkleProof, error) {
	if k <= 0 || len(data) == 0 || len(data)%k != 0 {
		return MatrixMerkleProof{}, ruleErr(ErrBadInput, "merkle: %d bytes is not a positive number of %d-byte rows", len(data), k)
	}
	if len(rows) == 0 {
		return MatrixMerkleProof{}, ruleErr(ErrBadInput, "merkle: no rows to open")
	}
	total := uint64(len(data) / k)
	var leaves []uint64
	for i, r := range rows {
		if r >= total {
			return MatrixMerkleProof{}, ruleErr(ErrBadInput, "merkle: row %d out of range for %d rows", r, total)
		}
		if i > 0 && r <= rows[i-1] {
			return MatrixMerkleProof{}, ruleErr(ErrBadInput, "merkle: rows not strictly ascending at position %d", i)
		}
		first, last := rowLeaves(r, uint64(k))
		for l := first; l <= last; l++ {
			if len(leaves) == 0 || leaves[len(leaves)-1] < l {
				leaves = append(leaves, l)
			}
		}
	}
	p, err := buildMerkleProof(key, data, leaves)
	if err != nil {
		return MatrixMerkleProof{}, err
	}
	return MatrixMerkleProof{Proof: p, RowIndices: slices.Clone(rows)}, nil
}

// verifyRows checks the opening of rows of a totalRows×k matrix and returns
// the k values of each opened row, in RowIndices order. It checks, cheap
// checks first, that TotalLeaves == ceil(totalRows·k/1024), that RowIndices are
// non-empty, strictly ascending and below totalRows, that the opened leaves are
// exactly the chunks those rows touch (no more: a verifier must not be made to
// hash extra data), and that the proof verifies under key. A zero or
// overflowing shape is ErrShape, a tree of the wrong size ErrTreeSize; every other failure is a RuleError as
// documented on MerkleProof.Verify.
func (mp *MatrixMerkleProof) verifyRows(key *[32]byte, totalRows, k uint64) ([][]int8, error) {
	if totalRows == 0 || k == 0 {
		return nil, ruleErr(ErrShape, "merkle: empty matrix shape %d×%d", totalRows, k)
	}
	hi, size := bits.Mul64(totalRows, k)
	if hi != 0 {
		return nil, ruleErr(ErrShape, "merkle: matrix shape %d×%d overflows", totalRows, k)
	}
	p := &mp.Proof
	if want := size/chunkSize + min(size%chunkSize, 1); p.TotalLeaves != want {
		return nil, ruleErr(ErrTreeSize, "merkle: total_leaves %d, want %d for a %d×%d matrix", p.TotalLeaves, want, totalRows, k)
	}
	rows := mp.RowIndices
	if len(rows) == 0 {
		return nil, ruleErr(ErrBadMerkleProof, "merkle: no rows opened")
	}
	// Walk the union of the rows' chunk ranges against LeafIndices without
	// materialising it: a forged k can make one row span 2⁴⁰ chunks, and the
	// walk stops at the first mismatch, so the work is bounded by the input.
	pos := 0
	for i, r := range rows {
		if r >= totalRows {
			return nil, ruleErr(ErrBadMerkleProof, "merkle: row %d out of range for %d rows", r, totalRows)
		}
		if i > 0 && r <= rows[i-1] {
			return nil, ruleErr(ErrBadMerkleProof, "merkle: row indices not strictly ascending at position %d", i)
		}
		first, last := rowLeaves(r, k)
		if pos > 0 && p.LeafIndices[pos-1] >= first {
			first = p.LeafIndices[pos-1] + 1 // shared with the previous row
		}
		for l := first; l <= last; l++ {
			if pos == len(p.LeafIndices) || p.LeafIndices[pos] != l {
				return nil, ruleErr(ErrBadMerkleProof, "merkle: leaf %d of row %d is not opened where expected (position %d)", l, r, pos)
			}
			pos++
		}
	}
	if pos != len(p.LeafIndices) {
		return nil, ruleErr(ErrBadMerkleProof, "merkle: %d leaves opened beyond the rows' chunks", len(p.LeafIndices)-pos)
	}
	if err := p.Verify(key); err != nil {
		return nil, err
	}

	// The rows are disjoint byte ranges inside the opened leaves, so the
	// output is no larger than the proof's own leaf data.
	out := make([][]int8, len(rows))
	vals := make([]int8, uint64(len(rows))*k)
	for i, r := range rows {
		row := vals[uint64(i)*k : uint64(i+1)*k : uint64(i+1)*k]
		off := r * k
		at, _ := slices.BinarySearch(p.LeafIndices, off/chunkSize)
		for n := 0; n < len(row); at++ {
			src := p.LeafData[at][off%chunkSize:]
			for _, b := range src[:min(len(src), len(row)-n)] {
				row[n] = int8(b)
				n++
			}
			off = 0
		}
		out[i] = row
	}
	return out, nil
}
