// Package gatewaytest runs a Pearl gateway for tests, as net/http/httptest
// runs an HTTP server: a real listener on a Unix socket or on TCP that
// speaks pearl-gateway's line-delimited JSON-RPC 2.0 (PROTOCOL.md §11) —
// the envelope schema, getMiningInfo, submitPlainProof and the error codes
// −32700, −32600, −32601, −32602, −32000 and −32001 mining_paused — with a
// 4 MiB line limit. Unlike the real gateway it verifies every proof it is
// sent (with package pouw) and records the verdict, and it can be told to
// misbehave: pause, stall, answer slowly, drop connections, go down and
// come back, send malformed or oversized lines, serve a hostile job verbatim
// (SetJobJSON) or reject with a hostile message (InjectError).
//
// What it does where Pearl's code was not read (see docs/GATEWAY.md) is a
// choice made for testing: it answers −32001 to submissions while paused,
// and closes the connection after replying to an over-long line.
package gatewaytest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usefulwork/minedmatmul/pouw"
)

// MaxLine is the gateway's line limit: asyncio's StreamReader limit of
// 4 MiB (the larger of pearl-gateway's two), newline excluded; the client's
// gateway.MaxLine counts the newline.
const MaxLine = 4 << 20

// Submission is one submitPlainProof the server received and decoded.
type Submission struct {
	Job   pouw.Job
	Proof *pouw.PlainProof
	// Stale: the header was not the current job's; the real gateway drops
	// such proofs silently, and so this server does not verify them.
	Stale bool
	// Verification and Err are what pouw.Verify said under the server's
	// profile (Err nil: a valid, winning proof).
	Verification *pouw.Verification
	Err          error
}

// Fault is a misbehaviour for the next request of a method.
type Fault int

// The faults InjectFault can schedule.
const (
	// None answers normally: queued before other faults, it lets requests
	// through before they apply.
	None Fault = iota
	// Malformed answers with a line that is not JSON.
	Malformed
	// Oversized answers with a valid JSON-RPC response longer than MaxLine.
	Oversized
	// Drop closes the connection without answering.
	Drop
	// WrongID first answers with a response for another id, then correctly.
	WrongID
	// Reject answers −32000 "injected failure", as Pearl's gateway does for
	// any exception.
	Reject
	// QueueFull answers −32000 "proof submission queue full" without taking
	// the request, as a pearl-gateway with a bounded submission queue does.
	QueueFull

	// rejectWith answers with the code and message InjectError gave.
	rejectWith Fault = -1
)

// scheduled is one fault waiting for its request.
type scheduled struct {
	fault   Fault
	code    int
	message string
}

// Server is a fake Pearl gateway listening on a real socket.
type Server struct {
	network, addr string

	mu          sync.Mutex
	profile     pouw.Profile // proofs are verified under it
	ln          net.Listener
	conns       map[net.Conn]struct{}
	job         *pouw.Job
	rawJob      json.RawMessage // non-nil: getMiningInfo's result, verbatim
	paused      string          // mining_paused message, "" when not paused
	delay       time.Duration
	held        chan struct{} // non-nil: handlers wait for it to close
	faults      map[string][]scheduled
	polls       int
	submissions []Submission
	changed     chan struct{} // closed and replaced on every event
	stopped     chan struct{} // closed by Stop, so waits end
	wg          sync.WaitGroup
}

// NewUnix starts a server on a Unix socket in a fresh temporary directory
// (a short path: socket paths are limited to about 100 bytes). It is
// closed when the test ends.
func NewUnix(t testing.TB) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return start(t, "unix", filepath.Join(dir, "gw.sock"))
}

// NewTCP starts a server on a free TCP port of 127.0.0.1. It is closed when
// the test ends.
func NewTCP(t testing.TB) *Server {
	t.Helper()
	return start(t, "tcp", "127.0.0.1:0")
}

func start(t testing.TB, network, addr string) *Server {
	s := &Server{profile: pouw.Pearl, network: network, addr: addr,
		conns: map[net.Conn]struct{}{}, faults: map[string][]scheduled{}, changed: make(chan struct{})}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr is the gateway address in the form gateway.ParseAddr reads:
// unix:///path or tcp://127.0.0.1:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.network + "://" + s.addr
}

// Start listens again on the same address after Stop: the gateway restored.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("gatewaytest: already listening")
	}
	ln, err := net.Listen(s.network, s.addr)
	if err != nil {
		return err
	}
	s.ln, s.addr = ln, ln.Addr().String() // a TCP port 0 becomes the real one
	s.stopped = make(chan struct{})
	s.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Stop closes the listener and every connection and waits for the
// handlers: the gateway is down. Start brings it back.
func (s *Server) Stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	if ln != nil {
		close(s.stopped)
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// DropConnections closes every open connection; the listener stays.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// SetProfile sets the profile submissions are verified under (default
// pouw.Pearl).
func (s *Server) SetProfile(p pouw.Profile) {
	s.mu.Lock()
	s.profile = p
	s.mu.Unlock()
}

// SetJob makes j the current template and ends a pause (and SetJobJSON).
func (s *Server) SetJob(j pouw.Job) {
	s.mu.Lock()
	s.job, s.rawJob, s.paused = &j, nil, ""
	s.notifyLocked()
	s.mu.Unlock()
}

// SetJobJSON makes getMiningInfo answer with raw as its result, verbatim
// and unchecked, until SetJob or Pause: a job no real gateway would send (a
// target of millions of digits, an unknown key, a bad header), as a hostile
// or broken one might. raw must be valid JSON; its line may exceed MaxLine.
// There is no current template meanwhile: every submission is stale.
func (s *Server) SetJobJSON(raw []byte) {
	s.mu.Lock()
	s.job, s.rawJob, s.paused = nil, append(json.RawMessage(nil), raw...), ""
	s.notifyLocked()
	s.mu.Unlock()
}

// Pause makes getMiningInfo (and submitPlainProof) answer −32001 with
// message msg ("mining_paused" or "mining_paused: <details>"), verbatim,
// until SetJob or SetJobJSON.
func (s *Server) Pause(msg string) {
	s.mu.Lock()
	s.paused, s.rawJob = msg, nil
	s.notifyLocked()
	s.mu.Unlock()
}

// SetDelay delays every later answer by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hold makes every handler wait before answering until Release (or Stop):
// a gateway that accepts connections and reads requests but never answers.
func (s *Server) Hold() {
	s.mu.Lock()
	if s.held == nil {
		s.held = make(chan struct{})
	}
	s.mu.Unlock()
}

// Release ends Hold; the held requests are answered.
func (s *Server) Release() {
	s.mu.Lock()
	if s.held != nil {
		close(s.held)
		s.held = nil
	}
	s.mu.Unlock()
}

// InjectFault schedules f for the next request of method; several faults
// for one method apply to successive requests.
func (s *Server) InjectFault(method string, f Fault) {
	s.mu.Lock()
	s.faults[method] = append(s.faults[method], scheduled{fault: f})
	s.mu.Unlock()
}

// InjectError schedules, in the same queue as InjectFault, an error answer
// with code and message for the next request of method. The message is
// sent verbatim: newlines, carriage returns, terminal escapes, megabytes
// (up to the client's line limit, or the answer is an over-long line).
func (s *Server) InjectError(method string, code int, message string) {
	s.mu.Lock()
	s.faults[method] = append(s.faults[method], scheduled{fault: rejectWith, code: code, message: message})
	s.mu.Unlock()
}

// Polls is the number of getMiningInfo requests answered with a job.
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// Submissions returns the decoded submissions so far.
func (s *Server) Submissions() []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submission(nil), s.submissions...)
}

// WaitFor blocks until cond (called with no lock held) is true, rechecking
// after every request the server handles, and fails the test if that takes
// longer than timeout.
func (s *Server) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("gatewaytest: waited %v for %s", timeout, what)
		}
	}
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ln != ln { // stopped between Accept and here
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		stopped := s.stopped
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c, stopped)
	}
}

// serve handles one connection, one request at a time, as the gateway's
// asyncio handler does.
func (s *Server) serve(c net.Conn, stopped chan struct{}) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		line, err := readLine(r)
		if errors.Is(err, errTooLong) {
			// asyncio raises inside the handler; the gateway answers with a
			// generic error. The stream is then mid-line: hang up.
			writeLine(c, errorResponse(nil, -32000, "Separator is not found, and chunk exceed the limit", nil))
			return
		}
		if err != nil {
			return
		}
		if !s.handle(c, line, stopped) {
			return
		}
	}
}

var errTooLong = errors.New("line over the limit")

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > MaxLine+1 || (len(line) > MaxLine && line[len(line)-1] != '\n') {
			return nil, errTooLong
		}
		if err == nil {
			return line[:len(line)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func errorResponse(id json.RawMessage, code int, msg string, data any) response {
	if id == nil {
		id = json.RawMessage("null")
	}
	return response{JSONRPC: "2.0", Error: &rpcError{code, msg, data}, ID: id}
}

// handle answers one request line; false means hang up.
func (s *Server) handle(c net.Conn, line []byte, stopped chan struct{}) bool {
	var env struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
	}
	s.mu.Lock()
	if json.Unmarshal(line, &env) == nil {
		if q := s.faults[env.Method]; len(q) > 0 && q[0].fault == QueueFull {
			s.faults[env.Method] = q[1:]
			s.notifyLocked()
			s.mu.Unlock()
			return writeLine(c, errorResponse(env.ID, -32000, "proof submission queue full", nil)) == nil
		}
	}
	s.mu.Unlock()
	resp, method := s.dispatch(line)

	s.mu.Lock()
	delay, held := s.delay, s.held
	var fault scheduled
	if q := s.faults[method]; len(q) > 0 {
		fault, s.faults[method] = q[0], q[1:]
	}
	s.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-stopped:
			return false
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-stopped:
			t.Stop()
			return false
		}
	}

	var err error
	switch fault.fault {
	case Malformed:
		_, err = io.WriteString(c, "{\"jsonrpc\": \"2.0\", this is not JSON\n")
	case Oversized:
		err = writeLine(c, response{JSONRPC: "2.0", Result: strings.Repeat("x", MaxLine+1), ID: resp.ID})
	case Drop:
		return false
	case WrongID:
		if err = writeLine(c, response{JSONRPC: "2.0", Result: "for someone else", ID: json.RawMessage("987654321")}); err == nil {
			err = writeLine(c, resp)
		}
	case Reject:
		err = writeLine(c, errorResponse(resp.ID, -32000, "injected failure", nil))
	case rejectWith:
		err = writeLine(c, errorResponse(resp.ID, fault.code, fault.message, nil))
	default:
		err = writeLine(c, resp)
	}
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
	return err == nil
}

// dispatch checks the envelope as pearl-gateway's schema does and runs the
// method. It returns the response and the method name ("" if unknown).
func (s *Server) dispatch(line []byte) (response, string) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil {
		return errorResponse(nil, -32700, "Parse error", err.Error()), ""
	}
	id, hasID := env["id"]
	if !hasID || !validID(id) {
		id = nil
	}
	invalid := func(why string) (response, string) {
		return errorResponse(id, -32600, "Invalid Request", why), ""
	}
	for k := range env {
		switch k {
		case "jsonrpc", "method", "id", "params":
		default:
			return invalid("additional property " + k)
		}
	}
	var version, method string
	if json.Unmarshal(env["jsonrpc"], &version) != nil || version != "2.0" {
		return invalid("jsonrpc must be \"2.0\"")
	}
	if json.Unmarshal(env["method"], &method) != nil {
		return invalid("method must be a string")
	}
	if !hasID || id == nil {
		return invalid("id must be a string, a number or null")
	}
	params, hasParams := env["params"]
	if hasParams && (len(params) == 0 || params[0] != '{') {
		return invalid("params must be an object")
	}
	switch method {
	case "getMiningInfo":
		return s.getMiningInfo(id, params), method
	case "submitPlainProof":
		return s.submitPlainProof(id, params), method
	default:
		return errorResponse(id, -32601, "Method "+method+" not found", nil), method
	}
}

func validID(id json.RawMessage) bool {
	var v any
	if json.Unmarshal(id, &v) != nil {
		return false
	}
	switch v.(type) {
	case nil, string, float64:
		return true
	}
	return false
}

func (s *Server) getMiningInfo(id, params json.RawMessage) response {
	if len(params) > 0 {
		var p map[string]json.RawMessage
		if json.Unmarshal(params, &p) != nil || len(p) != 0 {
			return errorResponse(id, -32602, "Invalid params", "getMiningInfo takes no params")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused == "" && s.rawJob != nil {
		s.polls++
		return response{JSONRPC: "2.0", ID: id, Result: s.rawJob}
	}
	if s.paused != "" || s.job == nil {
		msg := s.paused
		if msg == "" {
			msg = "mining_paused"
		}
		return errorResponse(id, -32001, msg, nil)
	}
	mj, err := s.job.MarshalJSON()
	if err != nil {
		return errorResponse(id, -32000, err.Error(), nil)
	}
	s.polls++
	return response{JSONRPC: "2.0", ID: id, Result: json.RawMessage(mj)}
}

func (s *Server) submitPlainProof(id, params json.RawMessage) response {
	bad := func(why string) response { return errorResponse(id, -32602, "Invalid params", why) }
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil {
		return bad("params must be an object")
	}
	for k := range p {
		if k != "plain_proof" && k != "mining_job" {
			return bad("additional property " + k)
		}
	}
	var b64 string
	if json.Unmarshal(p["plain_proof"], &b64) != nil {
		return bad("plain_proof must be a string")
	}
	job, why := decodeMiningJob(p["mining_job"])
	if why != "" {
		return bad(why)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return errorResponse(id, -32000, "plain_proof: "+err.Error(), nil)
	}
	proof := new(pouw.PlainProof)
	if err := proof.UnmarshalBinary(raw); err != nil {
		return errorResponse(id, -32000, err.Error(), nil)
	}

	s.mu.Lock()
	paused, cur, profile := s.paused, s.job, s.profile
	s.mu.Unlock()
	if paused != "" {
		return errorResponse(id, -32001, paused, nil)
	}
	sub := Submission{Job: job, Proof: proof, Stale: cur == nil || cur.Header != job.Header}
	if !sub.Stale {
		sub.Verification, sub.Err = pouw.Verify(job, profile, proof, pouw.VerifyOptions{Profile: profile})
	}
	s.mu.Lock()
	s.submissions = append(s.submissions, sub)
	s.mu.Unlock()
	return response{JSONRPC: "2.0", ID: id, Result: "submitted"}
}

// decodeMiningJob applies the gateway's schema for mining_job, which is
// looser than a proof file's: the three required fields with their types
// and ranges, ancestor_headers optional, other keys tolerated; the target
// must be the expansion of the header's nbits.
func decodeMiningJob(raw json.RawMessage) (pouw.Job, string) {
	var f map[string]json.RawMessage
	if json.Unmarshal(raw, &f) != nil {
		return pouw.Job{}, "mining_job must be an object"
	}
	var hb64 string
	if json.Unmarshal(f["incomplete_header_bytes"], &hb64) != nil {
		return pouw.Job{}, "mining_job.incomplete_header_bytes must be a string"
	}
	hb, err := base64.StdEncoding.DecodeString(hb64)
	var job pouw.Job
	if err != nil || job.Header.UnmarshalBinary(hb) != nil {
		return pouw.Job{}, "mining_job.incomplete_header_bytes must be 76 bytes of base64"
	}
	t, ok := new(big.Int).SetString(string(f["target"]), 10)
	if !ok || t.Sign() < 0 {
		return pouw.Job{}, "mining_job.target must be an integer ≥ 0"
	}
	if want, err := pouw.Target(job.Header.Bits); err != nil || want.Cmp(t) != 0 {
		return pouw.Job{}, "mining_job.target is not the header's"
	}
	var cv int64
	dec := json.NewDecoder(bytes.NewReader(f["cert_version"]))
	if dec.Decode(&cv) != nil || cv < 1 || cv > 1<<31 {
		return pouw.Job{}, "mining_job.cert_version must be an integer ≥ 1"
	}
	job.CertVersion = uint32(cv)
	if a, ok := f["ancestor_headers"]; ok {
		var anc []string
		if json.Unmarshal(a, &anc) != nil {
			return pouw.Job{}, "mining_job.ancestor_headers must be an array of strings"
		}
	}
	return job, ""
}

// String describes the server for test logs.
func (s *Server) String() string { return fmt.Sprintf("gatewaytest.Server(%s)", s.Addr()) }
