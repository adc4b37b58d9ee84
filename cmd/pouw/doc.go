// Command pouw verifies, inspects and mines proofs of Pearl's INT
// proof-of-useful-work (package pouw, docs/PROTOCOL.md).
//
// Usage:
//
//	pouw <command> [flags] [arguments]
//
// The commands are:
//
//	verify   check proof files; one OK/FAIL line each, exit 0 only if all are valid
//	inspect  print every value derived while verifying one proof file, as JSON
//	mine     mine one product of seeded random int7 matrices and write the proofs found
//	submit   send proof files to a Pearl gateway; one line each, exit 0 only if all were submitted
//	audit    check a training receipt and the proofs beside it; exit 0 only if every check passed
//	help     show the usage
//
// Flags may be written -flag or --flag, and come before the arguments. The
// exit status is 0 on success, 1 when a proof is invalid or the work failed,
// and 2 for a usage error.
//
// # Verify
//
//	pouw verify [-nbits HEX] [-cert-version V] [-profile local|pearl] FILE...
//
// Verify checks each proof file under the job and profile it carries and
// prints one line per file:
//
//	$ pouw verify proofs/*.json
//	OK    proofs/proof-023a….json  ticket=0fa5f8dd…8701 tile=16x16 at (144,96) profile=local cert=3 k=256 r=32 nbits=0x1e040000
//	FAIL  proofs/bad.json  ErrBadMerkleProof: A: merkle: computed root b500…6fd5 does not match committed root 1b95…6a23
//	FAIL  proofs/cut.json  ErrBadEncoding: proof JSON: unexpected EOF
//	FAIL  proofs/gone.json  ErrIO: open: no such file or directory
//
// A failure names the pouw.ErrorCode that rejected the proof; ErrIO (a file
// that cannot be read) and ErrInternal (a verifier bug) are this tool's own
// labels. -nbits checks the tickets against another compact target, as a pool
// checks shares against an easier one (pouw.VerifyOptions.NbitsOverride):
//
//	$ pouw verify -nbits 0x2000ffff proofs/*.json
//
// A proof is checked under certificate version 3 (Pearl mainnet) and the
// profile its configuration requires, or those -cert-version and -profile
// ask for (pouw.VerifyOptions): a proof labelled otherwise fails, so a
// relabelled proof never passes.
//
// # Inspect
//
//	pouw inspect [-nbits HEX] [-cert-version V] [-profile local|pearl] FILE
//
// Inspect prints, as JSON, everything pouw.Verification derives from one
// proof: profile, certificate version, shape, rank, tile, the 52 config
// bytes, the tile's offsets and both patterns, the job key, hash_a and
// hash_b, the salted HA and HB, the seeds s_B and s_A, the sixteen jackpot
// words, the ticket (hex of its little-endian bytes, and as an integer), the
// bound, nbits, target, the expected MACs per proof, and the verdict. It is
// what to compare, value by value, when two implementations disagree. For an
// invalid proof it prints the values derived up to the failure and exits 1.
//
//	$ pouw inspect proofs/proof-023a….json
//	{
//	  "file": "proofs/proof-023a….json",
//	  "profile": "local",
//	  "cert_version": 3,
//	  …
//	  "ticket": "0fa5f8dd…8701",
//	  "ticket_int": "0x01879b12…a50f",
//	  "bound_hex": "0x0400000000…",
//	  "verdict": "valid"
//	}
//
// # Mine
//
//	pouw mine [-m M] [-k K] [-n N] [-rank R] [-tile HxW] [-nbits HEX | -macs-per-proof F]
//	          [-profile local|pearl] [-seed S] [-out DIR]
//
// Mine draws A (m×k) and Bᵀ (n×k) with entries uniform in [-64, 64] from a
// PCG generator seeded with -seed, multiplies them once under the development
// job pouw.DevJob and pouw.DefaultPolicy, writes every winning tile's proof to
// DIR with a pouw.ProofWriter, and prints a summary. The same flags give the
// same proofs under the same file names. The defaults are m=k=n=256, the
// profile's minimum rank, tiles up to 16x16, a target that finds a proof per
// 2²² MACs of mined work, profile local, seed 1 and DIR ./proofs.
//
//	$ pouw mine --out /tmp/p
//	shape    A 256x256 · B 256x256  (m=256 k=256 n=256, 16777216 MACs), seed 1
//	job      dev job, profile local, nbits 0x1e040000, kernel reference
//	config   k=256 r=32 tile=16x16  (00010000200000…)
//	tiles    256, 16777216 MACs mined (100.0% of the product)
//	proofs   4 found, 4.00 expected (4.194e+06 MACs per proof)
//	time     random 601µs  commit 261µs  noise 283µs  gemm 14.46ms  tickets 601µs  denoise 2.89ms  write 4.48ms  total 23.58ms
//	files    /tmp/p/proof-2a2001df3b052e0b91704792218cc7b7.json  tile (96,144) ticket 11a6…5503
//	         …
//
// A shape the profile does not admit (under pearl, k below 1024 for one) is
// computed but not mined: mine prints the reason and exits 1.
//
// # Submit
//
//	pouw submit [-gateway ADDR] [-timeout D] [-max-request BYTES] FILE...
//
// Submit sends each proof file to a Pearl gateway with submitPlainProof
// (docs/GATEWAY.md) and prints one line per file: "submitted", or "error"
// with the gateway's code and message, a file that does not parse, or a
// gateway that cannot be reached. ADDR is unix:///path or a path (a Unix
// socket), tcp://host:port or host:port; the default is pearl-gateway's own,
// unix:///tmp/pearlgw.sock. A request line longer than -max-request (1 MiB
// by default, the smaller limit of pearl-gateway's versions) is not sent:
// the gateway would cut it. It exits 0 only if every file was submitted.
//
//	$ pouw submit --gateway tcp://127.0.0.1:8337 proofs/*.json
//	submitted  proofs/proof-023a….json  id=023a… header=00000020a7f1…
//	error      proofs/proof-9b1c….json  gateway error -32001: mining_paused
//
// # Audit
//
//	pouw audit [-samples N] [-data DIR] DIR
//
// Audit checks the training receipt a mined run wrote into DIR (package
// train/receipt, docs/RECEIPTS.md) and the proof files beside it, without
// the model's code: the records' hash chain; every proof verifies and is a
// product the receipt records; every checkpoint is the file the receipt
// names, and the weight operands re-quantised from it give the recorded
// commitment roots; at N sampled steps, the first layer's input rebuilt
// from the declared dataset (MNIST, from -data or the Go module cache) and
// the recorded batch gives its recorded root.
//
//	$ pouw audit proofs
//	receipt      proofs/receipt.jsonl: 9610 records chained, model "mlp 784-512-10" (digest 026955f5f05a653d…), 1800 steps, 7800 mined products
//	proofs       12 verify and are products of this run
//	checkpoints  7 match their hashes; 612 weight operands re-derived from them
//	inputs       5 steps: 10 first-layer operands rebuilt from mnist
//	claimed      1800 steps, test accuracy 97.88 % (replayed only by the training program's -audit)
//	OK    in 1.282s
//
// A failed check prints a FAIL line naming it, and the exit status is 1.
package main
