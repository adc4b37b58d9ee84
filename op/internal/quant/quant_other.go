//go:build !amd64 || purego

package quant

// hasAVX512 is false where no assembly is built: the Go kernels run.
const hasAVX512 = false

// hasAVX2 is false where no assembly is built.
const hasAVX2 = false

// avx2Kernels stands in for the AVX2 kernels, which are not built here.
var avx2Kernels = goKernels

// asmKernels stands in for the assembly kernels, which are not built here;
// kern never returns it, since hasAVX512 is false.
var asmKernels = goKernels
