//go:build amd64 && !purego

package gemm

import (
	"unsafe"

	"github.com/usefulwork/minedmatmul/internal/parallel"
)

// kernel2 computes a 4×16 block with VPMADDWD on int16 pairs, which is exact
// for int8 inputs (VPMADDUBSW would saturate). a points at 4 rows of int16,
// lda bytes apart; b at the packed column panel: per pair step, 16 columns ×
// 2 int16. After each of nchunks chunks of chunkPairs steps the XOR of the 64
// accumulators is folded into the block's transcript (when lanes is non-nil:
// scratch, cleared first); restPairs more steps (the tail of k and the
// correction, which the transcript never sees) follow, the block is stored
// at dst, ldd int32 apart, and its transcript is XORed into tile: the
// transcript is linear over XOR, so the 4-row blocks' states combine that
// way into their tile's.
//
// The fold runs on 8 lanes (jackLanes): the accumulators are XORed down to
// one ymm, and each transcript word is kept as 8 lanes, rotated and XORed
// lane by lane, then XORed together once at the end. Rotation and XOR
// commute with that last XOR, so the words are the scalar fold's, without a
// horizontal reduction and a read-modify-write of memory in every chunk.
//
//go:noescape
func kernel2(a *int16, lda int, b *int16, chunkPairs, nchunks, restPairs int, dst *int32, ldd int, lanes *jackLanes, tile *Jackpot)

// jackLanes is a 4-row block's transcript while kernel2 runs: each of the 16
// words as 8 lanes whose XOR is the word.
type jackLanes [16][8]uint32

//go:noescape
func widenAVX2(dst *int16, src *int8, blocks int)

//go:noescape
func transpose8AVX2(dst *uint32, src *uint32, srcStride int, blocks int)

//go:noescape
func packPairsAVX2(dst *uint32, src *int8, srcStride int, blocks int)

// widen sets dst[i] = int16(src[i]) for every i < len(src). A row of 32 or
// more ends with the block of 32 that ends at its end, recomputing a few
// entries, instead of a scalar loop over its last len mod 32 (16 of an
// im2col row of 144).
func widen(dst []int16, src []int8) {
	dst = dst[:len(src)]
	n := len(src) &^ 31
	if n == 0 {
		for i, v := range src {
			dst[i] = int16(v)
		}
		return
	}
	widenAVX2(&dst[0], &src[0], n/32)
	if n < len(src) {
		t := len(src) - 32
		widenAVX2(&dst[t], &src[t], 1)
	}
}

// mulAVX2 widens the operands to int16 and appends the correction to them
// (its pairs come after the tail of k), so one loop computes both.
func mulAVX2(p *plan, dst []int32, a, bt []int8) {
	x := avx2Call{p: p, dst: dst, a: a, bt: bt}
	x.k2 = (p.k + 1) &^ 1
	x.kk = x.k2 + p.q
	x.chunkPairs = p.r / 2
	x.restPairs = (x.kk - 2*p.nchunks*x.chunkPairs) / 2
	if 2*p.m*x.kk <= residentA {
		x.mulResidentA()
		return
	}
	x.mulPackedB()
}

// residentA is the most bytes of widened A that mulResidentA keeps whole:
// well inside a Zen 3 core's 512 KiB L2 (2 MiB on recent Intel cores).
// Tests set it to 0 and to a large value to run each way on every shape.
var residentA = 320 << 10

// avx2Call is one Mul on the AVX2 kernel: the plan, the operands, and the
// widened layout, kk int16 a row: k rounded up to pairs (k2), then the
// correction's q entries.
type avx2Call struct {
	p                     *plan
	dst                   []int32
	a, bt                 []int8
	k2, kk                int
	chunkPairs, restPairs int
}

// mulPackedB packs all of B into column panels first, then hands out row
// panels (cut into column blocks when there are few), each widened once and
// run against every panel of its block.
func (x *avx2Call) mulPackedB() {
	p := x.p
	bPanel := 16 * x.kk // int16 per packed column panel
	bb := packed.Get(2 * p.colPanels * bPanel)
	defer packed.Put(bb)
	bPacked := unsafe.Slice((*int16)(unsafe.Pointer(&bb[0])), p.colPanels*bPanel)
	wides := make([][]int16, parallel.Workers(p.colPanels))
	parallel.For(p.colPanels, func(wk, pj int) {
		if wides[wk] == nil {
			wides[wk] = scratch16.Get(16 * x.k2)
		}
		x.packB(bPacked[pj*bPanel:(pj+1)*bPanel], pj, wides[wk])
	})
	for _, w := range wides {
		scratch16.Put(w)
	}
	colBlocks, items := p.workItems()
	type scratch struct {
		avx2Scratch
		a []int16 // the item's row panel, widened
	}
	scr := make([]scratch, parallel.Workers(items))
	parallel.For(items, func(w, item int) {
		s := &scr[w]
		pi, pj0, pj1 := p.itemRange(colBlocks, item)
		if s.a == nil {
			s.a = scratch16.Get(16 * x.kk)
		}
		x.widenA(s.a, pi)
		for pj := pj0; pj < pj1; pj++ {
			x.panel(&s.avx2Scratch, s.a, pi, bPacked[pj*bPanel:(pj+1)*bPanel], pj)
		}
	})
	for _, s := range scr {
		scratch16.Put(s.a)
	}
}

// mulResidentA is for a short A (a batch of activations times the weights):
// A is widened whole once and stays in L2, and the items are column panels,
// each packed by its worker and used at once by every row panel while it is
// in L1, instead of all of B being packed to memory first and read back
// once per row panel.
func (x *avx2Call) mulResidentA() {
	p := x.p
	ab := packed.Get(2 * p.rowPanels * 16 * x.kk)
	defer packed.Put(ab)
	aw := unsafe.Slice((*int16)(unsafe.Pointer(&ab[0])), p.rowPanels*16*x.kk)
	parallel.For(p.rowPanels, func(_, pi int) {
		x.widenA(aw[pi*16*x.kk:(pi+1)*16*x.kk], pi)
	})
	type scratch struct {
		avx2Scratch
		panel []int16
		wide  []int16
	}
	scr := make([]scratch, parallel.Workers(p.colPanels))
	parallel.For(p.colPanels, func(w, pj int) {
		s := &scr[w]
		if s.panel == nil {
			s.panel, s.wide = scratch16.Get(16*x.kk), scratch16.Get(16*x.k2)
		}
		x.packB(s.panel, pj, s.wide)
		for pi := 0; pi < p.rowPanels; pi++ {
			x.panel(&s.avx2Scratch, aw[pi*16*x.kk:(pi+1)*16*x.kk], pi, s.panel, pj)
		}
	})
	for _, s := range scr {
		scratch16.Put(s.panel)
		scratch16.Put(s.wide)
	}
}

// packB lays out column panel pj of B, with its correction, in dstp (16·kk
// int16): per pair step, 16 columns × 2 int16.
func (x *avx2Call) packB(dstp []int16, pj int, wide []int16) {
	p := x.p
	j0, w := p.colsOf(pj)
	if w < 16 || p.q%2 != 0 {
		// The correction's pairs are written below only for the panel's
		// w columns: no stale scratch in the others (whose outputs are
		// dropped) or in an odd q's last half pair.
		clear(dstp[16*x.k2:])
	}
	// As uint32, one word per (step, column).
	words := unsafe.Slice((*uint32)(unsafe.Pointer(&dstp[0])), len(dstp)/2)
	packPanel(words, x.bt[j0*p.k:], w, p.k, p.k, wide)
	if p.q == 0 {
		return
	}
	// The correction's pairs follow k's: rows of R as words (two int16 a
	// word when q is even), transposed 8×8 like the panel's own.
	done := 0
	if q2 := p.q / 2; w == 16 && p.q%2 == 0 && q2 >= 8 {
		rw := unsafe.Slice((*uint32)(unsafe.Pointer(&p.corr.R[j0*p.q])), 16*q2)
		dw := words[16*(x.k2/2):]
		blocks := q2 / 8
		transpose8AVX2(&dw[0], &rw[0], q2, blocks)
		transpose8AVX2(&dw[8], &rw[8*q2], q2, blocks)
		done = 16 * blocks
	}
	for c := 0; c < w; c++ {
		rr := p.corr.R[(j0+c)*p.q : (j0+c+1)*p.q]
		for f := done; f < len(rr); f++ {
			l := x.k2 + f
			dstp[32*(l/2)+2*c+l%2] = rr[f]
		}
	}
}

// widenA lays out row panel pi of A, with its correction, in sa (16·kk
// int16, rows of kk), padding rows included.
func (x *avx2Call) widenA(sa []int16, pi int) {
	p := x.p
	i0, h := p.rowsOf(pi)
	h4 := (h + 3) &^ 3
	clear(sa[h*x.kk : h4*x.kk]) // the padding rows; the others are written whole below
	for i := 0; i < h; i++ {
		row := sa[i*x.kk : (i+1)*x.kk]
		widen(row, x.a[(i0+i)*p.k:(i0+i+1)*p.k])
		clear(row[p.k:x.k2])
		if p.q > 0 {
			copy(row[x.k2:], p.corr.L[(i0+i)*p.q:(i0+i+1)*p.q])
		}
	}
}

// avx2Scratch is a worker's scratch for panel.
type avx2Scratch struct {
	out   [64]int32
	lanes jackLanes
}

// panel computes the block of row panel pi (widened in sa) and column panel
// pj (packed in bp) into dst, and its tile's transcript.
func (x *avx2Call) panel(s *avx2Scratch, sa []int16, pi int, bp []int16, pj int) {
	p := x.p
	i0, h := p.rowsOf(pi)
	h4 := (h + 3) &^ 3
	j0, wd := p.colsOf(pj)
	jack := p.jackpot(pi, pj)
	var lanes *jackLanes
	if jack != nil {
		lanes = &s.lanes
	}
	for g := 0; g < h4; g += 4 {
		direct := g+4 <= h && wd == 16
		out, ldd := &s.out[0], 16
		if direct {
			out, ldd = &x.dst[(i0+g)*p.n+j0], p.n
		}
		kernel2(&sa[g*x.kk], 2*x.kk, &bp[0], x.chunkPairs, p.nchunks, x.restPairs, out, ldd, lanes, jack)
		if !direct {
			for i := g; i < min(g+4, h); i++ {
				copy(x.dst[(i0+i)*p.n+j0:(i0+i)*p.n+j0+wd], s.out[(i-g)*16:(i-g)*16+wd])
			}
		}
	}
}

// packPanel lays out rows [0, w) of src (k int8 each, rows stride apart,
// w ≤ 16) as a packed panel: per pair step s < ⌈k/2⌉, 16 words, word c
// holding entries 2s and 2s+1 of row c as int16 (an odd k's last pair
// padded with 0), and the words of rows c ≥ w zero. A full panel is
// widened and transposed 8×8 words at a time straight from src; a narrower
// one is widened into wide (16·(k+1) int16 at least), zero rows after it,
// and transposed from there. The last pairs that do not fill a block of 8
// go one word at a time.
func packPanel(words []uint32, src []int8, w, k, stride int, wide []int16) {
	steps := (k + 1) / 2
	if w == 16 {
		blocks := k / 16
		if blocks > 0 {
			packPairsAVX2(&words[0], &src[0], stride, blocks)
			packPairsAVX2(&words[8], &src[8*stride], stride, blocks)
		}
		for c := 0; c < 16; c++ {
			row := src[c*stride : c*stride+k]
			for s := 8 * blocks; s < steps; s++ {
				var hi int8
				if 2*s+1 < k {
					hi = row[2*s+1]
				}
				words[16*s+c] = uint32(uint16(int16(row[2*s]))) | uint32(uint16(int16(hi)))<<16
			}
		}
		return
	}
	k2 := 2 * steps
	for c := 0; c < w; c++ {
		widen(wide[c*k2:(c+1)*k2], src[c*stride:c*stride+k])
		clear(wide[c*k2+k : (c+1)*k2])
	}
	clear(wide[w*k2 : 16*k2])
	pairs := unsafe.Slice((*uint32)(unsafe.Pointer(&wide[0])), 16*steps)
	blocks := steps / 8
	if blocks > 0 {
		transpose8AVX2(&words[0], &pairs[0], steps, blocks)
		transpose8AVX2(&words[8], &pairs[8*steps], steps, blocks)
	}
	for c := 0; c < 16; c++ {
		for s := 8 * blocks; s < steps; s++ {
			words[16*s+c] = pairs[c*steps+s]
		}
	}
}

//go:noescape
func sparseAccAVX2(panel *uint32, steps int, idx *uint16, acc *int32)

//go:noescape
func sparseAcc16AVX2(panel *uint32, steps int, idx *uint16, acc *int16)

//go:noescape
func unpackAcc16AVX2(dst *int32, rowStride int, acc *int16, groups int)

// acc16Row is the row of sparseAcc16AVX2's accumulators that holds panel row
// c: VPACKSSDW leaves rows 4–7 and 8–11 swapped.
var acc16Row = [16]int{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}

// int16Columns reports whether every column of the sparse factor idx (k
// rows, r columns) sums few enough entries of magnitude at most 128 to fit
// int16: 255 or fewer (255·128 < 32768).
func int16Columns(idx []uint16, r int) bool {
	if r > 1024 {
		return false
	}
	var n [1024]uint32
	for _, f := range idx {
		if n[f]++; n[f] > 255 {
			return false
		}
	}
	return true
}

// sparseMulAVX2 is SparseMul on packed 16-row panels: for each pair step,
// VPMADDWD against (1, 0) and (0, 1) splits the panel's words into the two
// entries' 16-row columns as int32, which are added into and subtracted
// from their columns of a r×16 accumulator in L1 (sparseAccAVX2). A short
// A (fewer panels than cores: a convolution's 16 channels over 78400
// positions) is also cut along k, each piece's sums added up after: int32
// addition wraps, so any order gives the same bits.
func sparseMulAVX2(dst []int32, a []int8, m, k int, idx []uint16, r int) {
	k2 := (k + 1) &^ 1
	steps := k2 / 2
	// An odd k's padding entry is 0: any column takes it unchanged.
	pidx := idx[:2*k]
	if k2 != k {
		pidx = append(append(make([]uint16, 0, 2*k2), idx[:2*k]...), 0, 1)
	}
	// Columns that fit int16 (almost always: a column sums about 2k/r
	// entries) take the int16 accumulators, half the memory traffic. A
	// piece of k sums fewer entries than the whole.
	narrow := int16Columns(pidx, r)
	blocks := (m + 15) / 16
	pieces := 1
	if w := parallel.Workers(steps / sparsePieceSteps); blocks < w {
		pieces = w
	}
	// Each piece's sums, when there are several: m×r a piece.
	var sums []int32
	if pieces > 1 {
		sums = scratchAcc.Get(pieces * m * r)
		defer scratchAcc.Put(sums)
	}
	type scratch struct {
		words []uint32
		wide  []int16
		acc   []int32
		acc16 []int16
	}
	scr := make([]scratch, parallel.Workers(blocks*pieces))
	parallel.For(blocks*pieces, func(w, item int) {
		s := &scr[w]
		if s.words == nil {
			s.words, s.wide = scratch32.Get(16*steps), scratch16.Get(16*k2)
			if narrow {
				s.acc16 = scratch16.Get(16 * r)
			} else {
				s.acc = scratchAcc.Get(16 * r)
			}
		}
		block, piece := item/pieces, item%pieces
		s0, s1 := piece*steps/pieces, (piece+1)*steps/pieces
		i0 := 16 * block
		h := min(16, m-i0)
		out := dst[i0*r:]
		if pieces > 1 {
			out = sums[(piece*m+i0)*r:]
		}
		packPanel(s.words, a[i0*k+2*s0:], h, min(2*s1, k)-2*s0, k, s.wide)
		if narrow {
			clear(s.acc16)
			sparseAcc16AVX2(&s.words[0], s1-s0, &pidx[4*s0], &s.acc16[0])
			if h == 16 && r%8 == 0 {
				unpackAcc16AVX2(&out[0], r, &s.acc16[0], r/8)
				return
			}
			for c := 0; c < h; c++ {
				o, row := out[c*r:(c+1)*r], acc16Row[c]
				for f := range o {
					o[f] = int32(s.acc16[16*f+row])
				}
			}
			return
		}
		clear(s.acc)
		sparseAccAVX2(&s.words[0], s1-s0, &pidx[4*s0], &s.acc[0])
		for c := 0; c < h; c++ {
			o := out[c*r : (c+1)*r]
			for f := range o {
				o[f] = s.acc[16*f+c]
			}
		}
	})
	for _, s := range scr {
		scratch32.Put(s.words)
		scratch16.Put(s.wide)
		scratchAcc.Put(s.acc)
		scratch16.Put(s.acc16)
	}
	if pieces > 1 {
		copy(dst[:m*r], sums[:m*r])
		for piece := 1; piece < pieces; piece++ {
			for i, v := range sums[piece*m*r : (piece+1)*m*r] {
				dst[i] += v
			}
		}
	}
}

// sparsePieceSteps is the fewest pair steps worth a piece of k of its own.
const sparsePieceSteps = 4096
