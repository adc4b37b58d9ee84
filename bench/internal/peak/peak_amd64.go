//go:build amd64 && !purego

package peak

import "golang.org/x/sys/cpu"

// 12 independent zmm VPDPBUSD per iteration, 64 MACs each: more
// accumulators than the instruction's latency × throughput needs.
const macsPerIter = 12 * 64

func available() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI }

//go:noescape
func vnniLoop(iters int)
