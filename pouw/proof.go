package pouw

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"lukechampine.com/blake3"
)

// MaxProofFileSize bounds a proof file read from disk or the network: the
// gateway's 4 MiB line limit, with room for our own fields.
const MaxProofFileSize = 8 << 20

// Proof is a found proof with everything needed to verify or submit it.
//
// Its JSON form, a proof file, is exactly the params of the Pearl gateway's
// submitPlainProof plus two fields of this project:
//
//	{"plain_proof": "<base64 bincode>", "mining_job": {…}, "profile": "local", "meta": {…}}
type Proof struct {
	Plain   *PlainProof
	Job     Job
	Profile Profile
	// Meta is free-form context: which op role and node found it, the
	// training step, the time. It is not covered by the proof.
	Meta map[string]any
}

// MarshalJSON writes the proof file's JSON. A Proof without a plain proof,
// or with an unknown profile or an unusable job, is an error.
func (p *Proof) MarshalJSON() ([]byte, error) {
	if p.Plain == nil {
		return nil, ruleErr(ErrBadInput, "proof: no plain proof")
	}
	if err := p.Profile.check(); err != nil {
		return nil, err
	}
	raw, err := p.Plain.MarshalBinary()
	if err != nil {
		return nil, err
	}
	job, err := p.Job.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b := []byte(`{"plain_proof":"`)
	b = base64.StdEncoding.AppendEncode(b, raw)
	b = append(b, `","mining_job":`...)
	b = append(b, job...)
	b = append(b, `,"profile":"`...)
	b = append(b, p.Profile.String()...)
	b = append(b, '"')
	if len(p.Meta) > 0 {
		meta, err := json.Marshal(p.Meta)
		if err != nil {
			return nil, fmt.Errorf("proof meta: %w", err)
		}
		b = append(b, `,"meta":`...)
		b = append(b, meta...)
	}
	b = append(b, '}')
	// Never write a file ParseProof would refuse (a meta nested too deep,
	// or too large).
	if len(b) > MaxProofFileSize {
		return nil, ruleErr(ErrBadEncoding, "proof file would be %d bytes, at most %d", len(b), MaxProofFileSize)
	}
	if len(p.Meta) > 0 {
		if err := checkJSON(b); err != nil {
			return nil, fmt.Errorf("proof meta: %w", err)
		}
	}
	return b, nil
}

// UnmarshalJSON reads a proof file strictly; see ParseProof.
func (p *Proof) UnmarshalJSON(data []byte) error {
	q, err := ParseProof(data)
	if err == nil {
		*p = *q
	}
	return err
}

// ParseProof decodes a proof file. A proof file has one encoding only, so
// that every tool reads the same proof from it: at most MaxProofFileSize
// bytes of valid UTF-8 holding one JSON object and nothing after it; keys in
// their exact case, none twice (in any object), none unknown outside meta;
// plain_proof and incomplete_header_bytes in canonical base64 without
// whitespace; a target of at most 78 digits equal to the expansion of the
// header's nbits; a canonical plain proof. Failures are RuleErrors naming
// the rule, quoting at most a short, escaped prefix of the input.
func ParseProof(data []byte) (*Proof, error) {
	if len(data) > MaxProofFileSize {
		return nil, ruleErr(ErrBadEncoding, "proof file is %d bytes, at most %d", len(data), MaxProofFileSize)
	}
	// JSON's own whitespace only: bytes.TrimSpace would also take Unicode
	// spaces (U+00A0, U+3000, …), which no JSON parser accepts.
	data = bytes.Trim(data, " \t\r\n")
	obj, err := jsonObject("proof", data, []string{"plain_proof", "mining_job", "profile"}, []string{"meta"})
	if err != nil {
		return nil, err
	}
	// The plain proof, most of the file, last.
	var job Job
	if err := job.UnmarshalJSON(obj["mining_job"]); err != nil {
		return nil, err
	}
	name, err := jsonString("profile", obj["profile"])
	if err != nil {
		return nil, err
	}
	profile, err := ParseProfile(name)
	if err != nil {
		return nil, err
	}
	var meta map[string]any
	if m, ok := obj["meta"]; ok {
		if len(m) == 0 || m[0] != '{' {
			return nil, ruleErr(ErrBadEncoding, "meta: want an object, got %s", quoteBytes(m))
		}
		dec := json.NewDecoder(bytes.NewReader(m))
		dec.UseNumber() // numbers are kept as written
		if err := dec.Decode(&meta); err != nil {
			return nil, ruleErr(ErrBadEncoding, "meta: %v", err)
		}
	}
	raw, err := jsonBase64("plain_proof", obj["plain_proof"])
	if err != nil {
		return nil, err
	}
	plain := new(PlainProof)
	if err := plain.UnmarshalBinary(raw); err != nil {
		return nil, err
	}
	return &Proof{Plain: plain, Job: job, Profile: profile, Meta: meta}, nil
}

// Verify checks the proof under its own job and profile, which must be what
// opts expects (see VerifyOptions).
func (p *Proof) Verify(opts VerifyOptions) (*Verification, error) {
	if p.Plain == nil {
		return nil, ruleErr(ErrBadInput, "proof: no plain proof")
	}
	return Verify(p.Job, p.Profile, p.Plain, opts)
}

// ID names the proof: the first 16 bytes of BLAKE3 of its plain-proof bytes,
// in hex. Two files with the same ID hold the same proof.
func (p *Proof) ID() (string, error) {
	if p.Plain == nil {
		return "", ruleErr(ErrBadInput, "proof: no plain proof")
	}
	raw, err := p.Plain.MarshalBinary()
	if err != nil {
		return "", err
	}
	sum := blake3.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}

// errNotRegular reports a path that is not a regular file: reading a FIFO
// or a device would block or never end.
var errNotRegular = errors.New("not a regular file")

// ReadProofFile reads and parses one proof file. Only regular files are
// opened: anything else (a directory, a FIFO, a device) is an error at
// once, never a read that blocks.
func ReadProofFile(path string) (*Proof, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", path, errNotRegular, info.Mode().Type())
	}
	// Opening a regular file never blocks; the second check catches a
	// path swapped for something else after the first.
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
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
