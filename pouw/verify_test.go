package pouw

import (
	"bytes"
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every tile's ticket, as the miner computed it, is what the verifier
// recomputes from a proof opening that tile: for winning tiles the proof
// verifies, for the others it is rejected with ErrHighHash.
func TestMinerTicketEqualsVerifierTicket(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	shapes := []struct {
		profile    Profile
		m, k, n, r int
		rows, cols []uint32
	}{
		{Local, 37, 100, 41, 32, seq(4, 1), seq(4, 1)},
		{Local, 34, 1029, 20, 64, seq(16, 1), seq(2, 1)},
		{Local, 40, 96, 40, 32, []uint32{0, 8}, []uint32{0, 1, 8, 9}}, // strided tiles
		{Pearl, 32, 2048, 32, 128, seq(16, 1), seq(16, 1)},
	}
	for _, s := range shapes {
		rows, err := FromList(s.rows)
		require.NoError(t, err)
		cols, err := FromList(s.cols)
		require.NoError(t, err)
		cfg := Config{K: uint32(s.k), Rank: uint16(s.r), Rows: rows, Cols: cols}
		a, b := randInt7(rng, s.m, s.k), randInt7(rng, s.n, s.k)
		job := testJob(t, cfg)
		p, err := MineProduct(job, s.profile, cfg, a, b, RefKernel{})
		require.NoError(t, err)
		require.True(t, p.Mined, p.Unmined)
		require.NotEmpty(t, p.Tickets)
		assert.Equal(t, plainProduct(a, b), p.C)
		wins := map[[32]byte]bool{}
		for _, w := range p.Wins {
			wins[w.Ticket] = true
		}
		for _, tt := range p.Tickets {
			proof, err := buildPlainProof(ptr(JobKey(job.Header, cfg)), a, b, cfg,
				shift(rows.Indices(), tt.RowOffset), shift(cols.Indices(), tt.ColOffset))
			require.NoError(t, err)
			v, err := Verify(job, s.profile, proof, VerifyOptions{})
			assert.Equal(t, tt.Ticket, v.Ticket, "tile (%d, %d)", tt.RowOffset, tt.ColOffset)
			if wins[tt.Ticket] {
				assert.NoError(t, err)
				assert.True(t, v.Win)
			} else {
				assert.Equal(t, ErrHighHash, CodeOf(err), "%v", err)
			}
			// The easiest target admits every tile.
			_, err = Verify(job, s.profile, proof, VerifyOptions{NbitsOverride: 0x207fffff})
			assert.NoError(t, err)
		}
	}
}

func ptr[T any](x T) *T { return &x }

func shift(idx []uint32, off int) []int {
	out := make([]int, len(idx))
	for i, x := range idx {
		out[i] = int(x) + off
	}
	return out
}

// validProof mines until some tile wins and returns that proof, whole.
func validProof(t testing.TB, profile Profile, m, k, n, r, h, w int) *Proof {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(m*k), uint64(n*r)))
	cfg := contiguousConfig(t, k, r, h, w)
	a, b := randInt7(rng, m, k), randInt7(rng, n, k)
	for ts := uint32(0); ts < 100; ts++ {
		job := testJob(t, cfg)
		job.Header.Timestamp += ts
		p, err := MineProduct(job, profile, cfg, a, b, RefKernel{})
		require.NoError(t, err)
		if len(p.Wins) > 0 {
			return &Proof{Plain: p.Wins[0].Proof, Job: job, Profile: profile, Meta: map[string]any{"role": "test"}}
		}
	}
	t.Fatal("no win in 100 jobs")
	return nil
}

func TestProofFileRoundTrip(t *testing.T) {
	proof := validProof(t, Local, 34, 200, 36, 32, 4, 4)
	dir := t.TempDir()
	path, err := WriteProofFile(dir, proof)
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temp file left behind")
	back, err := ReadProofFile(path)
	require.NoError(t, err)
	assert.Equal(t, proof.Plain, back.Plain)
	assert.Equal(t, proof.Job, back.Job)
	assert.Equal(t, "test", back.Meta["role"])
	v, err := back.Verify(VerifyOptions{})
	require.NoError(t, err)
	assert.True(t, v.Win)

	// The file's top-level fields are the gateway's params plus ours.
	var top map[string]json.RawMessage
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &top))
	assert.ElementsMatch(t, []string{"plain_proof", "mining_job", "profile", "meta"}, keys(top))
	var mj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(top["mining_job"], &mj))
	assert.ElementsMatch(t, []string{"incomplete_header_bytes", "target", "cert_version"}, keys(mj))
	assert.Regexp(t, `^[0-9]+$`, string(mj["target"]), "target is a plain JSON integer")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every single-byte change of a valid proof, of its header and of its
// target is rejected, and nothing panics. k = 1024 makes every change of m
// or n change the tree sizes, so no change can reach the lottery by luck.
func TestEverySingleByteFlipIsRejected(t *testing.T) {
	proof := validProof(t, Local, 8, 1024, 6, 32, 2, 2)
	_, err := proof.Verify(VerifyOptions{})
	require.NoError(t, err)
	raw, err := proof.Plain.MarshalBinary()
	require.NoError(t, err)
	for i := range raw {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := append([]byte(nil), raw...)
			b[i] ^= mask
			pp, err := DecodePlainProof(b)
			if err != nil {
				require.NotZero(t, CodeOf(err), "byte %d: %v", i, err)
				continue
			}
			_, err = Verify(proof.Job, proof.Profile, pp, VerifyOptions{})
			require.Error(t, err, "byte %d ^ %#x accepted", i, mask)
			require.NotZero(t, CodeOf(err), "byte %d: %v", i, err)
		}
	}
	hb := proof.Job.Header.Bytes()
	for i := range hb {
		b := hb
		b[i] ^= 0x01
		h, err := DecodeHeader(b[:])
		require.NoError(t, err)
		job := proof.Job
		job.Header = h
		_, err = Verify(job, proof.Profile, proof.Plain, VerifyOptions{})
		require.Error(t, err, "header byte %d", i)
		require.NotZero(t, CodeOf(err))
	}
	// The target in the file must be the header's nbits, expanded.
	data, err := json.Marshal(proof)
	require.NoError(t, err)
	var f proofFileJSON
	require.NoError(t, json.Unmarshal(data, &f))
	f.MiningJob.Target.Add(f.MiningJob.Target, bigOne)
	data, err = json.Marshal(f)
	require.NoError(t, err)
	_, err = ParseProof(data)
	assert.Equal(t, ErrBadTarget, CodeOf(err))
}

func TestParseProofRejectsMalformed(t *testing.T) {
	proof := validProof(t, Local, 8, 64, 8, 32, 2, 2)
	good, err := json.Marshal(proof)
	require.NoError(t, err)
	_, err = ParseProof(good)
	require.NoError(t, err)
	bad := map[string]string{
		"not json":        `{"plain_proof":`,
		"unknown field":   `{"plain_proof":"","mining_job":{},"profile":"local","extra":1}`,
		"bad base64":      `{"plain_proof":"!!","mining_job":{},"profile":"local"}`,
		"trailing":        string(good) + `{}`,
		"empty":           ``,
		"array":           `[]`,
		"negative target": `{"plain_proof":"","mining_job":{"target":-1},"profile":"local"}`,
	}
	for name, s := range bad {
		_, err := ParseProof([]byte(s))
		assert.Equal(t, ErrBadEncoding, CodeOf(err), "%s: %v", name, err)
	}
	var f proofFileJSON
	require.NoError(t, json.Unmarshal(good, &f))
	f.Profile = "mainnet"
	data, _ := json.Marshal(f)
	_, err = ParseProof(data)
	assert.Equal(t, ErrUnsupportedVersion, CodeOf(err))

	path := filepath.Join(t.TempDir(), "big.json")
	require.NoError(t, os.WriteFile(path, make([]byte, MaxProofFileSize+10), 0o644))
	_, err = ReadProofFile(path)
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
}

var bigOne = big.NewInt(1)

// A mining_job copied verbatim from getMiningInfo, ancestor_headers and
// all, parses.
func TestParseProofAcceptsGatewayMiningJob(t *testing.T) {
	proof := validProof(t, Local, 8, 64, 8, 32, 2, 2)
	data, err := json.Marshal(proof)
	require.NoError(t, err)
	var f map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep the 256-bit target an integer
	require.NoError(t, dec.Decode(&f))
	f["mining_job"].(map[string]any)["ancestor_headers"] = []any{}
	data, err = json.Marshal(f)
	require.NoError(t, err)
	back, err := ParseProof(data)
	require.NoError(t, err)
	_, err = back.Verify(VerifyOptions{})
	assert.NoError(t, err)
}
