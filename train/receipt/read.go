package receipt

import (
	"bufio"
	"bytes"
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
	"strings"

	"github.com/usefulwork/minedmatmul/pouw"
)

// maxRecordLine bounds one line of a receipt (a step of a batch of 2¹⁶
// examples is about 350 KiB).
const maxRecordLine = 4 << 20

// Receipt is a receipt read back and its chain checked.
type Receipt struct {
	Dir         string
	Run         Run
	Steps       []Step
	Products    []RecordedProduct
	Checkpoints []Checkpoint
	End         *End // nil for a run that did not finish
	Records     int
}

// RecordedProduct is a product record with the job it was mined under.
type RecordedProduct struct {
	Product
	Line int // 1-based line of the receipt
	Job  pouw.Job
}

// Key is the commitment key of the product's roots.
func (p *RecordedProduct) Key() ([32]byte, error) {
	cfg, err := p.config()
	if err != nil {
		return [32]byte{}, err
	}
	return pouw.JobKey(p.Job.Header, cfg), nil
}

func (p *RecordedProduct) config() (pouw.Config, error) {
	var cfg pouw.Config
	b, err := hex.DecodeString(p.Config)
	if err == nil {
		err = cfg.UnmarshalBinary(b)
	}
	if err != nil {
		return cfg, fmt.Errorf("line %d: config: %w", p.Line, err)
	}
	return cfg, nil
}

// Open reads the receipt in dir and checks its chain: every line parses,
// its seq follows the previous one and its prev is the previous line's
// hash; the first record is the run, and nothing follows the end. An
// error names the first line that breaks it.
func Open(dir string) (*Receipt, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	defer f.Close()
	r := &Receipt{Dir: dir}
	br := bufio.NewReaderSize(f, 1<<16)
	prev := zeroHash
	var job *pouw.Job
	for line := 1; ; line++ {
		raw, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("receipt %s line %d: %w", path, line, err)
		}
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("receipt %s line %d: not a record: %v", path, line, err)
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("receipt %s line %d (%s record): %s", path, line, rec.Kind, fmt.Sprintf(format, args...))
		}
		if rec.Seq != int64(line-1) {
			return nil, fail("seq %d, want %d: a record was removed, inserted or reordered", rec.Seq, line-1)
		}
		if rec.Prev != prev {
			return nil, fail("prev %.16s… is not the hash of line %d (%.16s…): a record before it was changed, removed or reordered", rec.Prev, line-1, prev)
		}
		prev = lineHash(raw)
		if r.End != nil {
			return nil, fail("a record after the end record")
		}
		if (line == 1) != (rec.Kind == KindRun) {
			return nil, fail("the run record must come first, and only once")
		}
		switch {
		case rec.Kind == KindRun && rec.Run != nil:
			if rec.Run.Version != Version {
				return nil, fail("receipt version %d; this reader knows %d", rec.Run.Version, Version)
			}
			r.Run = *rec.Run
		case rec.Kind == KindJob && rec.Job != nil:
			job = rec.Job
		case rec.Kind == KindStep && rec.Step != nil:
			r.Steps = append(r.Steps, *rec.Step)
		case rec.Kind == KindProduct && rec.Product != nil:
			if job == nil {
				return nil, fail("a product before any job record")
			}
			r.Products = append(r.Products, RecordedProduct{Product: *rec.Product, Line: line, Job: *job})
		case rec.Kind == KindCheckpoint && rec.Checkpoint != nil:
			r.Checkpoints = append(r.Checkpoints, *rec.Checkpoint)
		case rec.Kind == KindEnd && rec.End != nil:
			r.End = rec.End
		default:
			return nil, fail("unknown kind or missing payload")
		}
		r.Records++
	}
	if r.Records == 0 {
		return nil, fmt.Errorf("receipt %s is empty", path)
	}
	return r, nil
}

// readLine reads one newline-terminated line without its newline; a last
// line without one is a truncated record.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxRecordLine {
			return nil, fmt.Errorf("record longer than %d bytes", maxRecordLine)
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(line) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errors.New("truncated last record (the run was killed while writing it)")
		default:
			return nil, err
		}
	}
}

// Indices decodes the step's batch: the indices of its examples.
func (s *Step) Indices() ([]int, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s.Batch)
	if err != nil || len(b)%4 != 0 {
		return nil, fmt.Errorf("step %d: malformed batch", s.Step)
	}
	out := make([]int, len(b)/4)
	for i := range out {
		out[i] = int(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// LoadCheckpoint reads a checkpoint file and checks it is the one the
// receipt names (by SHA-256).
func (r *Receipt) LoadCheckpoint(c Checkpoint) ([]Param, error) {
	if !filepath.IsLocal(filepath.FromSlash(c.File)) || !strings.HasPrefix(c.File, CheckpointDir+"/") {
		return nil, fmt.Errorf("checkpoint %q: not a file under %s/", c.File, CheckpointDir)
	}
	data, err := os.ReadFile(filepath.Join(r.Dir, filepath.FromSlash(c.File)))
	if err != nil {
		return nil, fmt.Errorf("checkpoint of weights version %d: %w", c.Weights, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != c.SHA256 {
		return nil, fmt.Errorf("checkpoint %s: SHA-256 %.16s…, the receipt says %.16s…: the file was changed or swapped", c.File, got, c.SHA256)
	}
	params, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.File, err)
	}
	return params, nil
}

// Step returns the record of step n, if any.
func (r *Receipt) Step(n int64) (*Step, bool) {
	// Steps are recorded in order, 1, 2, …: index n-1 when none is missing.
	if n >= 1 && n <= int64(len(r.Steps)) && r.Steps[n-1].Step == n {
		return &r.Steps[n-1], true
	}
	for i := range r.Steps {
		if r.Steps[i].Step == n {
			return &r.Steps[i], true
		}
	}
	return nil, false
}
