//go:build !amd64 || purego

package quant

// hasAVX512 is false where no assembly is built: the Go kernels run.
const hasAVX512 = false

// asmKernels stands in for the assembly kernels, which are not built here;
// kern never returns it, since hasAVX512 is false.
var asmKernels = goKernels
