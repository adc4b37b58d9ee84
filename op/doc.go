// Package op is the Gorgonia side of mining: MinedMatMul, an op that
// computes matrix products through a pouw.Miner, and Mul, a drop-in
// replacement for gorgonia.Mul that builds it.
//
// One product goes through the bridge to the protocol:
//
//	float32/float64 X (m×k), W (k×n)      any layout: row-major, thunked
//	                                       transpose, column-major, strided view
//	→ int7 X per row, W per column         scales sx[m], sw[n]; round half to even
//	                                       (stochastic, seeded, for gradients)
//	→ pouw.Miner.MatMul(Xq, Wqᵀ)           the exact int32 product, mined when its
//	                                       shape fits the miner's profile
//	→ Y[i][j] = sx[i]·C[i][j]·sw[j]
//
// The quantiser reads Wᵀ straight from W's memory (per-column scales of W
// are per-row scales of Wᵀ), so no operand is copied or transposed before it
// is quantised, and none is left transposed afterwards.
//
// The backward pass is mined too: SymDiff (TapeMachine) and DoDiff
// (LispMachine) compute the gradients with MinedMatMul ops carrying the
// transposes as flags (GradProducts) and the roles grad-A and grad-B, which
// appear in the miner's statistics (pouw.Stats.ByRole) and, with the node's
// name, in the meta of every proof.
//
// Accuracy: int7 with per-row and per-column scales leaves a relative error
// of about 1.5–2.5 % per product on Gaussian-like data (see the tolerance
// derivation in the tests). The incoming gradient is rounded stochastically
// by default (WithGradRounding), so its many small entries are not all
// flushed to zero and the gradient stays unbiased.
//
// Determinism: the quantiser's arithmetic is float64 with explicit
// conversions (no FMA fusion), and the stochastic streams depend only on the
// seed, the node and the call count, so a rerun gives the same bits.
//
// Bad input: NaN or ±Inf in an operand is an error from the VM run that names
// the node; nothing is multiplied or mined. Shape and dtype mismatches are
// errors when the graph is built.
package op
