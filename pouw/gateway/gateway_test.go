package gateway_test

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"lukechampine.com/blake3"

	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/pouw/gateway"
	"github.com/usefulwork/minedmatmul/pouw/gateway/gatewaytest"
)

// The training products of these tests: 32×2048×32 is the smallest shape
// Pearl's rules admit at r = 128 with 16×16 tiles (16r ≤ k, h·w ≤ 256), and
// 32×1024×32 is one they refuse (k < 16r), so a run mixes both.
const (
	eligibleK, ineligibleK = 2048, 1024
	side                   = 32
	productMACs            = side * side * eligibleK
)

// easyNbits finds about one proof per eligible product, as regtest's easy
// targets do; its target (≈2²³⁵) does not fit 64 bits, so every test also
// checks that the target is carried as a big JSON integer.
var easyNbits = pouw.Pearl.Nbits(productMACs, 128)

// testJob is a Pearl job whose header is told apart by tag.
func testJob(tag string) pouw.Job {
	return pouw.Job{
		Header: pouw.Header{
			Version:    0x20000000,
			PrevBlock:  blake3.Sum256([]byte("gateway test prev " + tag)),
			MerkleRoot: blake3.Sum256([]byte("gateway test merkle " + tag)),
			Timestamp:  1_700_000_000,
			Bits:       easyNbits,
		},
		CertVersion: pouw.CertSalted,
	}
}

// trainer stands in for a training loop: every step computes one eligible
// and one ineligible product of fresh seeded matrices, and checks that both
// come out exact, whatever the gateway is doing.
type trainer struct {
	t     *testing.T
	miner *pouw.Miner
	rng   *rand.Rand
	steps int
}

// newTrainer returns a trainer whose matrices are drawn from seed: fixed
// seeds make the proofs found, and so every count, the same on every run.
func newTrainer(t *testing.T, seed uint64, jobs pouw.JobSource, onProof func(pouw.Found)) *trainer {
	m, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    jobs,
		Profile: pouw.Pearl,
		Policy:  pouw.DefaultPolicy{TileH: 16, TileW: 16},
		OnProof: onProof,
	})
	require.NoError(t, err)
	return &trainer{t: t, miner: m, rng: rand.New(rand.NewPCG(seed, 7))}
}

func (tr *trainer) int7(rows, cols int) pouw.Matrix {
	x := pouw.Matrix{Rows: rows, Cols: cols, Data: make([]int8, rows*cols)}
	for i := range x.Data {
		x.Data[i] = int8(tr.rng.IntN(129) - 64)
	}
	return x
}

// step runs one training step and returns its eligible product.
func (tr *trainer) step() *pouw.Product {
	tr.t.Helper()
	tr.steps++
	tr.miner.SetStep(int64(tr.steps))
	var eligible *pouw.Product
	for _, k := range []int{eligibleK, ineligibleK} {
		a, bt := tr.int7(side, k), tr.int7(side, k)
		p, err := tr.miner.MatMul(a, bt, pouw.Tag{Role: "forward", Node: "dense"})
		require.NoError(tr.t, err)
		// Spot-check exactness on one entry per product: the full check is
		// the product tests' job; here it guards against a gateway state
		// that corrupts results.
		i, j := tr.rng.IntN(side), tr.rng.IntN(side)
		var want int32
		for l := 0; l < k; l++ {
			want += int32(a.Data[i*k+l]) * int32(bt.Data[j*k+l])
		}
		require.Equal(tr.t, want, p.C[i*side+j])
		if k == eligibleK {
			eligible = p
		}
	}
	return eligible
}

func (tr *trainer) run(n int) (mined int) {
	for range n {
		if tr.step().Mined {
			mined++
		}
	}
	return mined
}

func gatewayOpts(t *testing.T) gateway.Options {
	return gateway.Options{
		ProofDir:       filepath.Join(t.TempDir(), "proofs"),
		PollInterval:   5 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
		Backoff:        5 * time.Millisecond,
		MaxBackoff:     20 * time.Millisecond,
		MaxAttempts:    1000,
		// The trainers find proofs at the machine's pace, which can outrun
		// a faulty gateway's submissions for a while: only the full-queue
		// test (which sets its own) may lose a proof to the queue.
		QueueSize: 1 << 14,
		Logf:      t.Logf,
	}
}

func dial(t *testing.T, srv *gatewaytest.Server, opts gateway.Options) *gateway.Client {
	t.Helper()
	gw, err := gateway.Dial(context.Background(), srv.Addr(), opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		gw.Close(ctx)
	})
	return gw
}

// eventually waits for a condition on the client's side, which the
// server's WaitFor cannot see; it fails the test after a generous deadline
// instead of sleeping for a guessed time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func currentHeader(gw *gateway.Client) (pouw.Header, bool) {
	j, err := gw.CurrentJob()
	return j.Header, err == nil
}

func closeGateway(t *testing.T, gw *gateway.Client, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return gw.Close(ctx)
}

func proofID(t *testing.T, p *pouw.PlainProof) string {
	id, err := (&pouw.Proof{Plain: p}).ID()
	require.NoError(t, err)
	return id
}

// checkSubmissions asserts that the server received exactly the proofs in
// want (by ID, duplicates allowed: a dropped connection may make the client
// resend one) and that every one not stale verifies.
func checkSubmissions(t *testing.T, srv *gatewaytest.Server, want map[string]bool) {
	t.Helper()
	got := map[string]bool{}
	for _, s := range srv.Submissions() {
		id := proofID(t, s.Proof)
		got[id] = true
		if !s.Stale {
			assert.NoError(t, s.Err, "proof %s does not verify at the gateway", id)
			if assert.NotNil(t, s.Verification) {
				assert.True(t, s.Verification.Win)
				assert.Equal(t, pouw.Pearl, s.Verification.Profile)
			}
		}
	}
	assert.Equal(t, want, got)
}

// found collects the IDs of the proofs a miner found, then hands them on.
type found struct {
	ids  chan string
	next func(pouw.Found)
}

func (f *found) onProof(p pouw.Found) {
	id, _ := p.Proof.ID()
	f.ids <- id
	f.next(p)
}

func (f *found) all() map[string]bool {
	m := map[string]bool{}
	for {
		select {
		case id := <-f.ids:
			m[id] = true
		default:
			return m
		}
	}
}

func TestGatewayJobsChangeMidRun(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			srv := gatewaytest.NewUnix(t)
			if network == "tcp" {
				srv = gatewaytest.NewTCP(t)
			}
			j1, j2 := testJob("one"), testJob("two")
			srv.SetJob(j1)
			opts := gatewayOpts(t)
			gw := dial(t, srv, opts)
			h, ok := currentHeader(gw)
			require.True(t, ok, "Dial polls before returning")
			require.Equal(t, j1.Header, h)

			f := &found{ids: make(chan string, 1000), next: gw.OnProof}
			tr := newTrainer(t, 1, gw, f.onProof)
			assert.Equal(t, 6, tr.run(6))
			srv.SetJob(j2)
			eventually(t, "the new job", func() bool { h, _ := currentHeader(gw); return h == j2.Header })
			assert.Equal(t, 6, tr.run(6))

			require.NoError(t, closeGateway(t, gw, 10*time.Second))
			want := f.all()
			require.NotEmpty(t, want, "the easy target finds proofs")
			st := gw.Stats()
			assert.EqualValues(t, 2, st.JobsSeen)
			assert.EqualValues(t, len(want), st.Queued)
			assert.EqualValues(t, len(want), st.Accepted)
			assert.Zero(t, st.Failed+st.Dropped+st.Pending)
			assert.Empty(t, gw.Unsent())
			checkSubmissions(t, srv, want)

			headers := map[pouw.Header]bool{}
			for _, s := range srv.Submissions() {
				headers[s.Job.Header] = true
			}
			assert.Len(t, headers, 2, "proofs for both jobs")

			// Every proof is on disk too, as a file that parses.
			files, err := filepath.Glob(filepath.Join(opts.ProofDir, "proof-*.json"))
			require.NoError(t, err)
			assert.Len(t, files, len(want))
			for _, f := range files {
				p, err := pouw.ReadProofFile(f)
				require.NoError(t, err)
				assert.Equal(t, pouw.Pearl, p.Profile)
			}

			w := tr.miner.Stats().WorkShare()
			assert.EqualValues(t, 24, w.Products)
			assert.EqualValues(t, 12, w.Mined)
			assert.EqualValues(t, 12, w.Ineligible)
			assert.Zero(t, w.Paused)
			assert.InDelta(t, 2.0/3, w.Share, 1e-12, "eligible products are 2/3 of the MACs")
			assert.Contains(t, w.String(), "mined 12 of 24 products, 66.7%")
		})
	}
}

func TestGatewayMiningPaused(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	srv.Pause("mining_paused: node is syncing")
	gw := dial(t, srv, gatewayOpts(t))
	_, err := gw.CurrentJob()
	require.ErrorIs(t, err, pouw.ErrPaused)
	assert.Contains(t, err.Error(), "mining_paused: node is syncing")

	f := &found{ids: make(chan string, 1000), next: gw.OnProof}
	tr := newTrainer(t, 2, gw, f.onProof)
	assert.Zero(t, tr.run(3), "nothing is mined while paused")
	w := tr.miner.Stats().WorkShare()
	assert.EqualValues(t, 6, w.Paused)
	assert.Zero(t, w.Ineligible)

	j := testJob("after pause")
	srv.SetJob(j)
	eventually(t, "resume", func() bool { _, ok := currentHeader(gw); return ok })
	assert.Equal(t, 3, tr.run(3))
	require.NoError(t, closeGateway(t, gw, 10*time.Second))

	st := gw.Stats()
	assert.False(t, st.Paused)
	assert.Positive(t, st.PausedTime)
	assert.GreaterOrEqual(t, st.PausedCalls, int64(6))
	assert.EqualValues(t, 1, st.JobsSeen)
	checkSubmissions(t, srv, f.all())
}

func TestGatewayRetriesPausedSubmission(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	j := testJob("retry paused")
	srv.SetJob(j)
	gw := dial(t, srv, gatewayOpts(t))
	p := mineOne(t, j)
	srv.Pause("mining_paused: template refresh")
	eventually(t, "pause", func() bool { _, ok := currentHeader(gw); return !ok })
	require.NoError(t, gw.Submit(p))
	// The submission is answered −32001 until the template is back.
	eventually(t, "a retry", func() bool { return gw.Stats().Retries > 0 })
	srv.SetJob(j)
	eventually(t, "acceptance", func() bool { return gw.Stats().Accepted == 1 })
	require.NoError(t, closeGateway(t, gw, time.Second))
	checkSubmissions(t, srv, map[string]bool{mustID(t, p): true})
}

// A gateway whose submission queue is full answers −32000 "proof
// submission queue full"; the client retries like a pause, and the proof
// is accepted once the queue has room.
func TestGatewayRetriesQueueFull(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	j := testJob("queue full")
	srv.SetJob(j)
	gw := dial(t, srv, gatewayOpts(t))
	p := mineOne(t, j)
	srv.InjectFault("submitPlainProof", gatewaytest.QueueFull)
	srv.InjectFault("submitPlainProof", gatewaytest.QueueFull)
	require.NoError(t, gw.Submit(p))
	eventually(t, "acceptance", func() bool { return gw.Stats().Accepted == 1 })
	st := gw.Stats()
	assert.EqualValues(t, 2, st.Retries)
	assert.Zero(t, st.Failed)
	require.NoError(t, closeGateway(t, gw, time.Second))
	checkSubmissions(t, srv, map[string]bool{mustID(t, p): true})
}

// mineOne mines proofs for job with a miner of its own, outside any
// gateway, and returns the first.
func mineOne(t *testing.T, job pouw.Job) *pouw.Proof {
	t.Helper()
	var got *pouw.Proof
	tr := newTrainer(t, 3, pouw.StaticJob{J: job}, func(f pouw.Found) {
		if got == nil {
			got = f.Proof
		}
	})
	for i := 0; got == nil; i++ {
		require.Less(t, i, 50, "no proof in 50 products")
		tr.step()
	}
	return got
}

func mustID(t *testing.T, p *pouw.Proof) string {
	id, err := p.ID()
	require.NoError(t, err)
	return id
}

func TestGatewayConnectionDroppedAndRestored(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			srv := gatewaytest.NewUnix(t)
			if network == "tcp" {
				srv = gatewaytest.NewTCP(t)
			}
			j := testJob("drop " + network)
			srv.SetJob(j)
			gw := dial(t, srv, gatewayOpts(t))
			f := &found{ids: make(chan string, 1000), next: gw.OnProof}
			tr := newTrainer(t, 4, gw, f.onProof)
			spare := mineOne(t, j)

			// Connections dropped under a live listener: the client redials.
			// The first submission is cut off after the gateway read it, so
			// it is sent again.
			srv.InjectFault("submitPlainProof", gatewaytest.Drop)
			srv.DropConnections()
			assert.Equal(t, 3, tr.run(3), "a dropped connection is redialled at once: no pause")
			for len(f.ids) == 0 {
				require.Less(t, tr.steps, 50, "no proof in 50 steps")
				tr.step()
			}
			eventually(t, "submissions", func() bool { return gw.Stats().Pending == 0 && gw.Stats().Accepted > 0 })
			assert.Positive(t, gw.Stats().Retries)

			// The gateway goes down: mining pauses, training goes on.
			srv.Stop()
			eventually(t, "pause", func() bool { return gw.Stats().Reason == "gateway unreachable" })
			p := tr.step()
			assert.False(t, p.Mined)
			assert.ErrorContains(t, p.Reason, "pearl gateway: gateway unreachable: mining paused")
			assert.Equal(t, pouw.ErrNoJob, pouw.CodeOf(p.Reason))
			// A proof found before the outage and handed over during it
			// waits, retried with backoff, until the gateway is back.
			retries := gw.Stats().Retries
			require.NoError(t, gw.Submit(spare))
			eventually(t, "a retry during the outage", func() bool { return gw.Stats().Retries > retries })

			require.NoError(t, srv.Start())
			eventually(t, "resume", func() bool { _, ok := currentHeader(gw); return ok })
			assert.Equal(t, 2, tr.run(2))
			require.NoError(t, closeGateway(t, gw, 10*time.Second))

			want := f.all()
			want[mustID(t, spare)] = true
			st := gw.Stats()
			assert.EqualValues(t, len(want), st.Accepted)
			assert.Zero(t, st.Failed)
			assert.Positive(t, st.PausedTime)
			checkSubmissions(t, srv, want)
		})
	}
}

func TestGatewaySlowAndStalled(t *testing.T) {
	srv := gatewaytest.NewTCP(t)
	j := testJob("slow")
	srv.SetJob(j)
	opts := gatewayOpts(t)
	opts.RequestTimeout = 300 * time.Millisecond
	gw := dial(t, srv, opts)
	f := &found{ids: make(chan string, 1000), next: gw.OnProof}
	tr := newTrainer(t, 5, gw, f.onProof)

	// Slow but within the timeout: everything works.
	srv.SetDelay(20 * time.Millisecond)
	assert.Equal(t, 3, tr.run(3))
	eventually(t, "submissions", func() bool { return gw.Stats().Pending == 0 })
	srv.SetDelay(0)

	// A gateway that never answers. Training must not wait for it: the
	// steps run while every request hangs, and if any of them waited on the
	// network this would deadlock, since the hold ends only after them.
	srv.Hold()
	done := make(chan int)
	go func() {
		mined := 0
		for range 4 {
			// MatMul and OnProof (Submit) on the training goroutine.
			p, err := tr.miner.MatMul(tr.int7(side, eligibleK), tr.int7(side, eligibleK), pouw.Tag{Role: "forward"})
			if err == nil && p.Mined {
				mined++
			}
		}
		done <- mined
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("training waited on a stalled gateway")
	}
	eventually(t, "the stalled gateway pauses mining", func() bool { return gw.Stats().Reason == "gateway not answering" })
	srv.Release()
	eventually(t, "resume", func() bool { _, ok := currentHeader(gw); return ok })
	tr.run(2)
	require.NoError(t, closeGateway(t, gw, 10*time.Second))

	st := gw.Stats()
	assert.Zero(t, st.Failed)
	assert.EqualValues(t, st.Queued, st.Accepted)
	checkSubmissions(t, srv, f.all())
}

func TestGatewayMalformedAndOversizedAnswers(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	j := testJob("faults")
	srv.SetJob(j)
	opts := gatewayOpts(t)
	gw := dial(t, srv, opts)
	f := &found{ids: make(chan string, 1000), next: gw.OnProof}
	tr := newTrainer(t, 6, gw, f.onProof)

	for _, fault := range []gatewaytest.Fault{gatewaytest.Malformed, gatewaytest.Oversized, gatewaytest.WrongID} {
		srv.InjectFault("getMiningInfo", fault)
		srv.InjectFault("submitPlainProof", fault)
	}
	// Train through them; the faults are consumed by polls (on a timer)
	// and submissions (as proofs are found), so the bound is time, not a
	// step count: a loaded machine trains more steps per poll.
	deadline := time.Now().Add(20 * time.Second)
	for gw.Stats().PollErrors < 1 || gw.Stats().Retries < 2 {
		require.True(t, time.Now().Before(deadline), "faults not consumed after 20s: %+v", gw.Stats())
		tr.step()
	}
	// The malformed answer costs a connection; the poll redials at once
	// and meets the oversized one: one failed poll. A submission meets
	// each fault on its own attempt.
	assert.EqualValues(t, 1, gw.Stats().PollErrors)
	assert.GreaterOrEqual(t, gw.Stats().Retries, int64(2))
	eventually(t, "recovery", func() bool { _, ok := currentHeader(gw); return ok })
	tr.run(2)
	require.NoError(t, closeGateway(t, gw, 10*time.Second))
	st := gw.Stats()
	assert.Zero(t, st.Failed)
	assert.EqualValues(t, st.Queued, st.Accepted)
	checkSubmissions(t, srv, f.all())
}

func TestGatewayClientFaults(t *testing.T) {
	srv := gatewaytest.NewTCP(t)
	srv.SetJob(testJob("client"))
	c, err := gateway.NewConn(srv.Addr(), 0)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info := func() error { _, err := c.MiningInfo(ctx); return err }

	require.NoError(t, info())
	job, err := c.MiningInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, testJob("client"), job)
	target, err := job.Target()
	require.NoError(t, err)
	assert.Greater(t, target.BitLen(), 64, "the target is a big JSON integer")

	srv.InjectFault("getMiningInfo", gatewaytest.Malformed)
	err = info()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "malformed response")
	require.NoError(t, info(), "reconnects after a malformed line")

	srv.InjectFault("getMiningInfo", gatewaytest.Oversized)
	require.ErrorIs(t, info(), gateway.ErrLineTooLong)
	require.NoError(t, info(), "reconnects after an oversized line")

	srv.InjectFault("getMiningInfo", gatewaytest.WrongID)
	require.NoError(t, info(), "a response for another id is skipped")

	srv.InjectFault("getMiningInfo", gatewaytest.Drop)
	require.Error(t, info())
	require.NoError(t, info(), "reconnects after a drop")

	var ge *gateway.Error
	err = c.Call(ctx, "getBlockTemplate", nil, nil)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, gateway.CodeMethodNotFound, ge.Code)
	assert.Equal(t, "Method getBlockTemplate not found", ge.Message)

	err = c.Call(ctx, "getMiningInfo", map[string]int{"x": 1}, nil)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, gateway.CodeInvalidParams, ge.Code)

	srv.Pause("mining_paused")
	err = info()
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, gateway.CodeMiningPaused, ge.Code)

	// Nothing over the request limit (1 MiB by default) is sent: an older
	// gateway would cut the line.
	n := len(srv.Submissions())
	err = c.Call(ctx, "submitPlainProof", map[string]string{"plain_proof": strings.Repeat("A", gateway.MaxRequest)}, nil)
	require.ErrorIs(t, err, gateway.ErrLineTooLong)
	assert.Len(t, srv.Submissions(), n)

	// A request the gateway cannot use is answered with its code.
	srv.SetJob(testJob("client"))
	srv.InjectFault("submitPlainProof", gatewaytest.Reject)
	err = c.Submit(ctx, mineOne(t, testJob("client")))
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, gateway.CodeServerError, ge.Code)
	assert.Equal(t, "injected failure", ge.Message)
}

// TestFakeGatewayLineLimit checks the test server itself: a request line
// over 4 MiB gets the gateway's generic error and the connection closes.
func TestFakeGatewayLineLimit(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	_, path, err := gateway.ParseAddr(srv.Addr())
	require.NoError(t, err)
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	go func() {
		big := `{"jsonrpc":"2.0","method":"getMiningInfo","id":1,"params":{"pad":"` + strings.Repeat("x", gatewaytest.MaxLine) + "\"}}\n"
		conn.Write([]byte(big))
	}()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, line, `"code":-32000`)
	assert.Contains(t, line, `"id":null`)

	for _, tc := range []struct{ req, code string }{
		{`not json`, "-32700"},
		{`{"jsonrpc":"2.0","method":"getMiningInfo","id":1,"extra":0}`, "-32600"},
		{`{"jsonrpc":"1.0","method":"getMiningInfo","id":1}`, "-32600"},
		{`{"jsonrpc":"2.0","method":"getMiningInfo","id":1,"params":[]}`, "-32600"},
		{`{"jsonrpc":"2.0","method":"nope","id":1}`, "-32601"},
		{`{"jsonrpc":"2.0","method":"submitPlainProof","id":1,"params":{"plain_proof":"AA==","mining_job":{},"x":1}}`, "-32602"},
		{`{"jsonrpc":"2.0","method":"getMiningInfo","id":"a"}`, "-32001"},
	} {
		c, err := net.Dial("unix", path)
		require.NoError(t, err)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte(tc.req + "\n"))
		require.NoError(t, err)
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		require.NoError(t, err, tc.req)
		assert.Contains(t, line, `"code":`+tc.code, tc.req)
	}
}

func TestGatewayStaleProofSubmittedOnce(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	old, cur := testJob("old"), testJob("current")
	srv.SetJob(old)
	gw := dial(t, srv, gatewayOpts(t))
	p1 := mineOne(t, old)
	p2 := mineOne(t, testJob("older still"))
	srv.SetJob(cur)
	eventually(t, "the new job", func() bool { h, _ := currentHeader(gw); return h == cur.Header })

	require.NoError(t, gw.Submit(p1))
	eventually(t, "the stale submission", func() bool { return gw.Stats().Submitted == 1 && gw.Stats().Pending == 0 })
	st := gw.Stats()
	assert.EqualValues(t, 1, st.Stale)
	assert.EqualValues(t, 1, st.Accepted, `the gateway answers "submitted" and drops it`)
	subs := srv.Submissions()
	require.Len(t, subs, 1)
	assert.True(t, subs[0].Stale)

	// A stale proof whose one attempt fails is not retried.
	srv.InjectFault("submitPlainProof", gatewaytest.Drop)
	require.NoError(t, gw.Submit(p2))
	eventually(t, "the failed stale submission", func() bool { return gw.Stats().Failed == 1 })
	st = gw.Stats()
	assert.Zero(t, st.Retries)
	assert.EqualValues(t, 2, st.Stale)
	err := closeGateway(t, gw, time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 proofs not accepted")
	unsent := gw.Unsent()
	require.Len(t, unsent, 1)
	back, err := pouw.ReadProofFile(unsent[0])
	require.NoError(t, err)
	assert.Equal(t, mustID(t, p2), mustID(t, back))
}

func TestGatewayQueueFullAndCloseDeadline(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	j := testJob("queue")
	srv.SetJob(j)
	opts := gatewayOpts(t)
	opts.QueueSize = 2
	opts.RequestTimeout = time.Minute // only Close's deadline ends the stalled submission
	gw := dial(t, srv, opts)

	var proofs []*pouw.Proof
	tr := newTrainer(t, 7, pouw.StaticJob{J: j}, func(f pouw.Found) { proofs = append(proofs, f.Proof) })
	for len(proofs) < 6 {
		require.Less(t, tr.steps, 100)
		tr.step()
	}
	late := proofs[5:]
	proofs = proofs[:5]

	srv.Hold()
	for _, p := range proofs {
		require.NoError(t, gw.Submit(p))
	}
	eventually(t, "files written", func() bool { return gw.Stats().Saved == 5 })
	st := gw.Stats()
	assert.EqualValues(t, 5, st.Queued+st.Dropped)
	assert.GreaterOrEqual(t, st.Dropped, int64(2), "one in flight at most, two queued")

	start := time.Now()
	err := closeGateway(t, gw, 100*time.Millisecond)
	assert.Less(t, time.Since(start), 5*time.Second, "Close keeps its deadline")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "5 proofs not accepted")
	st = gw.Stats()
	assert.Zero(t, st.Pending)
	assert.EqualValues(t, st.Queued, st.Abandoned)
	assert.Zero(t, st.Accepted)

	// Nothing is lost: every proof is a file that reads back.
	unsent := gw.Unsent()
	require.Len(t, unsent, 5)
	ids := map[string]bool{}
	for _, f := range unsent {
		p, err := pouw.ReadProofFile(f)
		require.NoError(t, err)
		ids[mustID(t, p)] = true
	}
	for _, p := range proofs {
		assert.True(t, ids[mustID(t, p)])
	}
	// After Close a proof is refused, and says so.
	assert.ErrorContains(t, gw.Submit(late[0]), "closed")
	assert.Len(t, gw.Unsent(), 5)
	srv.Release()
}

func TestGatewayJobNotMinable(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	j := testJob("legacy")
	j.CertVersion = pouw.CertV2
	srv.SetJob(j)
	gw := dial(t, srv, gatewayOpts(t))
	_, err := gw.CurrentJob()
	require.ErrorIs(t, err, pouw.ErrPaused)
	assert.Contains(t, err.Error(), "job not minable")
	var re pouw.RuleError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, pouw.ErrCertVersion, re.Code)
	// The miner runs its products unmined rather than failing them.
	tr := newTrainer(t, 8, gw, gw.OnProof)
	assert.Zero(t, tr.run(1))
}

func TestDialUnreachableAndBadOptions(t *testing.T) {
	dir := t.TempDir()
	gw, err := gateway.Dial(context.Background(), filepath.Join(dir, "nobody.sock"),
		gateway.Options{ProofDir: filepath.Join(dir, "p")})
	require.NoError(t, err, "a gateway that is not up yet is not an error")
	_, err = gw.CurrentJob()
	require.ErrorIs(t, err, pouw.ErrPaused)
	assert.Equal(t, "pearl gateway: gateway unreachable: mining paused", err.Error())
	assert.Contains(t, gw.Stats().LastError, "nobody.sock")
	require.NoError(t, gw.Close(context.Background()))

	_, err = gateway.Dial(context.Background(), "127.0.0.1:1", gateway.Options{})
	assert.ErrorContains(t, err, "ProofDir")
	_, err = gateway.Dial(context.Background(), "http://x", gateway.Options{ProofDir: dir})
	assert.ErrorContains(t, err, "unknown scheme")
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	_, err = gateway.Dial(context.Background(), "127.0.0.1:1", gateway.Options{ProofDir: filepath.Join(blocker, "sub")})
	assert.ErrorContains(t, err, "proof directory")
}

func TestParseGatewayAddr(t *testing.T) {
	for _, tc := range []struct{ in, network, addr, err string }{
		{"unix:///tmp/pearlgw.sock", "unix", "/tmp/pearlgw.sock", ""},
		{"/tmp/pearlgw.sock", "unix", "/tmp/pearlgw.sock", ""},
		{"./gw.sock", "unix", "./gw.sock", ""},
		{"tcp://127.0.0.1:8337", "tcp", "127.0.0.1:8337", ""},
		{"127.0.0.1:8337", "tcp", "127.0.0.1:8337", ""},
		{"localhost:8337", "tcp", "localhost:8337", ""},
		{"[::1]:8337", "tcp", "[::1]:8337", ""},
		{"", "", "", "empty"},
		{"unix://", "", "", "no path"},
		{"http://127.0.0.1:8337", "", "", "unknown scheme"},
		{"127.0.0.1", "", "", "host:port"},
		{"tcp://127.0.0.1:", "", "", "host:port"},
	} {
		network, addr, err := gateway.ParseAddr(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.network, network, tc.in)
		assert.Equal(t, tc.addr, addr, tc.in)
	}
}

// A local-profile proof is kept on disk but never sent: Pearl's gateway
// takes only proofs made under its own rules.
func TestGatewayRefusesNonPearlProofs(t *testing.T) {
	srv := gatewaytest.NewUnix(t)
	job := testJob("current")
	srv.SetJob(job)
	opts := gatewayOpts(t)
	gw := dial(t, srv, opts)
	p := mineOne(t, job)
	p.Profile = pouw.Local
	require.NoError(t, gw.Submit(p))
	eventually(t, "refused", func() bool { return gw.Stats().NotPearl == 1 })
	assert.EqualValues(t, 1, gw.Stats().Saved, "kept on disk")
	assert.Zero(t, gw.Stats().Accepted)
	assert.ErrorContains(t, closeGateway(t, gw, time.Second), "1 proofs not accepted")
	assert.Empty(t, srv.Submissions())
	assert.Len(t, gw.Unsent(), 1)
}
