//go:build !amd64 || purego

package gemm

const (
	hasAVX512 = false
	hasAVX2   = false
)

// Never called: the has* flags above are false. They exist so that Mul
// compiles the same on every platform.
func mulAVX512(p *plan, dst []int32, a, bt []int8) { mulGeneric(p, dst, a, bt) }
func mulAVX2(p *plan, dst []int32, a, bt []int8)   { mulGeneric(p, dst, a, bt) }

// residentA switches the AVX2 kernel's loop order (avx2_amd64.go).
var residentA = 0

func sparseMulAVX2(dst []int32, a []int8, m, k int, idx []uint16, r int) {
	sparseMulGeneric(dst, a, m, k, idx, r)
}
