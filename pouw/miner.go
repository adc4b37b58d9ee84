package pouw

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usefulwork/minedmatmul/pouw/internal/gemm"
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
	// Step is the training step the product belongs to, written into the
	// meta of its proofs unless SetStep has been called. op.MinedMatMul
	// passes how many times its node has run before: in a loop that runs
	// the graph once per batch, the batch's index.
	Step int64
}

// MinerConfig configures a Miner.
type MinerConfig struct {
	Jobs    JobSource // required
	Profile Profile   // Local when zero
	Policy  Policy    // DefaultPolicy{} when nil
	// OnProof is called once per distinct winning tile, after its proof
	// has passed Verify, synchronously from the goroutine that computed the
	// product: it must not block (hand disk and network work to another
	// goroutine, as ProofWriter and the gateway client do).
	OnProof func(Found)
	// OnMined, if set, is called once per mined product, after its proofs
	// went to OnProof, from the same goroutine and under the same rule: a
	// record that binds the product's operands to its tag, which a training
	// receipt keeps.
	OnMined func(MinedProduct)
}

// MinedProduct describes one mined product: who asked for it, under which
// job and configuration, the commitment roots of its operands, and the
// proofs it won.
type MinedProduct struct {
	Tag          Tag
	M, K, N      int
	Job          Job
	Config       Config
	RootA, RootB [32]byte // Product.RootA and RootB
	// Proofs are the IDs of the proofs the product won, those already
	// reported by an identical product included.
	Proofs []string
}

// Miner is a mining session: every product it computes is exact and, when
// its shape fits the profile, mined. It is safe for concurrent use.
type Miner struct {
	cfg     MinerConfig
	kern    kernel
	step    atomic.Int64
	stepSet atomic.Bool

	mu       sync.Mutex
	stats    Stats
	reported map[string]bool // IDs of the proofs handed to OnProof
}

// NewMiner starts a mining session. It checks the configuration and, when
// the job source already has a job, that the job can be mined (a known,
// minable certificate version and a usable target), so a bad job fails
// here, not on the first product.
func NewMiner(cfg MinerConfig) (*Miner, error) {
	if cfg.Jobs == nil {
		return nil, ruleErr(ErrBadInput, "MinerConfig.Jobs is nil")
	}
	if cfg.Profile == 0 {
		cfg.Profile = Local
	}
	if err := cfg.Profile.check(); err != nil {
		return nil, err
	}
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy{}
	}
	if job, err := cfg.Jobs.CurrentJob(); err == nil {
		if err := checkJob(job); err != nil {
			return nil, fmt.Errorf("the job source's job: %w", err)
		}
	}
	return &Miner{cfg: cfg, kern: gemmKernel{}, reported: map[string]bool{}}, nil
}

// checkJob reports a job that cannot be mined.
func checkJob(job Job) error {
	if err := checkMinable(job.CertVersion); err != nil {
		return err
	}
	_, err := job.Target()
	return err
}

// Profile is the profile the miner mines under.
func (m *Miner) Profile() Profile { return m.cfg.Profile }

// Kernel names the implementation the miner multiplies with:
// "avx512-vnni", "avx2" or "generic".
func (m *Miner) Kernel() string {
	if _, ok := m.kern.(gemmKernel); ok {
		return gemm.Name()
	}
	return fmt.Sprintf("%T", m.kern)
}

// SetStep records the training step, written into the meta of later
// proofs in place of their Tag.Step. The train package's loop calls it
// once per batch.
func (m *Miner) SetStep(step int64) {
	m.step.Store(step)
	m.stepSet.Store(true)
}

// Step returns the step SetStep last recorded, and whether it was ever
// called.
func (m *Miner) Step() (step int64, set bool) {
	return m.step.Load(), m.stepSet.Load()
}

// Unmined reports why a product of A (rows×k) and B (k×cols) would be
// computed without mining if it were multiplied now: no job, a job that
// cannot be mined, or no configuration of the policy for its shape (a
// matrix × vector product has no room for a tile). It returns nil when the
// product would be mined. A caller that then computes the product another
// way (op.MinedMatMul multiplies in float) reports it with Skipped, so
// that Stats count every product.
func (m *Miner) Unmined(rows, k, cols int) error {
	if rows <= 0 || k <= 0 || cols <= 0 {
		return ruleErr(ErrShape, "%dx%dx%d: empty product", rows, k, cols)
	}
	if k > maxInner {
		if k >= maxSplitInner {
			return ruleErr(ErrInnerDim, "k=%d: the int32 product of int7 operands may overflow beyond k=%d", k, maxSplitInner-1)
		}
		k = splitStep(k) // MatMul mines such a product in parts of this k
	}
	_, _, _, err := m.plan(rows, k, cols)
	return err
}

// Skipped counts a product of A (rows×k) and B (k×cols), computed by the
// caller without the miner, as unmined for reason (from Unmined).
func (m *Miner) Skipped(rows, k, cols int, tag Tag, reason error) {
	m.record(&Product{M: rows, N: cols, K: k, Reason: reason}, tag)
}

// MatMul computes the exact product of a (m×k) and bt = Bᵀ (n×k), mining it
// when it fits the profile and a job is available. Every winning tile is
// reported to OnProof before MatMul returns. Operands that do not match
// their shapes or each other, or hold entries outside [−64, 64], are an
// error; a product that cannot be mined is not: it is computed exactly and
// returned with its Reason.
//
// A product whose k exceeds the protocol's 65536 is split along k into parts
// that fit, each mined (and counted in Stats) as a product of its own; their
// exact int32 products add up to the whole.
func (m *Miner) MatMul(a, bt Matrix, tag Tag) (*Product, error) {
	return m.MatMulInto(nil, a, bt, tag)
}

// MatMulInto is MatMul writing the product into dst when it holds m·n
// entries (Product.C is then dst[:m·n]), so that a caller multiplying the
// same shapes again and again reuses one buffer instead of a fresh, zeroed
// one per product.
func (m *Miner) MatMulInto(dst []int32, a, bt Matrix, tag Tag) (*Product, error) {
	if err := checkOperands(a, bt); err != nil {
		return nil, err
	}
	if a.Cols > maxInner && a.Rows > 0 && bt.Rows > 0 {
		return m.matMulSplit(a, bt, tag, dst)
	}
	return m.matMulOne(a, bt, tag, dst)
}

// matMulOne mines one product on checked operands with k ≤ 65536.
func (m *Miner) matMulOne(a, bt Matrix, tag Tag, dst []int32) (*Product, error) {
	p, job, err := m.mine(a, bt, dst)
	if err != nil {
		return nil, err
	}
	m.record(p, tag)
	ids := m.report(p, job, tag)
	if p.Mined && m.cfg.OnMined != nil {
		m.cfg.OnMined(MinedProduct{Tag: tag, M: p.M, K: p.K, N: p.N, Job: job, Config: p.Config, RootA: p.RootA, RootB: p.RootB, Proofs: ids})
	}
	return p, nil
}

// mine computes the product, mined when a job and a configuration allow.
func (m *Miner) mine(a, bt Matrix, dst []int32) (*Product, Job, error) {
	job, profile, cfg, err := m.plan(a.Rows, a.Cols, bt.Rows)
	if err != nil {
		// No job, or one this miner cannot mine, must not stop training:
		// the product is still owed.
		return unminedProduct(a, bt, m.kern, err, dst), job, nil
	}
	p, err := mineProduct(job, profile, cfg, a, bt, m.kern, dst)
	return p, job, err
}

// plan returns the job, profile and configuration a rows×k×cols product
// would be mined under now, or why it would not be.
func (m *Miner) plan(rows, k, cols int) (Job, Profile, Config, error) {
	job, err := m.cfg.Jobs.CurrentJob()
	if err != nil {
		return job, 0, Config{}, ruleErr(ErrNoJob, "%v", err)
	}
	if err := checkJob(job); err != nil {
		return job, 0, Config{}, err
	}
	cfg, err := m.cfg.Policy.Choose(m.cfg.Profile, rows, k, cols)
	if err != nil {
		return job, 0, Config{}, err
	}
	// A configuration that meets Pearl's rules is always mined (and
	// verified) under Pearl's rank-penalised bound: its proofs are Pearl
	// proofs, whatever the session's profile.
	profile := requiredProfile(cfg, uint64(rows), uint64(cols))
	if m.cfg.Profile == Pearl {
		profile = Pearl
	}
	return job, profile, cfg, nil
}

// maxSplitInner bounds k for a split product: the sum of the parts is exact
// in int32 only while |A·B| ≤ 64²·k stays below 2³¹.
const maxSplitInner = (1 << 31) / (64 * 64)

// matMulSplit mines a product with k > 65536 as parts along k of equal
// length, all but the last a multiple of 64 where possible (Pearl requires
// k%64 == 0), and adds them up.
func (m *Miner) matMulSplit(a, bt Matrix, tag Tag, dst []int32) (*Product, error) {
	k := a.Cols
	if k >= maxSplitInner {
		return nil, ruleErr(ErrInnerDim, "k=%d: the int32 product of int7 operands may overflow beyond k=%d", k, maxSplitInner-1)
	}
	step := splitStep(k)
	whole := &Product{M: a.Rows, N: bt.Rows, K: k, Mined: true}
	for lo := 0; lo < k; lo += step {
		hi := min(lo+step, k)
		p, err := m.matMulOne(a.columns(lo, hi), bt.columns(lo, hi), tag, dst)
		dst = nil // the first part's product is the sum's buffer
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
			if whole.Reason == nil {
				whole.Reason = p.Reason
			}
		}
		whole.Tiles += p.Tiles
		whole.tickets = append(whole.tickets, p.tickets...)
		whole.Wins = append(whole.Wins, p.Wins...)
		whole.SelfCheckFailures += p.SelfCheckFailures
		if whole.SelfCheckErr == nil {
			whole.SelfCheckErr = p.SelfCheckErr
		}
		whole.MACs += p.MACs
		whole.ExpectedWins += p.ExpectedWins
		whole.Phases.Add(p.Phases)
	}
	return whole, nil
}

// splitStep is the length of the parts along k that MatMul splits a
// product with k > 65536 into.
func splitStep(k int) int {
	parts := (k + maxInner - 1) / maxInner
	step := (k + parts - 1) / parts
	if up := (step + 63) &^ 63; up <= maxInner {
		step = up
	}
	return step
}

func (m *Miner) record(p *Product, tag Tag) {
	macs := uint64(p.M) * uint64(p.N) * uint64(p.K)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &m.stats
	if s.ByRole == nil {
		s.ByRole = map[string]RoleStats{}
		s.Unmined = map[UnminedReason]int64{}
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
		s.Tiles += int64(p.Tiles)
		r.Tiles += int64(p.Tiles)
		s.ExpectedProofs += p.ExpectedWins
		s.SelfCheckFailures += int64(p.SelfCheckFailures)
		if p.SelfCheckErr != nil {
			s.LastSelfCheck = p.SelfCheckErr
		}
	} else {
		code := CodeOf(p.Reason)
		s.Unmined[UnminedReason{Code: code, M: p.M, K: p.K, N: p.N}]++
		if code == ErrNoJob {
			s.Paused++
		}
	}
	s.ByRole[tag.Role] = r
	s.Phases.Add(p.Phases)
}

// report hands each new win to OnProof, with the meta of its product, and
// counts it; a proof already reported is counted as a duplicate instead. It
// returns the IDs of all the product's proofs.
func (m *Miner) report(p *Product, job Job, tag Tag) (ids []string) {
	if len(p.Wins) == 0 {
		return nil
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	step := tag.Step
	if m.stepSet.Load() {
		step = m.step.Load()
	}
	for i := range p.Wins {
		w := &p.Wins[i]
		w.Proof.Meta = map[string]any{"time": now, "step": step, "shape": fmt.Sprintf("%dx%dx%d", p.M, p.K, p.N)}
		if tag.Role != "" {
			w.Proof.Meta["role"] = tag.Role
		}
		if tag.Node != "" {
			w.Proof.Meta["node"] = tag.Node
		}
		id, err := w.Proof.ID()
		if err == nil {
			ids = append(ids, id)
		}
		m.mu.Lock()
		dup := err == nil && m.reported[id]
		if dup {
			m.stats.Duplicates++
		} else {
			m.reported[id] = true
			m.stats.Proofs++
			r := m.stats.ByRole[tag.Role]
			r.Proofs++
			m.stats.ByRole[tag.Role] = r
		}
		m.mu.Unlock()
		if !dup && m.cfg.OnProof != nil {
			m.cfg.OnProof(*w)
		}
	}
	return ids
}

// Stats returns a copy of the running totals.
func (m *Miner) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.Unmined = maps.Clone(m.stats.Unmined)
	s.ByRole = maps.Clone(m.stats.ByRole)
	return s
}
