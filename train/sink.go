package train

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/usefulwork/minedmatmul/pouw"
)

// ProofSink writes every proof it is given into a directory, atomically
// (temp file, fsync, rename), from a goroutine of its own so that training
// never waits on the disk. Use its Found method as pouw.MinerConfig.OnProof.
type ProofSink struct {
	dir   string
	queue chan *pouw.Proof
	done  chan struct{}

	mu      sync.Mutex
	closed  bool
	written []string
	errs    []error
	dropped int
}

// sinkQueue bounds the proofs waiting for the disk. Proofs are rare (a few
// per epoch); the bound only matters if the disk stops answering.
const sinkQueue = 1024

// NewProofSink creates dir if needed, removes the temp files a killed run
// may have left there (never a finished proof), and starts the writer.
func NewProofSink(dir string) (*ProofSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("proof directory: %w", err)
	}
	stale, err := filepath.Glob(filepath.Join(dir, ".proof-*.json.tmp-*"))
	if err != nil {
		return nil, err
	}
	for _, f := range stale {
		os.Remove(f)
	}
	s := &ProofSink{dir: dir, queue: make(chan *pouw.Proof, sinkQueue), done: make(chan struct{})}
	go s.run()
	return s, nil
}

// Dir is the directory proofs are written to.
func (s *ProofSink) Dir() string { return s.dir }

// Found queues the proof of f for writing; it never blocks. A proof that
// finds the queue full, or the sink closed (an interrupted run still
// training while it exits), is counted as dropped.
func (s *ProofSink) Found(f pouw.Found) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.dropped++
		return
	}
	select {
	case s.queue <- f.Proof:
	default:
		s.dropped++
	}
}

func (s *ProofSink) run() {
	defer close(s.done)
	for p := range s.queue {
		path, err := pouw.WriteProofFile(s.dir, p)
		s.mu.Lock()
		if err != nil {
			s.errs = append(s.errs, err)
		} else {
			s.written = append(s.written, path)
		}
		s.mu.Unlock()
	}
}

// Close waits for every queued proof to be written and returns the first
// write error, if any. Closing twice is harmless.
func (s *ProofSink) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		return fmt.Errorf("%d proof(s) not written, first: %w", len(s.errs), s.errs[0])
	}
	if s.dropped > 0 {
		return fmt.Errorf("%d proof(s) dropped: the writer fell %d behind, or the sink was closed", s.dropped, sinkQueue)
	}
	return nil
}

// Written lists the files written so far.
func (s *ProofSink) Written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.written...)
}
