package pouw

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"

	"lukechampine.com/blake3"
)

// MaxProofFileSize bounds a proof file read from disk or the network: the
// gateway's 4 MiB line limit, with room for our own fields.
const MaxProofFileSize = 8 << 20

// Proof is a found proof with everything needed to verify or submit it.
type Proof struct {
	Plain   *PlainProof
	Job     Job
	Profile Profile
	// Meta is free-form context: which op role and node found it, the
	// training step, the time. It is not covered by the proof.
	Meta map[string]any
}

// MiningJobJSON is the gateway's mining_job object (PROTOCOL.md §11).
type MiningJobJSON struct {
	IncompleteHeaderBytes string   `json:"incomplete_header_bytes"`
	Target                *big.Int `json:"target"` // a JSON integer, the expanded nbits; may exceed 2⁶⁴
	CertVersion           uint32   `json:"cert_version"`
	// AncestorHeaders is what getMiningInfo returns beside the job; it is
	// empty for the INT certificate versions and kept only so that a
	// mining_job copied verbatim from the gateway parses.
	AncestorHeaders []string `json:"ancestor_headers,omitempty"`
}

// proofFileJSON is the file layout: exactly the params of the gateway's
// submitPlainProof, plus profile and meta.
type proofFileJSON struct {
	PlainProof string         `json:"plain_proof"`
	MiningJob  MiningJobJSON  `json:"mining_job"`
	Profile    string         `json:"profile"`
	Meta       map[string]any `json:"meta,omitempty"`
}

// MiningJob returns the job in the gateway's JSON form.
func (j Job) MiningJob() (MiningJobJSON, error) {
	target, err := j.Target()
	if err != nil {
		return MiningJobJSON{}, err
	}
	hb := j.Header.Bytes()
	return MiningJobJSON{
		IncompleteHeaderBytes: base64.StdEncoding.EncodeToString(hb[:]),
		Target:                target,
		CertVersion:           j.CertVersion,
	}, nil
}

// ParseMiningJob decodes and checks the gateway's mining_job: a 76-byte
// header and a target equal to the expansion of the header's nbits.
func ParseMiningJob(mj MiningJobJSON) (Job, error) {
	hb, err := base64.StdEncoding.Strict().DecodeString(mj.IncompleteHeaderBytes)
	if err != nil {
		return Job{}, ruleErr(ErrBadEncoding, "incomplete_header_bytes: %v", err)
	}
	h, err := DecodeHeader(hb)
	if err != nil {
		return Job{}, err
	}
	if mj.Target == nil {
		return Job{}, ruleErr(ErrBadEncoding, "mining_job: target missing")
	}
	want, err := Target(h.Bits)
	if err != nil {
		return Job{}, err
	}
	if mj.Target.Cmp(want) != 0 {
		return Job{}, ruleErr(ErrBadTarget, "target %s is not the expansion %s of the header's nbits %#08x", mj.Target, want, h.Bits)
	}
	if mj.CertVersion < CertV1 || mj.CertVersion > CertSalted {
		return Job{}, ruleErr(ErrUnsupportedVersion, "cert_version %d (want 1, 2 or 3)", mj.CertVersion)
	}
	return Job{Header: h, CertVersion: mj.CertVersion}, nil
}

// MarshalJSON writes the proof file's JSON.
func (p *Proof) MarshalJSON() ([]byte, error) {
	raw, err := p.Plain.MarshalBinary()
	if err != nil {
		return nil, err
	}
	mj, err := p.Job.MiningJob()
	if err != nil {
		return nil, err
	}
	return json.Marshal(proofFileJSON{
		PlainProof: base64.StdEncoding.EncodeToString(raw),
		MiningJob:  mj,
		Profile:    p.Profile.String(),
		Meta:       p.Meta,
	})
}

// ParseProof decodes a proof file strictly: no unknown fields, no trailing
// data, a canonical plain proof. Errors are RuleErrors.
func ParseProof(data []byte) (*Proof, error) {
	if len(data) > MaxProofFileSize {
		return nil, ruleErr(ErrBadEncoding, "proof file is %d bytes, at most %d", len(data), MaxProofFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var f proofFileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, ruleErr(ErrBadEncoding, "proof JSON: %v", err)
	}
	if dec.More() {
		return nil, ruleErr(ErrBadEncoding, "proof JSON: trailing data after the object")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(f.PlainProof)
	if err != nil {
		return nil, ruleErr(ErrBadEncoding, "plain_proof: %v", err)
	}
	plain, err := DecodePlainProof(raw)
	if err != nil {
		return nil, err
	}
	job, err := ParseMiningJob(f.MiningJob)
	if err != nil {
		return nil, err
	}
	profile, err := ParseProfile(f.Profile)
	if err != nil {
		return nil, err
	}
	return &Proof{Plain: plain, Job: job, Profile: profile, Meta: f.Meta}, nil
}

// Verify checks the proof under its own job and profile.
func (p *Proof) Verify(opts VerifyOptions) (*Verification, error) {
	return Verify(p.Job, p.Profile, p.Plain, opts)
}

// ID names the proof: the first 16 bytes of BLAKE3 of its plain-proof bytes,
// in hex. Two files with the same ID hold the same proof.
func (p *Proof) ID() (string, error) {
	raw, err := p.Plain.MarshalBinary()
	if err != nil {
		return "", err
	}
	sum := blake3.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}

// ReadProofFile reads and parses one proof file.
func ReadProofFile(path string) (*Proof, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read one byte past the limit so an oversized file is reported as such.
	data, err := io.ReadAll(io.LimitReader(f, MaxProofFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := ParseProof(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// WriteProofFile writes p into dir as proof-<ID>.json, atomically: a temp
// file in the same directory, fsync, rename, fsync of the directory. A crash
// leaves either the complete file or none. It returns the file's path.
func WriteProofFile(dir string, p *Proof) (string, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return "", err
	}
	id, err := p.ID()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "proof-"+id+".json")
	return path, WriteFileAtomic(path, append(data, '\n'))
}

// WriteFileAtomic writes data to path through a synced temp file and a rename.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file private (0600); a proof is public.
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
