package receipt

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/usefulwork/minedmatmul/internal/atomicfile"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Writer appends a receipt while a model trains. Create it before the
// miner (its Mined method is the miner's OnMined hook), Start it with the
// run record once the model is built; the train package's loop then drives
// it (train.Options.Receipt). A custom loop calls, per step,
// BeginStep before running the graph and EndStep after, Updated after the
// optimiser changed the weights, BeginEval around evaluations, Checkpoint
// whenever it likes (at least at the start and the end), and Close. Mined
// is the miner's OnMined hook. Its methods are safe for concurrent use; the
// first error (a full disk, say) is kept and returned by every later call
// and by Close.
type Writer struct {
	dir string

	mu      sync.Mutex
	f       *os.File
	buf     *bufio.Writer
	seq     int64
	prev    string
	err     error
	step    int64
	weights int64
	eval    bool
	job     []byte // header of the last job record
	proofs  int
	started bool
	closed  bool
}

// Create opens a new receipt in dir (created if need be). A receipt
// already in dir is an error: one directory holds one run.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Join(dir, CheckpointDir), 0o755); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("receipt: %s already holds a receipt: give each run its own directory", dir)
		}
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return &Writer{dir: dir, f: f, buf: bufio.NewWriterSize(f, 1<<16), prev: zeroHash}, nil
}

// Start writes the run record, which must come first.
func (w *Writer) Start(run Run) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started && w.err == nil {
		w.err = errors.New("receipt: Start called twice")
	}
	run.Version = Version
	w.appendLocked(&Record{Kind: KindRun, Run: &run})
	w.started = true
	return w.err
}

// Dir is the receipt's directory.
func (w *Writer) Dir() string { return w.dir }

// appendLocked writes one record, chained to the previous one.
func (w *Writer) appendLocked(r *Record) {
	if w.err != nil {
		return
	}
	if w.closed {
		w.err = errors.New("receipt: write after Close")
		return
	}
	if r.Kind != KindRun && !w.started {
		w.err = fmt.Errorf("receipt: a %s record before Start", r.Kind)
		return
	}
	r.Seq, r.Prev = w.seq, w.prev
	line, err := json.Marshal(r)
	if err != nil {
		w.err = fmt.Errorf("receipt: record %d: %w", w.seq, err)
		return
	}
	if _, err := w.buf.Write(append(line, '\n')); err != nil {
		w.err = fmt.Errorf("receipt: %s: %w", filepath.Join(w.dir, FileName), err)
		return
	}
	w.seq++
	w.prev = lineHash(line)
}

// BeginStep marks the start of training step (1, 2, … over the run): the
// products mined until EndStep belong to it.
func (w *Writer) BeginStep(step int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.step, w.eval = step, false
}

// EndStep records the step BeginStep began: its batch and its loss.
func (w *Writer) EndStep(epoch int, batch []int, loss float64) error {
	b := make([]byte, 4*len(batch))
	for i, x := range batch {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.appendLocked(&Record{Kind: KindStep, Step: &Step{Step: w.step, Epoch: epoch, Weights: w.weights,
		Batch: base64.StdEncoding.EncodeToString(b), Loss: loss}})
	return w.err
}

// Updated records that the optimiser changed the weights: products from
// now on use the next version.
func (w *Writer) Updated() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.weights++
}

// BeginEval marks the products from now until the next BeginStep as
// evaluation products.
func (w *Writer) BeginEval() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.eval = true
}

// Mined records a mined product; it is a pouw.MinerConfig.OnMined hook.
func (w *Writer) Mined(p pouw.MinedProduct) {
	cfg, err := p.Config.MarshalBinary()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("receipt: product of %q: %w", p.Tag.Node, err)
	}
	header, herr := p.Job.Header.MarshalBinary()
	if herr != nil && w.err == nil {
		w.err = fmt.Errorf("receipt: job of %q: %w", p.Tag.Node, herr)
	}
	if w.err != nil {
		return
	}
	if string(header) != string(w.job) {
		job := p.Job
		w.appendLocked(&Record{Kind: KindJob, Job: &job})
		w.job = header
	}
	w.proofs += len(p.Proofs)
	w.appendLocked(&Record{Kind: KindProduct, Product: &Product{
		Step: w.step, Weights: w.weights, Eval: w.eval, Node: p.Tag.Node, Role: p.Tag.Role,
		M: p.M, K: p.K, N: p.N, Config: hex.EncodeToString(cfg),
		RootA: hex.EncodeToString(p.RootA[:]), RootB: hex.EncodeToString(p.RootB[:]), Proofs: p.Proofs,
	}})
}

// Checkpoint writes the weights, as they are now, to a checkpoint file
// (atomically) and records it by its hash. The receipt is flushed and
// synced with it.
func (w *Writer) Checkpoint(params []Param) error {
	data, err := encodeCheckpoint(params)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return w.err
	}
	name := filepath.ToSlash(filepath.Join(CheckpointDir, fmt.Sprintf("weights-%08d.ckpt", w.weights)))
	if err := atomicfile.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
		w.err = fmt.Errorf("receipt: checkpoint: %w", err)
		return w.err
	}
	sum := sha256.Sum256(data)
	w.appendLocked(&Record{Kind: KindCheckpoint, Checkpoint: &Checkpoint{Weights: w.weights, File: name, SHA256: hex.EncodeToString(sum[:])}})
	w.syncLocked()
	return w.err
}

func (w *Writer) syncLocked() {
	if w.err != nil {
		return
	}
	if err := w.buf.Flush(); err != nil {
		w.err = fmt.Errorf("receipt: %w", err)
		return
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("receipt: %w", err)
	}
}

// Close writes the end record with the run's final test accuracy,
// flushes and syncs the receipt, and closes it.
func (w *Writer) Close(testAccuracy float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.appendLocked(&Record{Kind: KindEnd, End: &End{Steps: w.step, Weights: w.weights, TestAccuracy: testAccuracy, Proofs: w.proofs}})
	w.syncLocked()
	w.closed = true
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("receipt: %w", err)
	}
	return w.err
}

// Abort closes the receipt without an end record, after a run that
// failed: what was written stays, a verifiable record of the steps that
// ran.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.err
	}
	w.syncLocked()
	w.closed = true
	w.f.Close()
	return w.err
}

// NewRun fills a run record's build fields: the main module and its
// version, the Go version, the program's command line, the miner's kernel
// and profile, and the time.
func NewRun(model Model, dataset Dataset, batch int, seeds map[string]uint64, miner *pouw.Miner) Run {
	r := Run{Model: model, Dataset: dataset, Batch: batch, Seeds: seeds, Program: os.Args,
		Go: runtime.Version(), Started: time.Now().UTC().Format(time.RFC3339)}
	if bi, ok := debug.ReadBuildInfo(); ok {
		r.Module = bi.Main.Path + "@" + bi.Main.Version
	}
	if miner != nil {
		r.Kernel, r.Profile = miner.Kernel(), miner.Profile().String()
	}
	return r
}

// HashFile returns a File naming path by its base name and SHA-256.
func HashFile(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return File{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// CheckFiles checks that every file the receipt names is in dir with the
// recorded SHA-256: the data a run trained on.
func CheckFiles(dir string, files []File) error {
	for _, f := range files {
		if !filepath.IsLocal(f.Name) {
			return fmt.Errorf("data file %q: not a plain file name", f.Name)
		}
		got, err := HashFile(filepath.Join(dir, f.Name))
		if err != nil {
			return err
		}
		if got.SHA256 != f.SHA256 {
			return fmt.Errorf("data file %s has SHA-256 %.16s…, the receipt says %.16s…: not the data the run trained on",
				filepath.Join(dir, f.Name), got.SHA256, f.SHA256)
		}
	}
	return nil
}
