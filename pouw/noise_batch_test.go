package pouw

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// TestBatchedNoiseMatchesPRF checks the batched noise generation against
// the one-output PRF that the verifier uses (§4.1, §4.2), under every
// implementation of hash16.
func TestBatchedNoiseMatchesPRF(t *testing.T) { impltest.Run(t, testBatchedNoiseMatchesPRF, "hash16") }

func testBatchedNoiseMatchesPRF(t *testing.T) {
	key := [32]byte{1, 2, 3}
	for _, r := range []int{32, 64, 256} {
		for _, rows := range []int{1, 5, 17, 40} {
			got := newNoise(seeds{sA: key}, rows, 1, 1, r).al
			for i := 0; i < rows; i++ {
				want := make([]int8, r)
				denseNoiseRow(want, &key, &labelA, i)
				require.Equal(t, want, got[i*r:(i+1)*r], "r %d row %d", r, i)
			}
		}
		for _, k := range []int{1, 7, 8, 9, 127, 128, 129, 1000} {
			got := sparsePairs(&key, &labelB, k, r)
			for l := 0; l < k; l++ {
				out := prf(&key, &labelB, 1, uint32(l/8))
				u := binary.LittleEndian.Uint32(out[4*(l%8):])
				first := u & uint32(r-1)
				second := first ^ (1 + uint32((uint64(r-1)*uint64(u))>>32))
				require.Equal(t, noisePair{uint16(first), uint16(second)}, got[l], "r %d k %d l %d", r, k, l)
			}
		}
	}
}

// drawTickets gives every jackpot jackpot.ticket's ticket, under every
// implementation of hash16, for counts around its batches of 8, 16 and 64.
func TestDrawTicketsMatchesTicket(t *testing.T) {
	impltest.Run(t, func(t *testing.T) {
		sA := [32]byte{9, 8, 7}
		for _, n := range []int{0, 1, 5, 8, 16, 17, 63, 64, 65, 150} {
			js := make([]jackpot, n)
			for i := range js {
				for w := range js[i] {
					js[i][w] = uint32(i*31 + w*7 + 1)
				}
			}
			var got int
			drawTickets(js, &sA, func(i int, ticket *[32]byte) {
				require.Equal(t, got, i, "%d jackpots: out of order", n)
				require.Equal(t, js[i].ticket(&sA), *ticket, "%d jackpots: jackpot %d", n, i)
				got++
			})
			require.Equal(t, n, got, "%d jackpots: tickets drawn", n)
		}
	}, "hash16")
}

// newNoise, one pool over all four factors, gives each factor as the
// one-output PRF and the sparse generator give it alone.
func TestNewNoiseMatchesFactors(t *testing.T) {
	s := seeds{sA: [32]byte{4}, sB: [32]byte{5}}
	for _, sh := range [][4]int{{1, 1, 1, 32}, {17, 300, 129, 32}, {40, 3, 1000, 64}, {600, 700, 2048, 32}} {
		m, n, k, r := sh[0], sh[1], sh[2], sh[3]
		nz := newNoise(s, m, n, k, r)
		want := make([]int8, r)
		for i := 0; i < m; i++ {
			denseNoiseRow(want, &s.sA, &labelA, i)
			require.Equal(t, want, nz.al[i*r:(i+1)*r], "E_AL row %d", i)
		}
		for j := 0; j < n; j++ {
			denseNoiseRow(want, &s.sB, &labelB, j)
			require.Equal(t, want, nz.brt[j*r:(j+1)*r], "E_BRᵀ row %d", j)
		}
		require.Equal(t, sparsePairs(&s.sA, &labelA, k, r), nz.pairsA)
		require.Equal(t, sparsePairs(&s.sB, &labelB, k, r), nz.pairsB)
	}
}
