//go:build !amd64 || purego

package op

// asmKernels is empty where no assembly is built: the Go kernels run.
var asmKernels laneKernels
