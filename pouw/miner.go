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
func (m *Miner) MatMul(a, bt Matrix, tag Tag) (*Product, error) {
	var p *Product
	job, err := m.cfg.Jobs.CurrentJob()
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
	m.record(p, tag)
	m.report(p, job, tag)
	return p, nil
}

func (m *Miner) record(p *Product, tag Tag) {
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
