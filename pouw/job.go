package pouw

import (
	"encoding/base64"
	"errors"
	"math/big"
	"strconv"

	"lukechampine.com/blake3"
)

// Job is what a miner works on: a header (whose nbits is the network target)
// and the certificate version its proofs are checked under.
//
// Its JSON form is the Pearl gateway's mining_job object (§11), as
// getMiningInfo returns it and submitPlainProof takes it back.
type Job struct {
	Header      Header
	CertVersion uint32
}

// Target expands the header's nbits.
func (j Job) Target() (*big.Int, error) { return Target(j.Header.Bits) }

// maxTargetDigits is the length of 2²⁵⁶−1 in decimal: no valid target is
// longer, and a longer number is rejected before it is parsed (big.Int's
// decimal parse is quadratic in the digits).
const maxTargetDigits = 78

// MarshalJSON writes the job as the gateway's mining_job:
//
//	{"incomplete_header_bytes":"<base64 of 76 bytes>","target":<integer>,"cert_version":3,"ancestor_headers":[]}
//
// target is the expansion of the header's nbits; ancestor_headers is empty
// for the INT certificate versions, and always present because the gateway's
// submitPlainProof schema requires it.
func (j Job) MarshalJSON() ([]byte, error) {
	target, err := j.Target()
	if err != nil {
		return nil, err
	}
	if err := checkCertVersion(j.CertVersion); err != nil {
		return nil, err
	}
	hb := j.Header.bytes()
	b := []byte(`{"incomplete_header_bytes":"`)
	b = base64.StdEncoding.AppendEncode(b, hb[:])
	b = append(b, `","target":`...)
	b = target.Append(b, 10)
	b = append(b, `,"cert_version":`...)
	b = strconv.AppendUint(b, uint64(j.CertVersion), 10)
	b = append(b, `,"ancestor_headers":[]}`...)
	return b, nil
}

// UnmarshalJSON reads a mining_job strictly (see ParseProof for the rules of
// the encoding): a 76-byte header in canonical base64, a target that is the
// expansion of the header's nbits (at most 78 digits, checked before it is
// parsed), a known certificate version, and ancestor_headers, if present,
// empty. On error j is left unchanged.
func (j *Job) UnmarshalJSON(data []byte) error {
	obj, err := jsonObject("mining_job", data,
		[]string{"incomplete_header_bytes", "target", "cert_version"}, []string{"ancestor_headers"})
	if err != nil {
		return err
	}
	hb, err := jsonBase64("mining_job.incomplete_header_bytes", obj["incomplete_header_bytes"])
	if err != nil {
		return err
	}
	var h Header
	if err := h.UnmarshalBinary(hb); err != nil {
		return err
	}
	digits, err := jsonUint("mining_job.target", obj["target"], maxTargetDigits)
	if err != nil {
		return err
	}
	want, err := Target(h.Bits)
	if err != nil {
		return err
	}
	if got, _ := new(big.Int).SetString(digits, 10); got.Cmp(want) != 0 {
		return ruleErr(ErrTarget, "mining_job.target %s is not %s, the expansion of the header's nbits %#08x", quote(digits), want, h.Bits)
	}
	version, err := jsonUint32("mining_job.cert_version", obj["cert_version"])
	if err != nil {
		return err
	}
	if err := checkCertVersion(version); err != nil {
		return err
	}
	if anc, ok := obj["ancestor_headers"]; ok && string(anc) != "[]" {
		return ruleErr(ErrBadEncoding, "mining_job.ancestor_headers: want [] for an INT certificate, got %s", quoteBytes(anc))
	}
	*j = Job{Header: h, CertVersion: version}
	return nil
}

// ErrPaused is returned (wrapped) by a JobSource that has no job to give:
// the gateway said mining_paused, or it cannot be reached. The miner then
// computes products exactly and unmined (reason ErrNoJob).
var ErrPaused = errors.New("mining paused")

// JobSource supplies the job to mine. Implementations must be safe for
// concurrent use; CurrentJob is called once per product, so it must not block
// on the network.
type JobSource interface {
	CurrentJob() (Job, error)
}

// StaticJob is a JobSource that always returns the same job.
type StaticJob struct{ J Job }

// CurrentJob returns the job.
func (s StaticJob) CurrentJob() (Job, error) { return s.J, nil }

// DevJob is a development job source: a fixed header (version 1, a
// previous-block hash that names it a development job, time 0) carrying
// nbits, under certificate version 3. Its proofs verify like any other but
// belong to no chain.
func DevJob(nbits uint32) StaticJob {
	return StaticJob{J: Job{
		Header: Header{
			Version:   1,
			PrevBlock: blake3.Sum256([]byte("minedmatmul/dev-job")),
			Bits:      nbits,
		},
		CertVersion: CertSalted,
	}}
}
