package pouw

import (
	"encoding/binary"
	"math/big"
	"math/bits"
)

// jackpotWords is the number of 32-bit words in a tile's transcript state.
const jackpotWords = 16

// jackpot is the transcript state of one tile (§5): sixteen words into which
// the XOR of the tile's cumulative accumulators is folded after every r
// columns of k.
type jackpot [jackpotWords]uint32

// fold absorbs X, the XOR of all the tile's accumulators after chunk s
// (1-based): M[(s−1) mod 16] = rotl32(M[(s−1) mod 16], 13) XOR X.
func (j *jackpot) fold(s int, x uint32) {
	t := (s - 1) % jackpotWords
	j[t] = bits.RotateLeft32(j[t], 13) ^ x
}

// ticket is the tile's lottery ticket: H_{s_A}(M[0] ‖ … ‖ M[15]), each word
// little-endian.
func (j *jackpot) ticket(sA *[32]byte) [32]byte {
	var msg [64]byte
	for i, w := range j {
		binary.LittleEndian.PutUint32(msg[4*i:], w)
	}
	return keyedHash64(sA, &msg)
}

// ticketInt reads a ticket as the little-endian 256-bit integer it is
// compared as.
func ticketInt(t [32]byte) *big.Int {
	var be [32]byte
	for i := range t {
		be[31-i] = t[i]
	}
	return new(big.Int).SetBytes(be[:])
}

// leBound is a bound in the ticket's own byte order, so that deciding a win
// needs no big-integer arithmetic per tile.
type leBound [32]byte

func newLEBound(b *big.Int) leBound {
	var out leBound
	be := b.FillBytes(make([]byte, 32))
	for i := range be {
		out[31-i] = be[i]
	}
	return out
}

// wins reports whether ticket ≤ bound, both little-endian 256-bit integers.
func (b *leBound) wins(ticket *[32]byte) bool {
	for i := 31; i >= 0; i-- {
		if ticket[i] != b[i] {
			return ticket[i] < b[i]
		}
	}
	return true
}
