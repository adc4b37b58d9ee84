package pouw

import (
	"encoding/binary"
	"fmt"
)

// MaxPlainProofSize is the largest encoding DecodePlainProof accepts. A real
// proof opens one tile, (h+w)·dot_len ≤ 4 MiB of rows (PROTOCOL.md §10), plus
// chunk rounding and a few hundred siblings, so 64 MiB leaves ample room while
// bounding what a peer can make a verifier read.
const MaxPlainProofSize = 64 << 20

// Minimum encoded sizes of the items of each Vec, used to bound a declared
// count by the bytes left before anything is allocated.
const (
	leafItemSize    = 8 + chunkSize // u64 length, then exactly chunkSize bytes
	u64ItemSize     = 8
	siblingItemSize = 32
)

// PlainProof is what a miner publishes for a winning tile (PROTOCOL.md §8):
// the shape and the Merkle openings of the tile's rows of A and columns of B.
// Everything else (seeds, noise, transcript, ticket) the verifier recomputes.
// Its encoding is Pearl's bincode 1.x PlainProof, byte for byte.
type PlainProof struct {
	// M, N and K are the shape: A is M×K, B is K×N.
	M, N, K uint64
	// NoiseRank is the rank r of the noise.
	NoiseRank uint64
	// A opens the tile's rows of A (M rows of K bytes) against hash_a.
	A MatrixMerkleProof
	// BT opens the tile's columns of B, i.e. rows of Bᵀ (N rows of K bytes),
	// against hash_b.
	BT MatrixMerkleProof
}

// MarshalBinary encodes p as bincode 1.x (fixed-width little-endian integers,
// u64 Vec counts, raw 32-byte arrays) followed by a zero tag for Pearl's absent
// MoE field. It refuses what DecodePlainProof would refuse (a leaf that is not
// chunkSize bytes, an encoding over MaxPlainProofSize), so every encoding it
// produces decodes back to p.
func (p *PlainProof) MarshalBinary() ([]byte, error) {
	size := 4*8 + matrixProofSize(&p.A) + matrixProofSize(&p.BT) + 1
	if size > MaxPlainProofSize {
		return nil, ruleErr(ErrBadEncoding, "plain proof: encoding is %d bytes, over the %d limit", size, MaxPlainProofSize)
	}
	for _, mp := range []struct {
		name string
		p    *MatrixMerkleProof
	}{{"a", &p.A}, {"bt", &p.BT}} {
		for i, leaf := range mp.p.Proof.LeafData {
			if len(leaf) != chunkSize {
				return nil, ruleErr(ErrBadEncoding, "plain proof: %s.proof.leaf_data[%d] is %d bytes, want %d", mp.name, i, len(leaf), chunkSize)
			}
		}
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint64(b, p.M)
	b = binary.LittleEndian.AppendUint64(b, p.N)
	b = binary.LittleEndian.AppendUint64(b, p.K)
	b = binary.LittleEndian.AppendUint64(b, p.NoiseRank)
	b = appendMatrixProof(b, &p.A)
	b = appendMatrixProof(b, &p.BT)
	b = append(b, 0) // moe: Option::None
	return b, nil
}

func matrixProofSize(mp *MatrixMerkleProof) int {
	p := &mp.Proof
	return 8 + len(p.LeafData)*leafItemSize +
		8 + len(p.LeafIndices)*u64ItemSize +
		8 + 32 +
		8 + len(p.Siblings)*siblingItemSize +
		8 + len(mp.RowIndices)*u64ItemSize
}

func appendMatrixProof(b []byte, mp *MatrixMerkleProof) []byte {
	p := &mp.Proof
	b = binary.LittleEndian.AppendUint64(b, uint64(len(p.LeafData)))
	for _, leaf := range p.LeafData {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(leaf)))
		b = append(b, leaf...)
	}
	b = appendU64s(b, p.LeafIndices)
	b = binary.LittleEndian.AppendUint64(b, p.TotalLeaves)
	b = append(b, p.Root[:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(p.Siblings)))
	for i := range p.Siblings {
		b = append(b, p.Siblings[i][:]...)
	}
	return appendU64s(b, mp.RowIndices)
}

func appendU64s(b []byte, v []uint64) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

// DecodePlainProof decodes a bincode PlainProof strictly: at most
// MaxPlainProofSize bytes, every Vec count bounded by the bytes left before
// anything is allocated, leaves of exactly chunkSize bytes, a zero MoE tag and
// no trailing bytes. Every encoding is then canonical: re-encoding a decoded
// proof gives back the input. Failures are RuleErrors with code ErrBadEncoding
// naming the field and the byte offset. Empty Vecs decode as nil.
//
// Decoding checks the bytes only; whether the openings hash to their roots and
// fit the shape is Verify's job.
func DecodePlainProof(b []byte) (*PlainProof, error) {
	if len(b) > MaxPlainProofSize {
		return nil, ruleErr(ErrBadEncoding, "plain proof: %d bytes, over the %d limit", len(b), MaxPlainProofSize)
	}
	d := decoder{b: b}
	p := new(PlainProof)
	for _, f := range []struct {
		name string
		v    *uint64
	}{{"m", &p.M}, {"n", &p.N}, {"k", &p.K}, {"noise_rank", &p.NoiseRank}} {
		v, err := d.u64("", f.name)
		if err != nil {
			return nil, err
		}
		*f.v = v
	}
	if err := d.matrixProof("a", &p.A); err != nil {
		return nil, err
	}
	if err := d.matrixProof("bt", &p.BT); err != nil {
		return nil, err
	}
	if d.left() < 1 {
		return nil, d.errorf("", "moe", "truncated: want 1 tag byte")
	}
	if tag := b[d.off]; tag != 0 {
		return nil, d.errorf("", "moe", "tag %d, want 0 (None): MoE proofs are not supported", tag)
	}
	d.off++
	if d.off != len(b) {
		return nil, d.errorf("", "end", "%d trailing bytes", len(b)-d.off)
	}
	return p, nil
}

// UnmarshalBinary decodes b into p as DecodePlainProof does; on error p is
// left unchanged.
func (p *PlainProof) UnmarshalBinary(b []byte) error {
	q, err := DecodePlainProof(b)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// decoder reads bincode fields from b, tracking the offset for error messages.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) left() int { return len(d.b) - d.off }

// errorf reports a failure of field (prefixed by the matrix proof it belongs
// to, if any) at the current offset.
func (d *decoder) errorf(prefix, field, format string, args ...any) error {
	if prefix != "" {
		field = prefix + "." + field
	}
	return ruleErr(ErrBadEncoding, "plain proof: %s at offset %d: %s", field, d.off, fmt.Sprintf(format, args...))
}

func (d *decoder) u64(prefix, field string) (uint64, error) {
	if d.left() < 8 {
		return 0, d.errorf(prefix, field, "truncated: want 8 bytes, %d left", d.left())
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

// count reads a Vec length and checks that that many items of at least
// itemSize bytes fit in what is left, so the caller may allocate it.
func (d *decoder) count(prefix, field string, itemSize int) (int, error) {
	at := d.off
	n, err := d.u64(prefix, field+" count")
	if err != nil {
		return 0, err
	}
	if n > uint64(d.left()/itemSize) {
		d.off = at
		return 0, d.errorf(prefix, field+" count", "%d items of at least %d bytes do not fit in the %d bytes left", n, itemSize, d.left()-8)
	}
	return int(n), nil
}

func (d *decoder) u64s(prefix, field string) ([]uint64, error) {
	n, err := d.count(prefix, field, u64ItemSize)
	if err != nil || n == 0 {
		return nil, err
	}
	v := make([]uint64, n)
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(d.b[d.off:])
		d.off += 8
	}
	return v, nil
}

func (d *decoder) matrixProof(prefix string, mp *MatrixMerkleProof) error {
	p := &mp.Proof
	n, err := d.count(prefix, "proof.leaf_data", leafItemSize)
	if err != nil {
		return err
	}
	if n > 0 {
		// One backing array; full slice expressions keep the leaves apart.
		buf := make([]byte, n*chunkSize)
		p.LeafData = make([][]byte, n)
		for i := range p.LeafData {
			// count() guaranteed the 8+1024 bytes of every leaf are present.
			if l := binary.LittleEndian.Uint64(d.b[d.off:]); l != chunkSize {
				return d.errorf(prefix, "proof.leaf_data", "leaf %d length %d, want %d", i, l, chunkSize)
			}
			d.off += 8
			leaf := buf[i*chunkSize : (i+1)*chunkSize : (i+1)*chunkSize]
			copy(leaf, d.b[d.off:d.off+chunkSize])
			d.off += chunkSize
			p.LeafData[i] = leaf
		}
	}
	if p.LeafIndices, err = d.u64s(prefix, "proof.leaf_indices"); err != nil {
		return err
	}
	if p.TotalLeaves, err = d.u64(prefix, "proof.total_leaves"); err != nil {
		return err
	}
	if d.left() < 32 {
		return d.errorf(prefix, "proof.root", "truncated: want 32 bytes, %d left", d.left())
	}
	d.off += copy(p.Root[:], d.b[d.off:])
	if n, err = d.count(prefix, "proof.siblings", siblingItemSize); err != nil {
		return err
	}
	if n > 0 {
		p.Siblings = make([][32]byte, n)
		for i := range p.Siblings {
			d.off += copy(p.Siblings[i][:], d.b[d.off:])
		}
	}
	mp.RowIndices, err = d.u64s(prefix, "row_indices")
	return err
}
