//go:build !amd64 || purego

package vec8

func addPairsAsm(dst, src, f []int8, first, second []uint8) int { return 0 }

func outsideAsm(x []int8, lo, hi int8) int { return 0 }

func narrowAsm(dst []int16, stride int, src []int32, cols, rows int, neg bool) (ok, done bool) {
	return false, false
}

func widenAsm(dst []int16, stride int, src []int8, cols, rows int, neg bool) bool { return false }

func addPairsRowsAsm(dst, src, f []int8, r int, first, second []uint8, rows int) bool { return false }
