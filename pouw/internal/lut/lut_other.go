//go:build !amd64 || purego

package lut

func addPairsAsm(dst, src, f []int8, first, second []uint8) int { return 0 }
