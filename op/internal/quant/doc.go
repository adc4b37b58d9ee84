// Package quant is the numeric half of package op's bridge to the mining
// protocol: it quantises float32 or float64 matrices to int7 (the range
// [-64, 64] that PROTOCOL.md §1 accepts) with one scale per row, and
// dequantises the exact int32 product the miner returns back to floats.
//
// Rows reads any strided layout (a View: row-major, column-major, sliced,
// broadcast) without materialising it, rounds half to even or, given a
// Noise, stochastically, and reports NaN or ±Inf as a *BadValueError.
// Dequant computes y[i][j] = sa[i]·c[i][j]·sb[j], setting or adding.
//
// Every result is bit-for-bit reproducible: the arithmetic is float64 with
// explicit conversions (no FMA fusion), and the stochastic streams depend
// only on their key and the element's index. Two implementations compute
// the same bits: a reference one, one element at a time (reference.go), and
// a fast one built on 16-lane kernels (quantfast.go), which are AVX-512
// assembly where the CPU has it (quant_amd64.s) and portable Go elsewhere.
// The assembly is registered with package internal/impl as quant/avx512,
// so tests run every implementation against the reference.
package quant
