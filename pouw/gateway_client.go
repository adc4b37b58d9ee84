package pouw

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxGatewayLine is the longest line, newline included, that this client
// sends to or reads from a Pearl gateway: the 4 MiB limit of the gateway's
// asyncio stream reader (PROTOCOL.md §11). The gateway rejects a longer
// request line; a longer response is treated as a broken connection.
const MaxGatewayLine = 4 << 20

// DefaultGatewayAddr is pearl-gateway's default listening address: a Unix
// socket (its TCP alternative listens on 127.0.0.1:8337).
const DefaultGatewayAddr = "unix:///tmp/pearlgw.sock"

// JSON-RPC error codes the Pearl gateway answers with (PROTOCOL.md §11).
const (
	GatewayParseError     = -32700 // the request line is not JSON
	GatewayInvalidRequest = -32600 // the envelope breaks the schema
	GatewayMethodNotFound = -32601 // unknown method
	GatewayInvalidParams  = -32602 // params break the method's schema
	GatewayServerError    = -32000 // any other exception, e.g. an undecodable proof
	GatewayMiningPaused   = -32001 // no block template: "mining_paused[: details]"
)

// GatewayError is a JSON-RPC error object returned by the gateway.
type GatewayError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error returns the gateway's code and message.
func (e *GatewayError) Error() string {
	s := fmt.Sprintf("gateway error %d: %s", e.Code, e.Message)
	if len(e.Data) > 0 && string(e.Data) != "null" {
		s += " (" + string(e.Data) + ")"
	}
	return s
}

// ErrLineTooLong reports a JSON-RPC line over MaxGatewayLine, sent or
// received.
var ErrLineTooLong = errors.New("line exceeds the gateway's 4 MiB limit")

// errUnreachable marks transport failures (no connection, no answer in
// time, an answer that cannot be read): the request may be retried, on a new
// connection. Errors the gateway answered with are not wrapped in it.
var errUnreachable = errors.New("gateway unreachable")

// ParseGatewayAddr maps a gateway address to a network and an address for
// net.Dial: "unix:///path" and any string containing a '/' are Unix
// sockets; "tcp://host:port" and "host:port" are TCP.
func ParseGatewayAddr(addr string) (network, address string, err error) {
	switch {
	case addr == "":
		return "", "", errors.New("gateway address is empty")
	case strings.HasPrefix(addr, "unix://"):
		network, address = "unix", strings.TrimPrefix(addr, "unix://")
	case strings.HasPrefix(addr, "tcp://"):
		network, address = "tcp", strings.TrimPrefix(addr, "tcp://")
	case strings.Contains(addr, "://"):
		return "", "", fmt.Errorf("gateway address %q: unknown scheme (want unix:// or tcp://)", addr)
	case strings.Contains(addr, "/"):
		network, address = "unix", addr
	default:
		network, address = "tcp", addr
	}
	if address == "" {
		return "", "", fmt.Errorf("gateway address %q has no path or host", addr)
	}
	if network == "tcp" {
		if _, port, err := net.SplitHostPort(address); err != nil || port == "" {
			return "", "", fmt.Errorf("gateway address %q: want host:port", addr)
		}
	}
	return network, address, nil
}

// GatewayClient speaks the Pearl gateway's line-delimited JSON-RPC 2.0. It
// connects on first use and again after any transport failure, so one
// client survives a gateway restart. Calls may run concurrently: responses
// are matched to requests by id, and a response that arrives after its call
// gave up is discarded.
type GatewayClient struct {
	network, address string
	nextID           atomic.Uint64

	mu  sync.Mutex
	cur *rpcConn
}

// NewGatewayClient returns a client for addr (see ParseGatewayAddr). It does
// not connect until the first call.
func NewGatewayClient(addr string) (*GatewayClient, error) {
	network, address, err := ParseGatewayAddr(addr)
	if err != nil {
		return nil, err
	}
	return &GatewayClient{network: network, address: address}, nil
}

// Addr returns the address the client dials, as network://address.
func (c *GatewayClient) Addr() string { return c.network + "://" + c.address }

// Close closes the current connection, failing calls in flight. The client
// stays usable: a later call reconnects.
func (c *GatewayClient) Close() error {
	c.mu.Lock()
	cur := c.cur
	c.cur = nil
	c.mu.Unlock()
	if cur != nil {
		cur.fail(net.ErrClosed)
	}
	return nil
}

// MiningInfo calls getMiningInfo and returns the gateway's job as received,
// unchecked: ParseMiningJob checks it.
func (c *GatewayClient) MiningInfo(ctx context.Context) (MiningJobJSON, error) {
	var mj MiningJobJSON
	err := c.Call(ctx, "getMiningInfo", struct{}{}, &mj)
	return mj, err
}

// SubmitProof calls submitPlainProof with p's plain proof and job. The
// gateway answers "submitted" once the proof decodes; it drops proofs for a
// header that is no longer its template without saying so.
func (c *GatewayClient) SubmitProof(ctx context.Context, p *Proof) error {
	params, err := submitParams(p)
	if err != nil {
		return err
	}
	var res json.RawMessage
	if err := c.Call(ctx, "submitPlainProof", params, &res); err != nil {
		return err
	}
	var s string
	if json.Unmarshal(res, &s) != nil || s != "submitted" {
		// Pearl's gateway answers only "submitted"; anything else is
		// reported rather than guessed at.
		return fmt.Errorf("submitPlainProof: unexpected result %.100s", res)
	}
	return nil
}

// submitRequest is submitPlainProof's params: exactly two keys, as the
// gateway's schema requires.
type submitRequest struct {
	PlainProof string          `json:"plain_proof"`
	MiningJob  submitMiningJob `json:"mining_job"`
}

// submitMiningJob is the mining_job as getMiningInfo gave it, with
// ancestor_headers always present (empty for the INT certificate versions).
type submitMiningJob struct {
	MiningJobJSON
	AncestorHeaders []string `json:"ancestor_headers"`
}

func submitParams(p *Proof) (*submitRequest, error) {
	raw, err := p.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// The proof file's JSON is the params plus our own fields: reuse its
	// encoding of plain_proof and mining_job rather than a second one.
	var f proofFileJSON
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	anc := f.MiningJob.AncestorHeaders
	if anc == nil {
		anc = []string{}
	}
	f.MiningJob.AncestorHeaders = nil
	return &submitRequest{PlainProof: f.PlainProof, MiningJob: submitMiningJob{f.MiningJob, anc}}, nil
}

// Call sends one request and decodes the result into result (which may be
// nil). It returns a *GatewayError when the gateway answers with an error,
// ErrLineTooLong when the request is too long to send, and otherwise a
// transport error (the connection is then dropped and the next call
// redials). ctx bounds the whole call, dialing included.
func (c *GatewayClient) Call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	line, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: id})
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", method, err)
	}
	if len(line)+1 > MaxGatewayLine {
		return fmt.Errorf("%s: request of %d bytes: %w", method, len(line)+1, ErrLineTooLong)
	}
	line = append(line, '\n')
	conn, err := c.conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	resp, err := conn.roundTrip(ctx, id, line)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			// A result that does not decode is a gateway we do not
			// understand, not a broken connection: report, do not redial.
			return fmt.Errorf("%s: result: %w", method, err)
		}
	}
	return nil
}

// conn returns the live connection, dialing a new one if there is none.
func (c *GatewayClient) conn(ctx context.Context) (*rpcConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && !c.cur.dead() {
		return c.cur, nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, c.network, c.address)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnreachable, err)
	}
	c.cur = newRPCConn(nc)
	return c.cur, nil
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params,omitempty"`
	ID      uint64 `json:"id"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result"`
	Error   *GatewayError   `json:"error"`
	ID      json.RawMessage `json:"id"`
}

// rpcConn is one connection: a writer shared under a mutex and a reader
// goroutine that routes each response line to the call waiting for its id.
type rpcConn struct {
	nc      net.Conn
	writeMu sync.Mutex

	mu      sync.Mutex
	pending map[uint64]chan *rpcResponse
	err     error         // why the connection died; set once
	done    chan struct{} // closed when it dies
}

func newRPCConn(nc net.Conn) *rpcConn {
	c := &rpcConn{nc: nc, pending: map[uint64]chan *rpcResponse{}, done: make(chan struct{})}
	go c.readLoop()
	return c
}

func (c *rpcConn) dead() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// fail kills the connection once; every call waiting on it returns err.
func (c *rpcConn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	c.mu.Unlock()
	c.nc.Close()
}

func (c *rpcConn) deathErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ge *GatewayError
	if errors.As(c.err, &ge) {
		return c.err // the gateway said why; not a transport error
	}
	return fmt.Errorf("%w: %w", errUnreachable, c.err)
}

func (c *rpcConn) roundTrip(ctx context.Context, id uint64, line []byte) (*rpcResponse, error) {
	ch := make(chan *rpcResponse, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.deathErr()
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	if err := c.write(ctx, line); err != nil {
		// A partial line would corrupt the stream for every later call.
		c.fail(err)
		return nil, c.deathErr()
	}
	select {
	case r := <-ch:
		return r, nil
	case <-c.done:
		return nil, c.deathErr()
	case <-ctx.Done():
		// The connection stays: a late answer is discarded by id. A gateway
		// that never answers costs a timeout per call, never a hang.
		return nil, fmt.Errorf("%w: no answer: %w", errUnreachable, ctx.Err())
	}
}

func (c *rpcConn) write(ctx context.Context, line []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// A gateway that stops reading must not block the caller past its
	// deadline; without one, a generous default still bounds the write.
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	c.nc.SetWriteDeadline(deadline)
	_, err := c.nc.Write(line)
	return err
}

func (c *rpcConn) readLoop() {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		line, err := readLine(r, MaxGatewayLine)
		if err != nil {
			if errors.Is(err, ErrLineTooLong) {
				err = fmt.Errorf("response: %w", err)
			}
			c.fail(err)
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var resp rpcResponse
		if err := json.Unmarshal(line, &resp); err != nil {
			// The stream cannot be trusted after a line we cannot parse,
			// and we cannot tell which call it answered: start afresh.
			c.fail(fmt.Errorf("malformed response %.80q: %w", line, err))
			return
		}
		if resp.JSONRPC != "2.0" || (resp.Error == nil && resp.Result == nil) {
			c.fail(fmt.Errorf("malformed response %.80q: not a JSON-RPC 2.0 response", line))
			return
		}
		id, err := strconv.ParseUint(string(resp.ID), 10, 64)
		if err != nil {
			// A null id answers a request the gateway could not read (parse
			// error, bad envelope, over-long line): it cannot be matched,
			// so every call on this connection gets the error.
			if resp.Error != nil {
				c.fail(resp.Error)
			} else {
				c.fail(fmt.Errorf("response id %.40s does not match any request", resp.ID))
			}
			return
		}
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- &resp
		}
	}
}

// readLine reads one '\n'-terminated line of at most max bytes (newline
// included) and returns it without the newline. A longer line is
// ErrLineTooLong: the reader has then consumed part of it, so the caller
// must drop the stream.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > max {
			return nil, ErrLineTooLong
		}
		switch {
		case err == nil:
			if line == nil {
				return frag[:len(frag)-1], nil
			}
			line = append(line, frag...)
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			line = append(line, frag...)
		case errors.Is(err, io.EOF) && len(line)+len(frag) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
