package pouw

import (
	"encoding/binary"

	"github.com/usefulwork/minedmatmul/internal/bufcache"
	"github.com/usefulwork/minedmatmul/internal/parallel"
	"github.com/usefulwork/minedmatmul/pouw/internal/hash16"
	"github.com/usefulwork/minedmatmul/pouw/internal/vec8"
)

// Noise labels of the PRF (§4), zero-padded to 32 bytes.
var (
	labelA = noiseLabel("A_tensor")
	labelB = noiseLabel("B_tensor")
)

func noiseLabel(s string) (l [32]byte) {
	copy(l[:], s)
	return l
}

// prf is G(key, label, slot, index) of §4: the keyed hash of eight int32
// slots (all zero but slot number `slot`, which holds index+1) and the label.
func prf(key *[32]byte, label *[32]byte, slot int, index uint32) [32]byte {
	var msg [64]byte
	binary.LittleEndian.PutUint32(msg[4*slot:], index+1)
	copy(msg[32:], label[:])
	return keyedHash64(key, &msg)
}

// denseNoiseRow fills dst (len r) with row `row` of a dense noise factor
// (E_AL for A, E_BRᵀ for B): entry (row, j) is byte idx%32 of
// G(key, label, 0, idx/32) masked to 6 bits and centred, idx = row·r + j.
// r is a multiple of 32, so a row is exactly r/32 whole PRF outputs.
func denseNoiseRow(dst []int8, key, label *[32]byte, row int) {
	r := len(dst)
	base := uint32(row * r / 32)
	for c := 0; c < r/32; c++ {
		out := prf(key, label, 0, base+uint32(c))
		for b, x := range out {
			dst[32*c+b] = int8(x&63) - 32
		}
	}
}

// denseBatches is how many batches of 16 PRF outputs (512 entries) fill n
// entries of a dense factor.
func denseBatches(n int) int { return (n/32 + 15) / 16 }

// denseBatch fills entries [512·b, 512·b+512) of a dense factor (fewer at its
// end): sixteen PRF outputs of slot 0, masked and centred by hash16.Noise.
func denseBatch(out []int8, key, label *[32]byte, b int) {
	first := 16 * b
	n := min(16, len(out)/32-first)
	kw, lw := keyWords(key), keyWords(label)
	hash16.Noise(&kw, &lw, uint32(first)+1, out[32*first:32*(first+n)])
}

// prfBatch sets dst[i] = G(key, label, slot, first+i) for every i (at most
// 16): the same outputs as prf, sixteen compressions at once.
func prfBatch(key, label *[32]byte, slot int, first uint32, dst [][32]byte) {
	var out [8][16]uint32
	prfWords(key, label, slot, first, len(dst), &out)
	for i := range dst {
		for w := 0; w < 8; w++ {
			binary.LittleEndian.PutUint32(dst[i][4*w:], out[w][i])
		}
	}
}

// prfWords sets out[w][i] to word w of G(key, label, slot, first+i) for
// i < n ≤ 16, in hash16's word-major layout.
func prfWords(key, label *[32]byte, slot int, first uint32, n int, out *[8][16]uint32) {
	var msgs [16][16]uint32
	for i := 0; i < n; i++ {
		msgs[slot][i] = first + uint32(i) + 1
	}
	for w := 0; w < 8; w++ {
		lw := binary.LittleEndian.Uint32(label[4*w:])
		for i := range msgs[8+w] {
			msgs[8+w][i] = lw
		}
	}
	kw := keyWords(key)
	hash16.Sum16(&kw, &msgs, out)
}

// noisePair is the sparse ±1 pair of one line l of k: the sparse factor
// (E_AR for A, E_BL for B) holds +1 at First and −1 at Second.
type noisePair struct {
	first, second uint16
}

// sparsePairs returns the k pairs of a sparse noise factor (§4):
// u = u32 at bytes 4(l%8) of G(key, label, 1, l/8), first = u & (r−1),
// second = first XOR (1 + mulhi32(r−1, u)), which is never first.
func sparsePairs(key, label *[32]byte, k, r int) []noisePair {
	pairs := make([]noisePair, k)
	for b := 0; b < sparseBatches(k); b++ {
		sparseBatch(pairs, key, label, r, b)
	}
	return pairs
}

// sparseBatches is how many batches of 16 PRF outputs (128 pairs) make k pairs.
func sparseBatches(k int) int { return (k + 127) / 128 }

// sparseBatch sets pairs [128·b, 128·b+128) (fewer at the end).
func sparseBatch(pairs []noisePair, key, label *[32]byte, r, b int) {
	l0, k := 128*b, len(pairs)
	var words [8][16]uint32
	prfWords(key, label, 1, uint32(l0/8), min(16, (k-l0+7)/8), &words)
	for l := l0; l < min(k, l0+128); l++ {
		u := words[l%8][(l-l0)/8]
		first := u & uint32(r-1)
		hi := uint32((uint64(r-1) * uint64(u)) >> 32)
		pairs[l] = noisePair{first: uint16(first), second: uint16(first ^ (1 + hi))}
	}
}

// addNoiseRow sets dst[l] = src[l] + f[pairs[l].first] − f[pairs[l].second]:
// one row of A' = A + E_AL·E_AR (or of B'ᵀ), formed without multiplications.
// With src in [−64, 64] and f in [−32, 31] the result lies in [−127, 127].
func addNoiseRow(dst, src, f []int8, pairs []noisePair) {
	for l, p := range pairs {
		dst[l] = src[l] + f[p.first] - f[p.second]
	}
}

// noisyRows sets dst (rows×k) to src plus the noise f·E (§4.3): row i is
// src[i] + f[i][first(l)] − f[i][second(l)], formed with byte table look-ups
// (64 entries per instruction with AVX-512 VBMI) on all cores: in blocks of
// rows, or, for fewer blocks than cores (a convolution's 16 channels over
// 78400 positions), in pieces of k.
func noisyRows(dst, src []int8, f []int8, pairs []noisePair, rows, k, r int) {
	if r > 128 { // beyond the byte look-up kernel: plain Go
		parallel.Range(rows, 16, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				addNoiseRow(dst[i*k:(i+1)*k], src[i*k:(i+1)*k], f[i*r:(i+1)*r], pairs)
			}
		})
		return
	}
	first, second := make([]uint8, k), make([]uint8, k)
	if w := parallel.Workers(k / noisePieceCols); (rows+15)/16 < w {
		parallel.For(w, func(_, piece int) {
			l0, l1 := piece*k/w, (piece+1)*k/w
			for l, p := range pairs[l0:l1] {
				first[l0+l], second[l0+l] = uint8(p.first), uint8(p.second)
			}
			for i := range rows {
				vec8.AddPairs(dst[i*k+l0:i*k+l1], src[i*k+l0:i*k+l1], f[i*r:(i+1)*r], first[l0:l1], second[l0:l1])
			}
		})
		return
	}
	for l, p := range pairs[:k] {
		first[l], second[l] = uint8(p.first), uint8(p.second)
	}
	parallel.Range(rows, 16, func(lo, hi int) {
		vec8.AddPairsRows(dst[lo*k:hi*k], src[lo*k:hi*k], f[lo*r:hi*r], r, first, second, hi-lo)
	})
}

// noisePieceCols is the fewest entries of k worth a piece of their own.
const noisePieceCols = 8192

// operands recycles the noisy operands between products: they are as large
// as the inputs and live only during MineProduct.
var operands = bufcache.New[int8](4)

// factors and pairLists recycle the noise factors between products.
var (
	factors   = bufcache.New[int8](4)
	pairLists = bufcache.New[noisePair](4)
)

// release gives nz's factors back for the next product's noise.
func (nz *noise) release() {
	factors.Put(nz.al)
	factors.Put(nz.brt)
	pairLists.Put(nz.pairsA)
	pairLists.Put(nz.pairsB)
	*nz = noise{}
}

// noise holds the four noise factors of one product (§4): the dense E_AL
// (m×r) and E_BRᵀ (n×r), and the sparse pairs of E_AR (r×k) and E_BL (k×r).
type noise struct {
	rank   int
	al     []int8 // m×r, row-major
	brt    []int8 // n×r, row-major: row j belongs to column j of B
	pairsA []noisePair
	pairsB []noisePair
}

// newNoise derives the noise of an m×k by k×n product of rank r from its seeds.
// All four factors are generated in one pool of 16-hash batches on all cores:
// one fan-out instead of one per factor, and the small ones no longer run
// alone on one core.
//
// Its factors are recycled scratch (every entry is set here): release gives
// them back once the product is done with them.
func newNoise(s seeds, m, n, k, r int) *noise {
	nz := &noise{
		rank: r,
		al:   factors.Get(m * r), brt: factors.Get(n * r),
		pairsA: pairLists.Get(k), pairsB: pairLists.Get(k),
	}
	ba, bb, bs := denseBatches(m*r), denseBatches(n*r), sparseBatches(k)
	parallel.Range(ba+bb+2*bs, 8, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			switch b := t; {
			case b < ba:
				denseBatch(nz.al, &s.sA, &labelA, b)
			case b < ba+bb:
				denseBatch(nz.brt, &s.sB, &labelB, b-ba)
			case b < ba+bb+bs:
				sparseBatch(nz.pairsA, &s.sA, &labelA, r, b-ba-bb)
			default:
				sparseBatch(nz.pairsB, &s.sB, &labelB, r, b-ba-bb-bs)
			}
		}
	})
	return nz
}
