//go:build amd64 && !purego

package peak

import "golang.org/x/sys/cpu"

// The same test as package gemm applies before running its VNNI kernel.
var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI

// Each loop runs 12 independent accumulators per iteration: more than any
// of these instructions' latency × throughput needs.
func loopFor(kind Kind) loop {
	switch {
	case hasVNNI:
		switch kind {
		case Int8:
			return loop{vnniLoop, 12 * 64, "VPDPBUSD zmm"}
		case Int16:
			return loop{vnniWordLoop, 12 * 32, "VPDPWSSD zmm"}
		case Xor32:
			return loop{xorZLoop, 12 * 16, "VPXORD zmm"}
		}
	case cpu.X86.HasAVX2:
		switch kind {
		case Int8, Int16:
			return loop{maddwdLoop, 12 * 16, "VPMADDWD+VPADDD ymm"}
		case Xor32:
			return loop{xorYLoop, 12 * 8, "VPXOR ymm"}
		}
	}
	return loop{}
}

//go:noescape
func vnniLoop(iters int)

//go:noescape
func vnniWordLoop(iters int)

//go:noescape
func xorZLoop(iters int)

//go:noescape
func maddwdLoop(iters int)

//go:noescape
func xorYLoop(iters int)
