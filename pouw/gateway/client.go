package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Options configures a Client. Zero fields take the defaults shown.
type Options struct {
	// ProofDir receives every proof handed to Submit, written atomically
	// before it is queued, so a dead gateway or a crash loses nothing.
	// Required; created if missing.
	ProofDir string
	// PollInterval is the time between getMiningInfo calls (1s). A new
	// header is mined from the first product after the poll that saw it.
	PollInterval time.Duration
	// RequestTimeout bounds one request, dialing included (10s). A poll
	// that times out pauses mining until a poll succeeds.
	RequestTimeout time.Duration
	// QueueSize is the number of proofs waiting for submission (64). A proof
	// that finds the queue full is not submitted (it stays on disk).
	QueueSize int
	// MaxAttempts is how often a proof is sent before it is given up (6).
	// Only transport failures and mining_paused are retried.
	MaxAttempts int
	// Backoff is the wait before the first retry (250ms); it doubles after
	// every failure, up to MaxBackoff (30s).
	Backoff, MaxBackoff time.Duration
	// MaxRequest bounds a request line, newline included (MaxRequest,
	// 1 MiB: the limit of the older pearl-gateway versions). A proof whose
	// submission would be longer is kept on disk and not sent, since the
	// gateway would cut the line; set it up to MaxLine (4 MiB) for a
	// gateway known to read longer lines.
	MaxRequest int
	// Logf, when set, receives one line per event worth a human's
	// attention: pause, resume, new job, a proof given up. Text from the
	// gateway in it is escaped and shortened.
	Logf func(format string, args ...any)
}

func (o *Options) setDefaults() {
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 64
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = o.Backoff
	}
	if o.MaxRequest <= 0 {
		o.MaxRequest = MaxRequest
	}
}

// Stats are a Client's running totals.
type Stats struct {
	Polls      int64 // getMiningInfo calls answered or failed
	PollErrors int64 // polls that gave no usable job (paused, unreachable, bad job)
	JobsSeen   int64 // distinct headers received
	// Paused is true while CurrentJob answers ErrPaused; Reason says why.
	Paused      bool
	Reason      string
	PausedTime  time.Duration // total time without a job, the current pause included
	PausedCalls int64         // CurrentJob calls answered with ErrPaused

	Saved         int64 // proofs written to ProofDir
	SaveErrors    int64 // proofs that could not be written (still queued)
	Queued        int64 // proofs accepted into the submission queue
	Dropped       int64 // proofs not queued: the queue was full or the gateway closing
	Submitted     int64 // proofs sent to the gateway at least once
	Accepted      int64 // proofs the gateway answered "submitted"
	Failed        int64 // proofs given up: rejected, or out of attempts
	TooLarge      int64 // proofs whose request would exceed Options.MaxRequest: kept on disk, never sent
	Retries       int64 // attempts after a proof's first
	Stale         int64 // proofs submitted for a header other than the latest job
	Duplicates    int64 // proofs handed to Submit again (same ID): not queued twice
	NotPearl      int64 // proofs of another profile: kept on disk, never sent (ErrNotPearl)
	Pending       int64 // proofs queued or in flight now
	Abandoned     int64 // proofs still pending when Close's deadline passed
	LastError     string
	LastErrorTime time.Time
}

// Client is a pouw.JobSource that follows a Pearl gateway and submits the
// proofs found on its jobs. A background goroutine polls
// getMiningInfo; CurrentJob only reads the last answer, so it never waits on
// the network. Another goroutine submits proofs from a bounded queue with
// retries and exponential backoff; Submit only writes the proof file and
// queues it. A slow or dead gateway therefore costs training no time: it
// pauses mining (products are computed exactly, unmined) and delays
// submissions.
//
// Stale proofs: a proof whose header is no longer the latest job the
// gateway gave is still submitted, once. The gateway, not this client,
// decides what is stale (it compares the proof's header with its template),
// and dropping one costs it a line on a local socket; skipping it here would
// risk losing a block to a wrong guess. It is not retried: a retry would be
// staler still. It is counted in Stats.Stale and, like every proof, stays in
// ProofDir.
type Client struct {
	opts      Options
	poller    *Conn // one connection each, so a slow submission
	submitter *Conn // never delays the poll that would pause mining
	writer    *pouw.ProofWriter

	state       atomic.Pointer[gatewayState]
	pausedCalls atomic.Int64

	mu          sync.Mutex
	stats       Stats
	pausedSince time.Time
	latest      *pouw.Header      // the last header the gateway gave
	unsent      map[string]string // proof ID → file, for proofs not accepted
	seen        map[string]bool   // proof IDs handed to Submit (proofs are rare: this stays small)
	closing     bool              // Submit no longer queues
	queue       chan *queuedProof // closed by Close

	stopPoll   context.CancelFunc
	pollDone   chan struct{}
	abortCtx   context.Context // cancelled when Close's deadline passes
	abort      context.CancelFunc
	submitDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// gatewayState is what CurrentJob answers: a job, or why there is none.
type gatewayState struct {
	job pouw.Job
	err error
}

type queuedProof struct {
	proof *pouw.Proof
	id    string
	path  string
}

// pauseError is CurrentJob's error while there is no job. Its text is
// short and stable (it becomes a key of Stats.UnminedReasons); the cause,
// with addresses and timings, is in Unwrap and Stats.LastError.
type pauseError struct {
	reason string
	cause  error
}

func (e *pauseError) Error() string {
	return "pearl gateway: " + e.reason + ": " + pouw.ErrPaused.Error()
}
func (e *pauseError) Unwrap() []error { return []error{pouw.ErrPaused, e.cause} }

// Dial starts following the gateway at addr (see ParseAddr): it polls once
// before returning, bounded by ctx and RequestTimeout, so the first product
// already has a job if the gateway has one. An unreachable gateway is not
// an error: CurrentJob answers pouw.ErrPaused until it comes up. Errors are
// for bad options or an unusable address or proof directory.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	opts.setDefaults()
	if opts.ProofDir == "" {
		return nil, errors.New("gateway: Options.ProofDir is required: proofs are kept on disk before they are submitted")
	}
	poller, err := NewConn(addr, opts.MaxRequest)
	if err != nil {
		return nil, err
	}
	submitter, _ := NewConn(addr, opts.MaxRequest)
	g := &Client{
		opts:       opts,
		poller:     poller,
		submitter:  submitter,
		unsent:     map[string]string{},
		queue:      make(chan *queuedProof, opts.QueueSize),
		seen:       map[string]bool{},
		pollDone:   make(chan struct{}),
		submitDone: make(chan struct{}),
	}
	if g.writer, err = pouw.NewProofWriter(opts.ProofDir, g.written); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.abortCtx, g.abort = context.WithCancel(context.Background())
	now := time.Now()
	g.pausedSince = now
	g.stats.Paused, g.stats.Reason = true, "no job yet"
	g.state.Store(&gatewayState{err: &pauseError{reason: "no job yet", cause: errors.New("not polled yet")}})

	pctx, stop := context.WithCancel(context.Background())
	g.stopPoll = stop
	g.poll(ctx)
	go g.pollLoop(pctx)
	go g.submitLoop()
	return g, nil
}

// CurrentJob implements pouw.JobSource: the job of the last successful
// poll, or an error wrapping pouw.ErrPaused that says why there is none
// (mining_paused and the gateway's reason, unreachable, a job this miner
// cannot mine).
func (g *Client) CurrentJob() (pouw.Job, error) {
	st := g.state.Load()
	if st.err != nil {
		g.pausedCalls.Add(1)
		return pouw.Job{}, st.err
	}
	return st.job, nil
}

func (g *Client) pollLoop(ctx context.Context) {
	defer close(g.pollDone)
	t := time.NewTicker(g.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.poll(ctx)
		}
	}
}

// poll asks for the current job once and records the answer.
func (g *Client) poll(ctx context.Context) {
	job, err := g.pollOnce(ctx)
	if err != nil && errors.Is(err, ErrUnreachable) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// A connection the gateway (or anything between) closed while idle
		// fails the next call; one fresh dial tells that apart from a
		// gateway that is down, without pausing mining for a poll interval.
		job, err = g.pollOnce(ctx)
	}
	if ctx.Err() != nil {
		return // closing (or Dial's ctx ended): not the gateway's fault
	}
	if err == nil && job.CertVersion != pouw.CertSalted {
		// The miner mines version 3 only: a legacy job pauses mining
		// rather than leave every product to find out.
		err = pouw.RuleError{Code: pouw.ErrCertVersion, Description: fmt.Sprintf("cert_version %d: only version %d is mined", job.CertVersion, pouw.CertSalted)}
	}
	if err != nil {
		err = &pauseError{reason: pauseReason(err), cause: err}
	}
	g.setState(job, err)
}

func (g *Client) pollOnce(ctx context.Context) (pouw.Job, error) {
	rctx, cancel := context.WithTimeout(ctx, g.opts.RequestTimeout)
	defer cancel()
	return g.poller.MiningInfo(rctx)
}

// pauseReason condenses a failed poll into CurrentJob's stable text.
func pauseReason(err error) string {
	var ge *Error
	switch {
	case errors.As(err, &ge) && ge.Code == CodeMiningPaused:
		return clean(ge.Message) // "mining_paused" or "mining_paused: <details>"
	case errors.As(err, &ge):
		return fmt.Sprintf("gateway error %d", ge.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "gateway not answering"
	case errors.Is(err, ErrUnreachable):
		return "gateway unreachable"
	case pouw.CodeOf(err) != 0:
		return "job not minable"
	default:
		return "bad getMiningInfo answer"
	}
}

func (g *Client) setState(job pouw.Job, err error) {
	now := time.Now()
	g.mu.Lock()
	s := &g.stats
	s.Polls++
	wasPaused := s.Paused
	if err != nil {
		s.PollErrors++
		pe := err.(*pauseError)
		s.LastError, s.LastErrorTime = "getMiningInfo: "+clean(pe.cause.Error()), now
		if !wasPaused || s.Reason != pe.reason {
			g.logf("pearl gateway: mining paused: %s", clean(pe.cause.Error()))
		}
		if !wasPaused {
			g.pausedSince = now
		}
		s.Paused, s.Reason = true, pe.reason
	} else {
		if wasPaused {
			s.PausedTime += now.Sub(g.pausedSince)
			s.Paused, s.Reason = false, ""
		}
		if g.latest == nil || *g.latest != job.Header {
			h := job.Header
			g.latest = &h
			s.JobsSeen++
			g.logf("pearl gateway: new job, header %x…, nbits %#08x", h.PrevBlock[:4], h.Bits)
		} else if wasPaused {
			g.logf("pearl gateway: mining resumed")
		}
	}
	g.mu.Unlock()
	if err != nil {
		g.state.Store(&gatewayState{err: err})
	} else {
		g.state.Store(&gatewayState{job: job})
	}
}

func (g *Client) logf(format string, args ...any) {
	if g.opts.Logf != nil {
		g.opts.Logf(format, args...)
	}
}

// Stats returns a copy of the running totals.
func (g *Client) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	if s.Paused {
		s.PausedTime += time.Since(g.pausedSince)
	}
	s.PausedCalls = g.pausedCalls.Load()
	return s
}

// Unsent lists the files of the proofs handed to Submit that the gateway has
// not accepted (queued, in flight, dropped, failed or abandoned), sorted.
// `pouw submit --gateway ADDR FILE...` sends them later. A proof whose file
// could not be written is counted by Close but not listed.
func (g *Client) Unsent() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	files := make([]string, 0, len(g.unsent))
	for _, f := range g.unsent {
		if f != "" {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files
}

// Close stops polling, lets the proofs on their way to disk land, and
// drains the submission queue, until ctx ends; then it abandons what is
// left (every proof written is in ProofDir) and closes the connections. It
// never runs past ctx by more than a request's own unwinding. It returns an error naming how many proofs were not
// accepted, nil if all were. CurrentJob keeps answering the last job.
func (g *Client) Close(ctx context.Context) error {
	g.closeOnce.Do(func() {
		g.stopPoll()
		<-g.pollDone
		// Proofs still on their way to the disk are queued as they land,
		// until ctx ends; the writer finishes them either way.
		written := make(chan struct{})
		go func() {
			g.writer.Close()
			close(written)
		}()
		select {
		case <-written:
		case <-ctx.Done():
		}
		g.mu.Lock()
		g.closing = true
		close(g.queue) // Submit checks closing under mu, so never sends after this
		g.mu.Unlock()
		select {
		case <-g.submitDone:
		case <-ctx.Done():
			g.abort()
			<-g.submitDone
		}
		g.abort()
		g.poller.Close()
		g.submitter.Close()
		g.mu.Lock()
		n := len(g.unsent)
		g.mu.Unlock()
		if n > 0 {
			g.closeErr = fmt.Errorf("pearl gateway: %d proofs not accepted by the gateway; they are kept in %s", n, g.opts.ProofDir)
		}
	})
	return g.closeErr
}
