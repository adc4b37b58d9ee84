package pouw

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/usefulwork/minedmatmul/internal/atomicfile"
)

// ProofWriter writes proofs into a directory as proof-<ID>.json, from a
// goroutine of its own: Write and OnProof only queue, so a miner's OnProof
// hook never waits on the disk. Every file is written atomically (a
// temporary file, fsync, rename): a crash leaves the whole proof or none.
// A ProofWriter is safe for concurrent use.
type ProofWriter struct {
	dir   string
	then  func(p *Proof, path string, err error)
	queue chan *Proof
	done  chan struct{}

	mu      sync.Mutex
	closed  bool
	written []string
	errs    []error
	dropped int
}

// writerQueue bounds the proofs waiting for the disk. Proofs are rare (a
// few per epoch); the bound only matters if the disk stops answering.
const writerQueue = 1024

// proofGlob matches the names of proof files.
const proofGlob = "proof-*.json"

// NewProofWriter creates dir if needed, removes the temporary files a killed
// writer left there (never a finished proof) and starts writing. then, if
// not nil, is called on the writer's goroutine after each proof: with the
// file's path, or with the error that kept it off the disk.
func NewProofWriter(dir string, then func(p *Proof, path string, err error)) (*ProofWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("proof directory: %w", err)
	}
	if _, err := atomicfile.RemoveStale(dir, proofGlob); err != nil {
		return nil, fmt.Errorf("proof directory: %w", err)
	}
	w := &ProofWriter{dir: dir, then: then, queue: make(chan *Proof, writerQueue), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// Dir is the directory proofs are written to.
func (w *ProofWriter) Dir() string { return w.dir }

// OnProof queues f's proof; use it as MinerConfig.OnProof.
func (w *ProofWriter) OnProof(f Found) { _ = w.Write(f.Proof) }

// errWriterClosed and errWriterFull say why Write did not queue a proof.
var (
	errWriterClosed = errors.New("proof writer closed")
	errWriterFull   = errors.New("proof writer queue full")
)

// Write queues p for writing; it never blocks. A proof that finds the
// queue full, or the writer closed (an interrupted run still training while
// it exits), is not written: it is counted as dropped and Write says so.
func (w *ProofWriter) Write(p *Proof) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.dropped++
		return errWriterClosed
	}
	select {
	case w.queue <- p:
		return nil
	default:
		w.dropped++
		return errWriterFull
	}
}

func (w *ProofWriter) run() {
	defer close(w.done)
	for p := range w.queue {
		path, err := writeProofFile(w.dir, p)
		w.mu.Lock()
		if err != nil {
			w.errs = append(w.errs, err)
		} else {
			w.written = append(w.written, path)
		}
		w.mu.Unlock()
		if w.then != nil {
			w.then(p, path, err)
		}
	}
}

// Close waits for every queued proof to be written and returns an error
// counting those that were not (the first write error, or the dropped).
// Closing twice is harmless.
func (w *ProofWriter) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) > 0 {
		return fmt.Errorf("%d proof(s) not written, first: %w", len(w.errs), w.errs[0])
	}
	if w.dropped > 0 {
		return fmt.Errorf("%d proof(s) dropped: the writer fell %d behind, or was closed", w.dropped, writerQueue)
	}
	return nil
}

// Written lists the files written so far, in the order they were written.
func (w *ProofWriter) Written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.written...)
}

// writeProofFile writes p into dir as proof-<ID>.json, atomically, and
// returns the file's path. The same proof always gets the same name.
func writeProofFile(dir string, p *Proof) (string, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return "", err
	}
	id, err := p.ID()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "proof-"+id+".json")
	// A proof is public: readable by all.
	return path, atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}
