package pouw

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every tile's ticket, as the miner computed it, is what the verifier
// recomputes from a proof opening that tile: for winning tiles the proof
// verifies, for the others it is rejected with ErrHighHash.
func TestMinerTicketEqualsVerifierTicket(t *testing.T) {
	keepingTickets(t)
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
		{Pearl, 80, 2048, 48, 128, []uint32{0, 8, 64, 72}, []uint32{0, 1, 8, 9, 32, 33, 40, 41}},
	}
	for _, s := range shapes {
		rows, err := FromList(s.rows)
		require.NoError(t, err)
		cols, err := FromList(s.cols)
		require.NoError(t, err)
		cfg := Config{K: uint32(s.k), Rank: uint16(s.r), Rows: rows, Cols: cols}
		require.Equal(t, s.profile, requiredProfile(cfg, uint64(s.m), uint64(s.n)))
		a, b := randInt7(rng, s.m, s.k), randInt7(rng, s.n, s.k)
		job := testJob(t, cfg)
		p, err := MineProduct(job, s.profile, cfg, a, b)
		require.NoError(t, err)
		require.True(t, p.Mined, p.Reason)
		require.NotEmpty(t, p.tickets)
		assert.Equal(t, plainProduct(a, b), p.C)
		wins := map[[32]byte]bool{}
		for _, w := range p.Wins {
			wins[w.Ticket] = true
		}
		key := JobKey(job.Header, cfg)
		for _, tt := range p.tickets {
			proof, err := buildPlainProof(&key, a, b, cfg,
				shift(rows.Indices(), tt.rowOffset), shift(cols.Indices(), tt.colOffset))
			require.NoError(t, err)
			v, err := Verify(job, s.profile, proof, VerifyOptions{})
			assert.Equal(t, tt.ticket, v.Ticket, "tile (%d, %d)", tt.rowOffset, tt.colOffset)
			assert.Equal(t, uint64(tt.rowOffset), v.RowOffset)
			assert.Equal(t, uint64(tt.colOffset), v.ColOffset)
			assert.Equal(t, cfg, v.Config)
			if wins[tt.ticket] {
				assert.NoError(t, err)
				assert.True(t, v.Win)
			} else {
				assert.Equal(t, ErrHighHash, CodeOf(err), "%v", err)
				assert.False(t, v.Win)
			}
			// The easiest target admits every tile.
			v, err = Verify(job, s.profile, proof, VerifyOptions{NbitsOverride: 0x207fffff})
			assert.NoError(t, err)
			assert.Equal(t, uint32(0x207fffff), v.Nbits)
		}
	}
}

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
	return winningProof(t, profile, contiguousConfig(t, k, r, h, w), randInt7(rng, m, k), randInt7(rng, n, k))
}

// winningProof mines a·btᵀ under jobs of successive timestamps until some
// tile wins, and returns that proof.
func winningProof(t testing.TB, profile Profile, cfg Config, a, bt Matrix) *Proof {
	t.Helper()
	for ts := uint32(0); ts < 100; ts++ {
		job := testJob(t, cfg)
		job.Header.Timestamp += ts
		p, err := MineProduct(job, profile, cfg, a, bt)
		require.NoError(t, err)
		require.True(t, p.Mined, p.Reason)
		if len(p.Wins) > 0 {
			proof := p.Wins[0].Proof
			proof.Meta = map[string]any{"role": "test"}
			return proof
		}
	}
	t.Fatal("no win in 100 jobs")
	return nil
}

// smallProof is about the smallest valid proof there is: A and Bᵀ are 2×32
// (one 2×2 tile), their entries, 32 to 64, printable bytes. It seeds
// FuzzVerify.
func smallProof(t testing.TB) *Proof {
	t.Helper()
	rng := rand.New(rand.NewPCG(2, 32))
	printable := func() Matrix {
		x := Matrix{Rows: 2, Cols: 32, Data: make([]int8, 2*32)}
		for i := range x.Data {
			x.Data[i] = int8(32 + rng.IntN(33))
		}
		return x
	}
	a, bt := printable(), printable()
	return winningProof(t, Local, contiguousConfig(t, 32, 32, 2, 2), a, bt)
}

func TestVerificationFields(t *testing.T) {
	proof := validProof(t, Local, 8, 64, 6, 32, 2, 2)
	v, err := proof.Verify(VerifyOptions{})
	require.NoError(t, err)
	p := proof.Plain
	assert.Equal(t, Local, v.Profile)
	assert.Equal(t, uint32(CertSalted), v.CertVersion)
	assert.Equal(t, [3]uint64{8, 6, 64}, [3]uint64{v.M, v.N, v.K})
	assert.Equal(t, JobKey(proof.Job.Header, v.Config), v.JobKey)
	assert.Equal(t, p.A.Proof.Root, v.HashA)
	assert.Equal(t, p.BT.Proof.Root, v.HashB)
	ha, hb := chainCommitments(CertSalted, v.HashA, v.HashB, 8, 6)
	assert.Equal(t, [2][32]byte{ha, hb}, [2][32]byte{v.HA, v.HB})
	sd := seedsFrom(v.JobKey, ha, hb)
	assert.Equal(t, sd.sA, v.SeedA)
	assert.Equal(t, sd.sB, v.SeedB)
	j := jackpot(v.Jackpot)
	assert.Equal(t, j.ticket(&v.SeedA), v.Ticket)
	assert.Equal(t, 0, ticketInt(v.Ticket).Cmp(v.TicketInt()))
	assert.LessOrEqual(t, v.TicketInt().Cmp(v.Bound), 0)
	assert.Equal(t, proof.Job.Header.Bits, v.Nbits)
	assert.True(t, v.Win)

	// Verifying against a harder target fills everything in but the win.
	v, err = proof.Verify(VerifyOptions{NbitsOverride: 0x03000001})
	assert.Equal(t, ErrHighHash, CodeOf(err))
	assert.False(t, v.Win)
	assert.Equal(t, sd.sA, v.SeedA)
	assert.Equal(t, uint32(0x03000001), v.Nbits)
	_, err = proof.Verify(VerifyOptions{NbitsOverride: 0x04923456})
	assert.Equal(t, ErrTarget, CodeOf(err))

	_, err = (&Proof{}).Verify(VerifyOptions{})
	assert.Equal(t, ErrBadInput, CodeOf(err))
}

// A proof relabelled with another certificate version or profile than it
// was mined under never verifies by default.
func TestRelabelledProofsAreRejected(t *testing.T) {
	proof := validProof(t, Local, 8, 64, 6, 32, 2, 2)
	_, err := proof.Verify(VerifyOptions{})
	require.NoError(t, err)

	for _, legacy := range []uint32{CertV1, CertV2} {
		q := *proof
		q.Job.CertVersion = legacy
		_, err = q.Verify(VerifyOptions{})
		assert.Equal(t, ErrCertVersion, CodeOf(err), "v%d by default: %v", legacy, err)
		// Asked for, the legacy chain runs: the raw roots feed the seeds,
		// and the ticket is another (which may or may not win).
		v, err := q.Verify(VerifyOptions{CertVersion: legacy})
		if err != nil {
			assert.Equal(t, ErrHighHash, CodeOf(err), "%v", err)
		}
		assert.Equal(t, legacy, v.CertVersion)
		assert.Equal(t, v.HashA, v.HA)
		assert.Equal(t, v.HashB, v.HB)
		assert.NotEqual(t, v.HashA, [32]byte{})
		// And a v3 proof asked for as legacy is rejected.
		_, err = proof.Verify(VerifyOptions{CertVersion: legacy})
		assert.Equal(t, ErrCertVersion, CodeOf(err))
	}
	for _, bad := range []uint32{0, 4, 99} {
		q := *proof
		q.Job.CertVersion = bad
		_, err = q.Verify(VerifyOptions{CertVersion: bad})
		assert.Equal(t, ErrCertVersion, CodeOf(err), "version %d", bad)
	}

	// A Pearl proof labelled local, or checked as local, is rejected.
	pearl := validProof(t, Pearl, 32, 2048, 32, 128, 16, 16)
	v, err := pearl.Verify(VerifyOptions{})
	require.NoError(t, err)
	assert.Equal(t, Pearl, v.Profile)
	_, err = pearl.Verify(VerifyOptions{Profile: Pearl})
	require.NoError(t, err)
	_, err = pearl.Verify(VerifyOptions{Profile: Local})
	assert.Equal(t, ErrProfile, CodeOf(err))
	relabelled := *pearl
	relabelled.Profile = Local
	_, err = relabelled.Verify(VerifyOptions{})
	assert.Equal(t, ErrProfile, CodeOf(err), "%v", err)
	_, err = relabelled.Verify(VerifyOptions{Profile: Pearl})
	assert.Equal(t, ErrProfile, CodeOf(err), "%v", err)
	relabelled.Profile = Profile(3)
	_, err = relabelled.Verify(VerifyOptions{})
	assert.Equal(t, ErrProfile, CodeOf(err))

	// A local proof labelled pearl: by default the label is wrong (its
	// configuration is a local one), and the message says which of Pearl's
	// rules it breaks; checked as pearl, the rule itself is the error.
	q := *proof
	q.Profile = Pearl
	v, err = q.Verify(VerifyOptions{})
	assert.Equal(t, ErrProfile, CodeOf(err), "%v", err)
	assert.ErrorContains(t, err, "ErrRank")
	assert.Equal(t, Pearl, v.Profile)
	_, err = q.Verify(VerifyOptions{Profile: Pearl})
	assert.Equal(t, ErrRank, CodeOf(err), "%v", err)
	_, err = q.Verify(VerifyOptions{Profile: Local})
	assert.Equal(t, ErrProfile, CodeOf(err), "%v", err)
	_, err = proof.Verify(VerifyOptions{Profile: Pearl})
	assert.Equal(t, ErrProfile, CodeOf(err))

	// Both labels at once, each way.
	for _, cv := range []uint32{CertV1, CertV2} {
		for _, tc := range []struct {
			p    *Proof
			to   Profile
			want ErrorCode
		}{{proof, Pearl, ErrCertVersion}, {pearl, Local, ErrCertVersion}} {
			q := *tc.p
			q.Job.CertVersion, q.Profile = cv, tc.to
			_, err = q.Verify(VerifyOptions{})
			assert.Equal(t, tc.want, CodeOf(err), "%v", err)
		}
	}
}

func TestProofFileRoundTrip(t *testing.T) {
	proof := validProof(t, Local, 34, 200, 36, 32, 4, 4)
	dir := t.TempDir()
	path, err := writeProofFile(dir, proof)
	require.NoError(t, err)
	id, err := proof.ID()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "proof-"+id+".json"), path)
	assert.Len(t, id, 32)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temp file left behind")
	back, err := ReadProofFile(path)
	require.NoError(t, err)
	assert.Equal(t, proof.Plain, back.Plain)
	assert.Equal(t, proof.Job, back.Job)
	assert.Equal(t, proof.Profile, back.Profile)
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
	assert.ElementsMatch(t, []string{"incomplete_header_bytes", "target", "cert_version", "ancestor_headers"}, keys(mj))
	assert.Regexp(t, `^[1-9][0-9]*$`, string(mj["target"]), "target is a plain JSON integer")
	assert.Equal(t, "[]", string(mj["ancestor_headers"]))

	// Only regular files are read.
	_, err = ReadProofFile(dir)
	assert.ErrorIs(t, err, errNotRegular)
	_, err = ReadProofFile(filepath.Join(dir, "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every single-byte change of a valid proof and of its header is rejected,
// and nothing panics. k = 1024 makes every change of m or n change the tree
// sizes, so no change can reach the lottery by luck.
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
				require.Equal(t, ErrBadEncoding, CodeOf(err), "byte %d: %v", i, err)
				continue
			}
			for _, profile := range []Profile{Local, Pearl} {
				_, err = Verify(proof.Job, profile, pp, VerifyOptions{})
				require.Error(t, err, "byte %d ^ %#x accepted", i, mask)
				require.NotZero(t, CodeOf(err), "byte %d: %v", i, err)
			}
		}
	}
	hb := proof.Job.Header.bytes()
	for i := range hb {
		b := hb
		b[i] ^= 0x01
		var h Header
		require.NoError(t, h.UnmarshalBinary(b[:]))
		job := proof.Job
		job.Header = h
		_, err = Verify(job, proof.Profile, proof.Plain, VerifyOptions{})
		require.Error(t, err, "header byte %d", i)
		require.NotZero(t, CodeOf(err))
	}
}

// A mining_job copied verbatim from getMiningInfo, ancestor_headers and
// all, parses; so does one without ancestor_headers, and an indented file.
func TestParseProofAcceptsGatewayMiningJob(t *testing.T) {
	proof := validProof(t, Local, 8, 64, 8, 32, 2, 2)
	data, err := json.Marshal(proof)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"ancestor_headers":[]`)
	without := strings.Replace(string(data), `,"ancestor_headers":[]`, "", 1)
	indented, err := json.MarshalIndent(proof, "\t", "   ")
	require.NoError(t, err)
	for _, in := range []string{string(data), without, string(indented), "\n\t " + string(data) + "\r\n"} {
		back, err := ParseProof([]byte(in))
		require.NoError(t, err)
		_, err = back.Verify(VerifyOptions{})
		assert.NoError(t, err)
		again, err := json.Marshal(back)
		require.NoError(t, err)
		assert.Equal(t, string(data), string(again))
	}
}
