//go:build amd64 && !purego

package gemm

import (
	"encoding/binary"
	"unsafe"

	"github.com/usefulwork/minedmatmul/internal/parallel"
)

// kernel512 computes one 16×16 output panel with VPDPBUSD (u8×s8). a points at
// 16 rows of A' lda bytes apart, read in place and broadcast four bytes at a
// time (the signed operand); b is the packed column panel: per quad of k, 16
// columns × 4 bytes of B'+128 (the unsigned operand). After each of nchunks
// chunks of chunkQuads quads (a multiple of 4) and after the tailQuads that
// follow, the accumulator of row i drops corr[s·16+i] = 128·Σ_chunk A'[i], so
// every accumulator the transcript sees is the exact a·b. When jack is
// non-nil, the XOR of the 256 accumulators is folded into jack after every
// chunk. Then steps int16 pairs of the correction (l: per step 16 rows × 2
// int16; r: 16 columns × 2 int16) are added with VPDPWSSD, and the panel is
// stored at dst, ldd int32 apart.
//
//go:noescape
func kernel512(a *int8, lda int, b *byte, corr *int32, chunkQuads, nchunks, tailQuads int, l, r *byte, steps int, dst *int32, ldd int, jack *Jackpot)

// transpose16 packs blocks×64 bytes of k of 16 full rows of B' (ld bytes
// apart) the way packB512 does, 16×16 dword transposes with the +128 flip.
//
//go:noescape
func transpose16(dst *byte, src *int8, ld, blocks int)

// sums128 sets dst[16·s] = 128·Σ a[s·chunkLen .. (s+1)·chunkLen) for s <
// nchunks; chunkLen is a positive multiple of 32.
//
//go:noescape
func sums128(dst *int32, a *int8, chunkLen, nchunks int)

func mulAVX512(p *plan, dst []int32, a, bt []int8) {
	k4 := (p.k + 3) &^ 3
	bPanel := 16 * k4     // bytes of one packed column panel of B'+128
	cPanel := 32 * p.q    // bytes of one packed panel of the correction (q/2 steps × 64)
	nc1 := p.nchunks + 1  // chunk corrections, then the tail's
	corrPanel := 16 * nc1 // int32 per row panel
	buf := packed.Get(p.colPanels*(bPanel+cPanel) + p.rowPanels*cPanel)
	defer packed.Put(buf)
	bPacked := buf[:p.colPanels*bPanel]
	rPacked := buf[p.colPanels*bPanel : p.colPanels*(bPanel+cPanel)]
	lPacked := buf[p.colPanels*(bPanel+cPanel):]
	corr := make([]int32, p.rowPanels*corrPanel)

	// Preparation, in parallel: pack every column panel of B' (and R), and
	// compute every row panel's chunk sums (and pack its L).
	parallel.For(p.colPanels+p.rowPanels, func(_, it int) {
		if it < p.colPanels {
			j0, w := p.colsOf(it)
			packB512(bPacked[it*bPanel:(it+1)*bPanel], bt, j0, w, p.k)
			if p.q > 0 {
				packPairs(rPacked[it*cPanel:(it+1)*cPanel], p.corr.R, j0, w, p.q)
			}
			return
		}
		pi := it - p.colPanels
		i0, h := p.rowsOf(pi)
		rowSums512(corr[pi*corrPanel:(pi+1)*corrPanel], a, i0, h, p.k, p.r, p.nchunks)
		if p.q > 0 {
			packPairs(lPacked[pi*cPanel:(pi+1)*cPanel], p.corr.L, i0, h, p.q)
		}
	})

	chunkQuads := p.r / 4
	tailQuads := (k4 - p.nchunks*p.r) / 4
	colBlocks, items := p.workItems()
	type scratch struct {
		a   []int8
		out [256]int32
	}
	scr := make([]scratch, parallel.Workers(items))
	parallel.For(items, func(w, item int) {
		s := &scr[w]
		pi, pj0, pj1 := p.itemRange(colBlocks, item)
		i0, h := p.rowsOf(pi)
		aPtr, lda := unsafe.Pointer(&a[i0*p.k]), p.k
		// The kernel reads 16 whole rows, rounded up to quads: a short panel,
		// or the last rows when k%4 ≠ 0 (the read would run past the slice),
		// are copied into a zero-padded scratch panel.
		if h < 16 || (i0+16 == p.m && p.k%4 != 0) {
			if s.a == nil {
				s.a = make([]int8, 16*k4)
			}
			clear(s.a)
			for i := 0; i < h; i++ {
				copy(s.a[i*k4:], a[(i0+i)*p.k:(i0+i+1)*p.k])
			}
			aPtr, lda = unsafe.Pointer(&s.a[0]), k4
		}
		var lPtr *byte
		if p.q > 0 {
			lPtr = &lPacked[pi*cPanel]
		}
		for pj := pj0; pj < pj1; pj++ {
			j0, wd := p.colsOf(pj)
			var rPtr *byte
			if p.q > 0 {
				rPtr = &rPacked[pj*cPanel]
			}
			direct := h == 16 && wd == 16
			out, ldd := &s.out[0], 16
			if direct {
				out, ldd = &dst[i0*p.n+j0], p.n
			}
			kernel512((*int8)(aPtr), lda, &bPacked[pj*bPanel], &corr[pi*corrPanel],
				chunkQuads, p.nchunks, tailQuads, lPtr, rPtr, p.q/2, out, ldd, p.jackpot(pi, pj))
			if !direct {
				for i := 0; i < h; i++ {
					copy(dst[(i0+i)*p.n+j0:(i0+i)*p.n+j0+wd], s.out[i*16:i*16+wd])
				}
			}
		}
	})
}

// packB512 packs columns j0..j0+w of B' (rows of bt) for kernel512: quad q,
// column c at byte 64q+4c holds B'[4q..4q+4)[c]+128. Columns past w hold 128
// (B' = 0, so their accumulators are exactly 0 and leave the transcript's XOR
// alone), and bytes past k hold 0 (whatever A' holds there then adds nothing).
func packB512(dst []byte, bt []int8, j0, w, k int) {
	q0 := 0
	if w == 16 && k >= 64 {
		blocks := k / 64
		transpose16(&dst[0], &bt[j0*k], k, blocks)
		q0 = 16 * blocks
	}
	full := k / 4
	for c := 0; c < 16; c++ {
		var row []byte
		if c < w {
			row = int8Bytes(bt[(j0+c)*k : (j0+c+1)*k])
		}
		for q := q0; q < full; q++ {
			v := uint32(0x80808080)
			if row != nil {
				v ^= binary.LittleEndian.Uint32(row[4*q:])
			}
			binary.LittleEndian.PutUint32(dst[64*q+4*c:], v)
		}
		if k%4 != 0 {
			var quad [4]byte
			for l := 4 * full; l < k; l++ {
				quad[l-4*full] = 0x80
				if row != nil {
					quad[l-4*full] ^= row[l]
				}
			}
			copy(dst[64*full+4*c:], quad[:])
		}
	}
}

// packPairs packs rows i0..i0+h of a row-major ?×q int16 matrix into q/2
// steps of 16 rows × 2 int16 (64 bytes a step), zero past h. A pair is one
// little-endian uint32 in both layouts, so this is a 16×(q/2) transpose of
// words.
func packPairs(dst []byte, x []int16, i0, h, q int) {
	words := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)/4)
	if h < 16 {
		clear(words)
	}
	for i := 0; i < h; i++ {
		row := x[(i0+i)*q : (i0+i+1)*q]
		pairs := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(row))), q/2)
		for t, v := range pairs {
			words[16*t+i] = v
		}
	}
}

// rowSums512 fills one row panel's corrections: corr[16s+i] = 128·Σ of row
// i0+i of A' over chunk s (s < nchunks), and corr[16·nchunks+i] over the tail.
func rowSums512(corr []int32, a []int8, i0, h, k, r, nchunks int) {
	clear(corr)
	for i := 0; i < h; i++ {
		row := a[(i0+i)*k : (i0+i+1)*k]
		if nchunks > 0 {
			sums128(&corr[i], &row[0], r, nchunks)
		}
		tail := row[nchunks*r:]
		n32 := len(tail) &^ 31
		var t int32
		if n32 > 0 {
			sums128(&t, &tail[0], n32, 1)
		}
		// A separate sum: t is in memory (its address went to sums128), and
		// adding into it would wait on a store-to-load forward per byte.
		var rest int32
		for _, v := range tail[n32:] {
			rest += 128 * int32(v)
		}
		corr[16*nchunks+i] = t + rest
	}
}

func int8Bytes(x []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}
