package quant

import (
	"encoding/binary"
	"unsafe"
)

// transposeTile sets out[l·os+j] = t[j·tile+l] for j < jw, l < iw: 8×8 byte
// blocks transposed in uint64 registers (three rounds of masked swaps), the
// ragged edges byte by byte.
func transposeTile(out []int8, os int, t *[tile * tile]int8, jw, iw int) {
	if iw > 0 && jw > 0 {
		_ = out[(iw-1)*os+jw-1]
	}
	src := unsafe.Slice((*byte)(unsafe.Pointer(t)), len(t))
	dst := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), len(out))
	le := binary.LittleEndian
	j8, l8 := jw&^7, iw&^7
	for j := 0; j < j8; j += 8 {
		for l := 0; l < l8; l += 8 {
			s := src[j*tile+l:]
			r0 := le.Uint64(s[0*tile:])
			r1 := le.Uint64(s[1*tile:])
			r2 := le.Uint64(s[2*tile:])
			r3 := le.Uint64(s[3*tile:])
			r4 := le.Uint64(s[4*tile:])
			r5 := le.Uint64(s[5*tile:])
			r6 := le.Uint64(s[6*tile:])
			r7 := le.Uint64(s[7*tile:])
			r0, r1 = swap8(r0, r1, 8, 0x00ff00ff00ff00ff)
			r2, r3 = swap8(r2, r3, 8, 0x00ff00ff00ff00ff)
			r4, r5 = swap8(r4, r5, 8, 0x00ff00ff00ff00ff)
			r6, r7 = swap8(r6, r7, 8, 0x00ff00ff00ff00ff)
			r0, r2 = swap8(r0, r2, 16, 0x0000ffff0000ffff)
			r1, r3 = swap8(r1, r3, 16, 0x0000ffff0000ffff)
			r4, r6 = swap8(r4, r6, 16, 0x0000ffff0000ffff)
			r5, r7 = swap8(r5, r7, 16, 0x0000ffff0000ffff)
			r0, r4 = swap8(r0, r4, 32, 0x00000000ffffffff)
			r1, r5 = swap8(r1, r5, 32, 0x00000000ffffffff)
			r2, r6 = swap8(r2, r6, 32, 0x00000000ffffffff)
			r3, r7 = swap8(r3, r7, 32, 0x00000000ffffffff)
			d := dst[l*os+j:]
			le.PutUint64(d[0*os:], r0)
			le.PutUint64(d[1*os:], r1)
			le.PutUint64(d[2*os:], r2)
			le.PutUint64(d[3*os:], r3)
			le.PutUint64(d[4*os:], r4)
			le.PutUint64(d[5*os:], r5)
			le.PutUint64(d[6*os:], r6)
			le.PutUint64(d[7*os:], r7)
		}
		for l := l8; l < iw; l++ {
			for jj := j; jj < j+8; jj++ {
				out[l*os+jj] = t[jj*tile+l]
			}
		}
	}
	for j := j8; j < jw; j++ {
		for l := range iw {
			out[l*os+j] = t[j*tile+l]
		}
	}
}

// swap8 exchanges the off-diagonal sub-blocks of width s bits between a and
// b: a's odd sub-blocks with b's even ones.
func swap8(a, b uint64, s uint, mask uint64) (uint64, uint64) {
	t := ((a >> s) ^ b) & mask
	return a ^ t<<s, b ^ t
}
