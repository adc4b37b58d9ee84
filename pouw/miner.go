package pouw

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Found is one winning tile, reported through MinerConfig.OnProof.
type Found struct {
	Proof                *Proof
	Ticket               [32]byte
	RowOffset, ColOffset int
}

// Tag says who asked for a product; it ends up in the statistics (by role)
// and in the meta of every proof the product finds.
type Tag struct {
	Role string // e.g. "forward", "grad-A", "grad-B"
	Node string // e.g. the Gorgonia node's name
}

// MinerConfig configures a Miner.
type MinerConfig struct {
	Jobs    JobSource // required
	Profile Profile   // Local when zero
	Policy  Policy    // DefaultPolicy{} when nil
	Kernel  Kernel    // DefaultKernel() when nil
	// OnProof is called once per winning tile, synchronously from the
	// goroutine that computed the product: hand long work (disk, network)
	// to another goroutine.
	OnProof func(Found)
}

// Miner is a mining session: every product it computes is exact and, when
// its shape fits the profile, mined. It is safe for concurrent use.
type Miner struct {
	cfg  MinerConfig
	step atomic.Int64

	mu    sync.Mutex
	stats Stats
}

// Stats are a Miner's running totals.
type Stats struct {
	Products       int64            // products computed, mined or not
	Mined          int64            // products mined
	UnminedReasons map[string]int64 // unmined products, by reason
	MACs           uint64           // multiply-accumulates of all products (m·n·k)
	MinedMACs      uint64           // multiply-accumulates inside tiles: the lottery's work
	Tiles          int64            // tickets drawn
	Proofs         int64            // winning tiles
	Paused         int64            // unmined products for want of a job (the job source failed or paused)
	Phases         Phases           // time in each phase, summed over products
	ByRole         map[string]RoleStats
}

// RoleStats are the totals of one Tag.Role.
type RoleStats struct {
	Products, Mined int64
	MACs, MinedMACs uint64
	Tiles, Proofs   int64
}

// Unmined is the number of products computed without mining.
func (s Stats) Unmined() int64 { return s.Products - s.Mined }

// NewMiner starts a mining session.
func NewMiner(cfg MinerConfig) (*Miner, error) {
	if cfg.Jobs == nil {
		return nil, errors.New("pouw: MinerConfig.Jobs is nil")
	}
	if cfg.Profile == 0 {
		cfg.Profile = Local
	}
	if cfg.Profile != Local && cfg.Profile != Pearl {
		return nil, fmt.Errorf("pouw: unknown profile %d", int(cfg.Profile))
	}
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy{}
	}
	if cfg.Kernel == nil {
		cfg.Kernel = DefaultKernel()
	}
	return &Miner{cfg: cfg}, nil
}

// Profile is the profile the miner mines under.
func (m *Miner) Profile() Profile { return m.cfg.Profile }

// Kernel is the kernel the miner multiplies with.
func (m *Miner) Kernel() Kernel { return m.cfg.Kernel }

// SetStep records the training step, written into the meta of later proofs.
func (m *Miner) SetStep(step int64) { m.step.Store(step) }

// MatMul computes the exact product of a (m×k) and bt = Bᵀ (n×k), mining it
// when it fits the profile and a job is available. Every winning tile is
// reported to OnProof before MatMul returns.
//
// A product whose k exceeds the protocol's 65536 is split along k into parts
// that fit, each mined (and counted in Stats) as a product of its own; their
// exact int32 products add up to the whole.
func (m *Miner) MatMul(a, bt Matrix, tag Tag) (*Product, error) {
	if err := checkShapes(a, bt); err != nil {
		return nil, err
	}
	if a.Cols > maxInner && a.Rows > 0 && bt.Rows > 0 {
		return m.matMulSplit(a, bt, tag)
	}
	return m.matMulOne(a, bt, tag)
}

func (m *Miner) matMulOne(a, bt Matrix, tag Tag) (*Product, error) {
	var p *Product
	job, err := m.cfg.Jobs.CurrentJob()
	paused := err != nil
	if err == nil && job.CertVersion != CertSalted {
		// A job this miner cannot mine must not stop training: the product
		// is still owed, so it is computed and counted as unmined.
		err = ruleErr(ErrUnsupportedVersion, "job certificate version %d is not mined (only %d)", job.CertVersion, CertSalted)
	}
	if err == nil {
		var cfg Config
		cfg, err = m.cfg.Policy.Choose(m.cfg.Profile, a.Rows, a.Cols, bt.Rows)
		if err == nil {
			p, err = MineProduct(job, m.cfg.Profile, cfg, a, bt, m.cfg.Kernel)
			if err != nil {
				return nil, err
			}
		}
	}
	if p == nil {
		// No job or no configuration: the product is still owed, exactly.
		if verr := a.checkInt7("A"); verr != nil {
			return nil, verr
		}
		if verr := bt.checkInt7("Bᵀ"); verr != nil {
			return nil, verr
		}
		start := time.Now()
		c, merr := Multiply(m.cfg.Kernel, a, bt)
		if merr != nil {
			return nil, merr
		}
		p = &Product{M: a.Rows, N: bt.Rows, K: a.Cols, C: c, Unmined: err.Error()}
		p.Phases.GEMM = time.Since(start)
	}
	m.record(p, tag, paused)
	m.report(p, job, tag)
	return p, nil
}

// maxSplitInner bounds k for a split product: the sum of the parts is exact
// in int32 only while |A·B| ≤ 64²·k stays below 2³¹.
const maxSplitInner = (1 << 31) / (64 * 64)

// matMulSplit mines a product with k > 65536 as parts along k of equal
// length, all but the last a multiple of 64 where possible (Pearl requires
// k%64 == 0), and adds them up.
func (m *Miner) matMulSplit(a, bt Matrix, tag Tag) (*Product, error) {
	k := a.Cols
	if k >= maxSplitInner {
		return nil, ruleErr(ErrBadInput, "k=%d: the int32 product of int7 operands may overflow beyond k=%d", k, maxSplitInner-1)
	}
	parts := (k + maxInner - 1) / maxInner
	step := (k + parts - 1) / parts
	if up := (step + 63) &^ 63; up <= maxInner {
		step = up
	}
	whole := &Product{M: a.Rows, N: bt.Rows, K: k, Mined: true}
	for lo := 0; lo < k; lo += step {
		hi := min(lo+step, k)
		p, err := m.matMulOne(a.columns(lo, hi), bt.columns(lo, hi), tag)
		if err != nil {
			return nil, fmt.Errorf("columns %d..%d of k=%d: %w", lo, hi, k, err)
		}
		if whole.C == nil {
			whole.C, whole.Config = p.C, p.Config
		} else {
			for i, c := range p.C {
				whole.C[i] += c
			}
		}
		if !p.Mined {
			whole.Mined = false
			if whole.Unmined == "" {
				whole.Unmined = p.Unmined
			}
		}
		whole.Tickets = append(whole.Tickets, p.Tickets...)
		whole.Wins = append(whole.Wins, p.Wins...)
		whole.MACs += p.MACs
		whole.Phases.Add(p.Phases)
	}
	return whole, nil
}

// columns copies columns [lo, hi) of x.
func (x Matrix) columns(lo, hi int) Matrix {
	out := Matrix{Rows: x.Rows, Cols: hi - lo, Data: make([]int8, x.Rows*(hi-lo))}
	for i := 0; i < x.Rows; i++ {
		copy(out.Data[i*out.Cols:(i+1)*out.Cols], x.Data[i*x.Cols+lo:i*x.Cols+hi])
	}
	return out
}

func (m *Miner) record(p *Product, tag Tag, paused bool) {
	macs := uint64(p.M) * uint64(p.N) * uint64(p.K)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &m.stats
	if s.ByRole == nil {
		s.ByRole = map[string]RoleStats{}
		s.UnminedReasons = map[string]int64{}
	}
	r := s.ByRole[tag.Role]
	s.Products++
	r.Products++
	s.MACs += macs
	r.MACs += macs
	if p.Mined {
		s.Mined++
		r.Mined++
		s.MinedMACs += p.MACs
		r.MinedMACs += p.MACs
		s.Tiles += int64(len(p.Tickets))
		r.Tiles += int64(len(p.Tickets))
		s.Proofs += int64(len(p.Wins))
		r.Proofs += int64(len(p.Wins))
	} else {
		s.UnminedReasons[p.Unmined]++
		if paused {
			s.Paused++
		}
	}
	s.ByRole[tag.Role] = r
	s.Phases.Add(p.Phases)
}

func (m *Miner) report(p *Product, job Job, tag Tag) {
	if m.cfg.OnProof == nil || len(p.Wins) == 0 {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for _, w := range p.Wins {
		meta := map[string]any{"time": now, "step": m.step.Load(), "shape": fmt.Sprintf("%dx%dx%d", p.M, p.K, p.N)}
		if tag.Role != "" {
			meta["role"] = tag.Role
		}
		if tag.Node != "" {
			meta["node"] = tag.Node
		}
		m.cfg.OnProof(Found{
			Proof:     &Proof{Plain: w.Proof, Job: job, Profile: m.cfg.Profile, Meta: meta},
			Ticket:    w.Ticket,
			RowOffset: w.RowOffset,
			ColOffset: w.ColOffset,
		})
	}
}

// Stats returns a copy of the running totals.
func (m *Miner) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.UnminedReasons = maps.Clone(m.stats.UnminedReasons)
	s.ByRole = maps.Clone(m.stats.ByRole)
	return s
}

// DefaultKernel returns the fastest kernel available on this machine.
func DefaultKernel() Kernel { return Kernels()[0] }
