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
// Which products are mined: a product is written m×k×n (A is m×k, B is
// k×n, k is summed over). It is mined when the miner's profile has a tile
// for it (local: k ≥ 32, m, n ≥ 2; pearl: k ≥ 2048, a multiple of 64) and
// the job source has a job. Any other product (every matrix × vector and
// vector · vector product, k below the noise rank, no job) is computed in
// float with the same BLAS calls as Gorgonia's own product, counted in the
// miner's statistics as unmined with its reason (pouw.Stats.Unmined), and
// never quantised; WithQuantiseAll quantises it anyway. The choice is made
// per product at run time, from the shapes the node actually receives.
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
// Proof meta: every proof names its role, node and shape, and its step:
// pouw.Miner.SetStep's value when it was set (the train package's loop
// sets it per batch), otherwise how many times the node had run before.
//
// Determinism: the quantiser's arithmetic is float64 with explicit
// conversions (no FMA fusion), and the stochastic streams depend only on the
// seed, the node and the call count, so a rerun gives the same bits.
//
// Bad input: NaN or ±Inf in an operand is an error from the VM run that names
// the node; nothing is mined (a float-path product is checked on its result). Shape and dtype mismatches are
// errors when the graph is built.
package op
