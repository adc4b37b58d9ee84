package main

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"lukechampine.com/blake3/guts"

	"github.com/usefulwork/minedmatmul/bench/internal/peak"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Rates are this CPU's measured ceilings, all cores together, in one round.
type Rates struct {
	Int8   float64 // exact int8 MACs per second (peak.Int8)
	Int16  float64 // int16 MACs per second (peak.Int16)
	Xor32  float64 // 32-bit lanes XORed per second (peak.Xor32)
	Blake3 float64 // bytes per second of pouw.CommitmentRoot on blake3Bytes
	Copy   float64 // bytes per second copied (read and written) of this row's operands, on all cores
	// Scalar is single keyed BLAKE3 compressions per second in plain Go
	// (guts.CompressNode), on all cores: what package hash16, which computes
	// the tickets and the noise PRF, runs on a CPU without AVX2. Not a
	// ceiling: the rate those phases have here, to tell their gap apart.
	Scalar float64
}

// blake3Bytes is the buffer the BLAKE3 Merkle rate is measured on: larger
// than any operand of the default rows, and than the L3 of the 2-core
// machines' slice.
const blake3Bytes = 64 << 20

var (
	blake3Once sync.Once
	blake3Buf  []byte
)

func blake3Data() []byte {
	blake3Once.Do(func() {
		blake3Buf = make([]byte, blake3Bytes)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range blake3Buf {
			blake3Buf[i] = byte(rng.Uint32())
		}
	})
	return blake3Buf
}

// instrRates measures the three instruction loops, each for about d.
func instrRates(d time.Duration) Rates {
	return Rates{Int8: peak.Rate(peak.Int8, d) * 1e9, Int16: peak.Rate(peak.Int16, d) * 1e9, Xor32: peak.Rate(peak.Xor32, d) * 1e9}
}

// measureRates measures every rate, each for about d; src and dst are the
// row's operands and as large a scratch, for the copy rate. The instruction
// loops run twice in a round, at its start (before) and here at its end, and
// the faster counts: a ceiling measured low is a neighbour's load, not the
// CPU.
func measureRates(d time.Duration, src, dst [][]int8, before Rates) Rates {
	r := instrRates(d)
	r.Int8, r.Int16, r.Xor32 = max(r.Int8, before.Int8), max(r.Int16, before.Int16), max(r.Xor32, before.Xor32)
	data := blake3Data()
	key := [32]byte{1}
	var sink byte
	t := timeIt(d, func() { root := pouw.CommitmentRoot(&key, data); sink ^= root[0] })
	r.Blake3 = float64(len(data)) / t.Seconds()
	bytes := 0
	for _, s := range src {
		bytes += len(s)
	}
	t = timeIt(d, func() { parallelCopy(dst, src) })
	r.Copy = float64(bytes) / t.Seconds()
	r.Scalar = scalarCompressions(d)
	_ = sink
	return r
}

// scalarCompressions is the rate of single-block keyed compressions in plain
// Go (guts.CompressNode, as hash16's generic path calls it), on all cores.
func scalarCompressions(d time.Duration) float64 {
	procs := runtime.GOMAXPROCS(0)
	const batch = 4096
	var wg sync.WaitGroup
	counts := make([]int, procs)
	start := time.Now()
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n guts.Node
			n.BlockLen = guts.BlockSize
			n.Flags = guts.FlagChunkStart | guts.FlagChunkEnd | guts.FlagRoot | guts.FlagKeyedHash
			for time.Since(start) < d {
				for i := 0; i < batch; i++ {
					out := guts.CompressNode(n)
					n.Block[i%16] ^= out[0]
				}
				counts[p] += batch
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, c := range counts {
		total += c
	}
	return float64(total) / time.Since(start).Seconds()
}

// parallelCopy copies each src[i] into dst[i], every slice cut into
// GOMAXPROCS parts copied side by side: the floor of any pass that reads an
// operand and writes one as large.
func parallelCopy(dst, src [][]int8) {
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for i := range src {
		n := len(src[i])
		for p := 0; p < procs; p++ {
			lo, hi := p*n/procs, (p+1)*n/procs
			wg.Add(1)
			go func() {
				defer wg.Done()
				copy(dst[i][lo:hi], src[i][lo:hi])
			}()
		}
	}
	wg.Wait()
}

// medianRates is the median of each rate over rounds.
func medianRates(rs []Rates) Rates {
	col := func(f func(Rates) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return medianF(xs)
	}
	return Rates{
		Int8:   col(func(r Rates) float64 { return r.Int8 }),
		Int16:  col(func(r Rates) float64 { return r.Int16 }),
		Xor32:  col(func(r Rates) float64 { return r.Xor32 }),
		Blake3: col(func(r Rates) float64 { return r.Blake3 }),
		Copy:   col(func(r Rates) float64 { return r.Copy }),
		Scalar: col(func(r Rates) float64 { return r.Scalar }),
	}
}

// compressionsPerByte is the BLAKE3 compressions per byte of a long keyed
// hash: 16 per 1024-byte chunk, plus about one parent node per chunk.
const compressionsPerByte = 17.0 / 1024

// Floors is the least time each part of a mined product can take on this
// CPU: its operation count at the measured ceiling. Zero ceilings (no
// vector unit measured) give zero floors.
type Floors struct {
	Kernel     time.Duration // m·n·k int8 MACs at the int8 peak
	Commit     time.Duration // (m+n)·k bytes at the BLAKE3 Merkle rate
	Noise      time.Duration // the noise PRF's compressions, plus forming A′, B′ at the copy rate
	DenoiseOps time.Duration // A·E_BL and E_AR·B′, the cheaper of the sparse and the dense way, or A·Bᵀ again (FloorsOf)
	Epilogue   time.Duration // the rank-2r correction: m·n·2r MACs at the int16 peak (0 when A·Bᵀ is computed again)
	Transcript time.Duration // one XOR of every tile accumulator per chunk of r: tiles·h·w·(dot_len/r) lanes
	Tickets    time.Duration // one keyed BLAKE3 compression per tile
}

// Protocol is the sum of the floors of everything mining adds to the kernel.
func (f Floors) Protocol() time.Duration {
	return f.Commit + f.Noise + f.DenoiseOps + f.Epilogue + f.Transcript + f.Tickets
}

// PRFCompressions is the number of keyed BLAKE3 compressions the noise of an
// m×k by k×n product of rank r takes: 32 entries of the dense factors E_AL
// (m×r) and E_BRᵀ (n×r) per output, and 8 pairs of each sparse factor (k
// pairs) per output. The four seed and salted-commitment hashes are left out.
func PRFCompressions(m, k, n, r int) float64 {
	return float64((m+n)*r)/32 + 2*float64((k+7)/8)
}

// FloorsOf computes the floors of row s mined under cfg with tiles tiles, at
// the rates rt.
func FloorsOf(s Shape, cfg pouw.Config, tiles int, rt Rates) Floors {
	m, k, n := float64(s.M), float64(s.K), float64(s.N)
	r := float64(cfg.Rank)
	at := func(ops, rate float64) time.Duration {
		if rate <= 0 {
			return 0
		}
		return time.Duration(ops / rate * 1e9)
	}
	compressions := rt.Blake3 * compressionsPerByte // per second
	chunks := float64(cfg.DotLen() / int(cfg.Rank))
	f := Floors{
		Kernel: at(m*n*k, rt.Int8),
		Commit: at((m+n)*k, rt.Blake3),
		Noise:  at(PRFCompressions(s.M, s.K, s.N, int(cfg.Rank)), compressions) + at((m+n)*k, rt.Copy),
		// With the ±1 factors sparse, two 32-bit additions per operand entry
		// (at the vector lane rate) and one pass over the operands; written out
		// densely, (m+n)·k·r MACs at the int8 peak. The floor is the cheaper.
		DenoiseOps: min(at(2*(m+n)*k, rt.Xor32)+at((m+n)*k, rt.Copy), at((m+n)*k*r, rt.Int8)),
		Epilogue:   at(m*n*2*r, rt.Int16),
		Transcript: at(float64(tiles)*float64(cfg.TileH()*cfg.TileW())*chunks, rt.Xor32),
		Tickets:    at(float64(tiles), compressions),
	}
	// For a short k the product of A and Bᵀ, computed again, costs less than
	// the denoising operands and the correction together; the miner then
	// times it as its denoise phase.
	if again := at(m*n*k, rt.Int8); again < f.DenoiseOps+f.Epilogue {
		f.DenoiseOps, f.Epilogue = again, 0
	}
	return f
}

// kernelCeiling is the best throughput of pouw.Multiply (GMAC/s) over a few
// shapes whose operands (a few MiB, widened to int16 by the AVX2 kernel) stay
// in the last-level cache, large enough that starting the workers and
// packing do not dominate, and that shape: what the kernel itself attains at
// best, against the instruction peak.
func kernelCeiling(d time.Duration) (float64, Shape) {
	best, at := 0.0, Shape{}
	for _, s := range []Shape{{512, 2048, 512}, {1024, 1024, 1024}, {1024, 2048, 1024}} {
		a, bt := int7Operands(s)
		dst := make([]int32, s.M*s.N)
		for range 3 {
			t := timeIt(d, func() {
				if _, err := pouw.Multiply(dst, a, bt); err != nil {
					panic(err)
				}
			})
			if g := gmacs(s, t); g > best {
				best, at = g, s
			}
		}
	}
	return best, at
}

// int7Operands are random A (m×k) and Bᵀ (n×k) with entries in [−64, 64].
func int7Operands(s Shape) (a, bt pouw.Matrix) {
	rng := rand.New(rand.NewPCG(uint64(s.M), uint64(s.N)))
	a = pouw.Matrix{Rows: s.M, Cols: s.K, Data: make([]int8, s.M*s.K)}
	bt = pouw.Matrix{Rows: s.N, Cols: s.K, Data: make([]int8, s.N*s.K)}
	for i := range a.Data {
		a.Data[i] = int8(rng.IntN(129) - 64)
	}
	for i := range bt.Data {
		bt.Data[i] = int8(rng.IntN(129) - 64)
	}
	return a, bt
}
