// Package pouw is Pearl's INT proof of useful work: the protocol that turns
// an exact int8 matrix product into lottery tickets, and a Miner that runs
// it on every product a program computes.
//
// # The protocol
//
// A product A·B of int7 matrices (entries in [−64, 64]) is mined under a Job
// (a 76-byte block Header carrying the network target, and a certificate
// version) and a Config (the inner dimension k, the noise rank r and the
// tile shape, as periodic Patterns). Seeded low-rank noise is added to both
// operands, the noisy product is computed exactly in int32, and the running
// sums of every output tile are folded into a transcript whose keyed hash is
// the tile's ticket. A ticket at or below the bound wins: its PlainProof
// opens the tile's rows of A and columns of B against the commitments
// (Merkle roots) they were mined under, and anyone can check it with Verify
// at the cost of one tile. The noise is then peeled off, so the caller gets
// the exact product. Two Profiles set the parameter rules: Pearl (mainnet,
// certificate version 3, the rank-penalised bound) and Local (the same
// algorithm with sizes relaxed for everyday training shapes).
//
// The bytes are Pearl's: headers, configurations, patterns, seeds, noise,
// transcripts, tickets and the bincode PlainProof agree with Pearl's own
// code and test vectors (testdata/vectors.json). A Proof is a PlainProof
// with its Job and Profile; its JSON form, a proof file, is what a Pearl
// gateway's submitPlainProof takes, plus the profile and free-form meta.
// Package pouw/gateway talks to a gateway.
//
// References of the form §N in this package's comments are sections of
// docs/PROTOCOL.md in this repository, which describes every byte, and
// lists (§13) every place where this code is stricter or looser than
// Pearl's.
//
// # The miner
//
// A Miner is a mining session: MatMul computes the exact product of two
// Matrix values and, when a job is available and the Policy finds a
// configuration the profile admits, mines it. Products that cannot be
// mined (a matrix × vector, k below the rank, no job) are still computed
// exactly, and their UnminedReason is counted in Stats. Every winning tile
// is verified before it is reported, once, to MinerConfig.OnProof; a
// ProofWriter there writes proof files atomically, off the miner's
// goroutine.
//
// # Errors
//
// Everything the protocol or the miner rejects is a RuleError whose
// ErrorCode names the one rule that was broken (ErrRank, ErrTile,
// ErrHighHash, …). Codes are stable values: branch on CodeOf(err), never on
// the text. Each rule is checked in one place: Profile.Check for the
// parameter rules, Verify for proofs, ParseProof and the UnmarshalBinary
// and UnmarshalJSON methods for encodings.
//
// # Concurrency
//
// A Miner, a ProofWriter and the package's functions are safe for
// concurrent use; a Miner computes each product on all cores (GOMAXPROCS).
// Values (Header, Config, Pattern, Job, Matrix, PlainProof, Proof) are
// plain data: share them freely once built, and do not change one that
// another goroutine is using. MinerConfig.OnProof is called from the
// goroutine that called MatMul and must not block.
package pouw
