package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/usefulwork/minedmatmul/pouw"
)

const mineAbout = `Mine multiplies two seeded random int7 matrices, A (m×k) and Bᵀ (n×k) with
entries uniform in [-64, 64], under the development job (pouw.DevJob) and
the default policy with the given rank and tile, once. Every winning tile's
proof is written to -out as proof-<ID>.json, then a summary is printed: the
shape and configuration, tiles, proofs found and expected, the time of each
phase and the files written. The same flags give the same matrices, the same
proofs and the same file names.

The target is -nbits, or else the one that finds a proof per -macs-per-proof
multiply-accumulates of mined work under the profile (Pearl's bound is
penalised by r/128, which this accounts for). The exit status is 1 if the
product could not be mined (for instance a shape the profile does not admit).`

// defaultMACsPerProof makes the default 256³ product find a few proofs.
const defaultMACsPerProof = 1 << 22

// mineFlags are mine's parsed options.
type mineFlags struct {
	m, k, n, rank int
	tileH, tileW  int
	nbits         nbitsFlag
	macsPerProof  float64
	profile       pouw.Profile
	seed          uint64
	out           string
}

func runMine(stdout, stderr io.Writer, args []string) int {
	f, code, done := parseMineFlags(stderr, args)
	if done {
		return code
	}
	if err := mine(stdout, f); err != nil {
		fmt.Fprintf(stderr, "pouw mine: %v\n", err)
		return exitFail
	}
	return exitOK
}

func parseMineFlags(stderr io.Writer, args []string) (f mineFlags, code int, done bool) {
	fs := newFlagSet(stderr, "mine", "[flags]", mineAbout)
	fs.IntVar(&f.m, "m", 256, "rows `M` of A")
	fs.IntVar(&f.k, "k", 256, "inner dimension `K`: columns of A, rows of B")
	fs.IntVar(&f.n, "n", 256, "columns `N` of B")
	fs.IntVar(&f.rank, "rank", 0, "noise rank `R` (0: the profile's minimum, 32 local, 128 pearl)")
	tile := fs.String("tile", "16x16", "largest tile `HxW` the policy may choose")
	fs.Var(&f.nbits, "nbits", "compact target `HEX` (e.g. 0x1f00ffff); excludes -macs-per-proof")
	fs.Float64Var(&f.macsPerProof, "macs-per-proof", 0, fmt.Sprintf("expected mined MACs per proof `F`, sets the target (default %d)", defaultMACsPerProof))
	profile := fs.String("profile", "local", "profile `NAME`: local or pearl")
	fs.Uint64Var(&f.seed, "seed", 1, "`S`, the seed of the random matrices")
	fs.StringVar(&f.out, "out", "proofs", "directory `DIR` the proofs are written to (created if needed)")
	if code, done := parseFlags(fs, args); done {
		return f, code, true
	}
	fail := func(format string, a ...any) (mineFlags, int, bool) {
		fmt.Fprintf(stderr, "pouw mine: "+format+"\n", a...)
		return f, exitUsage, true
	}
	if fs.NArg() != 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if f.m <= 0 || f.k <= 0 || f.n <= 0 {
		return fail("m, k and n must be positive (got %d, %d, %d)", f.m, f.k, f.n)
	}
	if f.rank < 0 {
		return fail("rank must not be negative (got %d)", f.rank)
	}
	var err error
	if f.tileH, f.tileW, err = parseTile(*tile); err != nil {
		return fail("%v", err)
	}
	if f.profile, err = pouw.ParseProfile(*profile); err != nil {
		return fail("%v", err)
	}
	if f.nbits.set && f.macsPerProof != 0 {
		return fail("give -nbits or -macs-per-proof, not both")
	}
	if f.macsPerProof == 0 {
		f.macsPerProof = defaultMACsPerProof
	}
	if !(f.macsPerProof >= 1) {
		return fail("macs-per-proof must be at least 1 (got %g)", f.macsPerProof)
	}
	return f, exitOK, false
}

// parseTile reads "HxW" with both sides positive.
func parseTile(s string) (h, w int, err error) {
	hs, ws, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		h, err = strconv.Atoi(hs)
		if err == nil {
			w, err = strconv.Atoi(ws)
		}
	}
	if !ok || err != nil || h <= 0 || w <= 0 {
		return 0, 0, fmt.Errorf("tile %q: want HxW with positive H and W, e.g. 16x16", s)
	}
	return h, w, nil
}

// randomInt7 returns a rows×cols matrix with entries uniform in [-64, 64].
func randomInt7(rng *rand.Rand, rows, cols int) pouw.Matrix {
	x := pouw.Matrix{Rows: rows, Cols: cols, Data: make([]int8, rows*cols)}
	for i := range x.Data {
		x.Data[i] = int8(rng.IntN(129) - 64)
	}
	return x
}

func mine(w io.Writer, f mineFlags) error {
	policy := pouw.DefaultPolicy{Rank: f.rank, TileH: f.tileH, TileW: f.tileW}
	nbits := f.nbits.v
	if !f.nbits.set {
		// The profile's bound decides how much work a proof costs; under
		// Pearl it is penalised by r/128, so ask for a target that much
		// easier. A shape the policy rejects is mined by nobody: any
		// target does.
		rank := f.profile.MinRank()
		if cfg, err := policy.Choose(f.profile, f.m, f.k, f.n); err == nil {
			rank = int(cfg.Rank)
		}
		nbits = f.profile.Nbits(f.macsPerProof, rank)
	}
	target, err := pouw.Target(nbits)
	if err != nil {
		return err
	}
	// Open the directory first: a bad -out should fail before the work.
	writer, err := pouw.NewProofWriter(f.out, nil)
	if err != nil {
		return err
	}
	defer writer.Close()

	start := time.Now()
	// A is drawn before Bᵀ, row-major, from one stream: the seed fixes both.
	rng := rand.New(rand.NewPCG(f.seed, 0))
	a := randomInt7(rng, f.m, f.k)
	bt := randomInt7(rng, f.n, f.k)
	genTime := time.Since(start)

	var found []pouw.Found
	miner, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(nbits),
		Profile: f.profile,
		Policy:  policy,
		OnProof: func(x pouw.Found) {
			found = append(found, x)
			writer.OnProof(x)
		},
	})
	if err != nil {
		return err
	}
	prod, err := miner.MatMul(a, bt, pouw.Tag{Role: "mine", Node: fmt.Sprintf("seed-%d", f.seed)})
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "shape    A %dx%d · B %dx%d  (m=%d k=%d n=%d, %d MACs), seed %d\n",
		f.m, f.k, f.k, f.n, f.m, f.k, f.n, uint64(f.m)*uint64(f.k)*uint64(f.n), f.seed)
	fmt.Fprintf(w, "job      dev job, profile %s, nbits %#08x, kernel %s\n", f.profile, nbits, miner.Kernel())
	if !prod.Mined {
		fmt.Fprintf(w, "unmined  %v\n", prod.Reason)
		return errors.New("product not mined (reason above)")
	}

	writeStart := time.Now()
	if err := writer.Close(); err != nil {
		return fmt.Errorf("write proofs: %w", err)
	}
	files := writer.Written() // in the order found: one writer, first in first out
	writeTime := time.Since(writeStart)

	st := miner.Stats()
	cb, err := prod.Config.MarshalBinary()
	if err != nil {
		return err
	}
	perProof := f.profile.ExpectedMACs(target, int(prod.Config.Rank))
	fmt.Fprintf(w, "config   %s  (%x)\n", prod.Config, cb)
	fmt.Fprintf(w, "tiles    %d, %d MACs mined (%.1f%% of the product)\n",
		st.Tiles, st.MinedMACs, 100*float64(st.MinedMACs)/float64(st.MACs))
	fmt.Fprintf(w, "proofs   %d found, %.2f expected (%.4g MACs per proof)\n",
		st.Proofs, float64(st.MinedMACs)/perProof, perProof)
	ph := prod.Phases
	fmt.Fprintf(w, "time     random %v  commit %v  noise %v  gemm %v  tickets %v  denoise %v  write %v  total %v\n",
		round(genTime), round(ph.Commit), round(ph.Noise), round(ph.GEMM), round(ph.Tickets), round(ph.Denoise),
		round(writeTime), round(genTime+ph.Total()+writeTime))
	if len(files) == 0 {
		fmt.Fprintf(w, "files    none written to %s\n", f.out)
	}
	for i, p := range files {
		label := ""
		if i == 0 {
			label = "files"
		}
		x := found[i]
		fmt.Fprintf(w, "%-8s %s  tile (%d,%d) ticket %x\n", label, p, x.RowOffset, x.ColOffset, x.Ticket[:])
	}
	return nil
}

// round keeps three significant figures or so of a duration.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
