package gateway

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
	"unicode"
	"unicode/utf8"

	"github.com/usefulwork/minedmatmul/pouw"
)

// MaxLine is the longest line, newline included, that this client reads
// from a gateway: the 4 MiB limit of the newer pearl-gateway's stream
// reader. A longer response is treated as a broken connection. What it
// sends is bounded by the Conn's request limit (MaxRequest by default).
const MaxLine = 4 << 20

// DefaultAddr is pearl-gateway's default listening address: a Unix socket
// (its TCP alternative listens on 127.0.0.1:8337).
const DefaultAddr = "unix:///tmp/pearlgw.sock"

// JSON-RPC error codes the Pearl gateway answers with.
const (
	CodeParseError     = -32700 // the request line is not JSON
	CodeInvalidRequest = -32600 // the envelope breaks the schema
	CodeMethodNotFound = -32601 // unknown method
	CodeInvalidParams  = -32602 // params break the method's schema
	CodeServerError    = -32000 // any other exception: an undecodable proof, a full submission queue
	CodeMiningPaused   = -32001 // no block template: "mining_paused[: details]"
)

// Error is a JSON-RPC error object returned by the gateway.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error returns the gateway's code and message, escaped and shortened: the
// text comes from the network and must not reach a terminal raw.
func (e *Error) Error() string {
	s := fmt.Sprintf("gateway error %d: %s", e.Code, clean(e.Message))
	if len(e.Data) > 0 && string(e.Data) != "null" {
		s += " (" + clean(string(e.Data)) + ")"
	}
	return s
}

// maxShown bounds how much of a text from the gateway is shown, in bytes
// as printed (escapes included), before an ellipsis.
const maxShown = 200

// clean makes text from the network safe to print on one line: every rune
// that is not graphic (newline, carriage return, ESC and the rest of C0 and
// C1, bidirectional overrides, …) and every invalid UTF-8 byte is written
// as its Go escape (\n, \x1b, \u202e, \xff), and at most maxShown bytes are
// shown. Printable text, backslashes included, is left as it is, so
// cleaning clean text changes nothing but its length.
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+n]
		switch {
		case r == utf8.RuneError && n == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case !unicode.IsGraphic(r):
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		if b.Len()+len(piece) > maxShown {
			b.WriteString("…")
			break
		}
		b.WriteString(piece)
		i += n
	}
	return b.String()
}

var (
	// ErrLineTooLong reports a JSON-RPC line over the limit, sent or
	// received.
	ErrLineTooLong = errors.New("line exceeds the gateway's line limit")

	// ErrUnreachable marks transport failures (no connection, no answer in
	// time, an answer that cannot be read): the request may be retried, on
	// a new connection. Errors the gateway answered with are not wrapped
	// in it.
	ErrUnreachable = errors.New("gateway unreachable")

	// ErrNotPearl is Submit's answer for a proof of another profile than
	// pearl: the gateway judges every proof by Pearl's rules, so it is
	// never sent.
	ErrNotPearl = errors.New("only pearl-profile proofs are submitted")
)

// ParseAddr maps a gateway address to a network and an address for
// net.Dial: "unix:///path" and any string containing a '/' are Unix
// sockets; "tcp://host:port" and "host:port" are TCP.
func ParseAddr(addr string) (network, address string, err error) {
	switch {
	case addr == "":
		return "", "", errors.New("gateway address is empty")
	case strings.HasPrefix(addr, "unix://"):
		network, address = "unix", strings.TrimPrefix(addr, "unix://")
	case strings.HasPrefix(addr, "tcp://"):
		network, address = "tcp", strings.TrimPrefix(addr, "tcp://")
	case strings.Contains(addr, "://"):
		return "", "", fmt.Errorf("gateway address %s: unknown scheme (want unix:// or tcp://)", clean(addr))
	case strings.Contains(addr, "/"):
		network, address = "unix", addr
	default:
		network, address = "tcp", addr
	}
	if address == "" {
		return "", "", fmt.Errorf("gateway address %s has no path or host", clean(addr))
	}
	if network == "tcp" {
		if _, port, err := net.SplitHostPort(address); err != nil || port == "" {
			return "", "", fmt.Errorf("gateway address %s: want host:port", clean(addr))
		}
	}
	return network, address, nil
}

// MaxRequest is the longest request line, newline included, that a Conn
// sends unless told otherwise: the 1 MiB stream limit of the older
// pearl-gateway versions, which every version accepts. A gateway known to
// read 4 MiB lines can be given up to MaxLine (Options.MaxRequest).
const MaxRequest = 1 << 20

// Conn speaks the Pearl gateway's line-delimited JSON-RPC 2.0. It connects
// on first use and again after any transport failure, so one Conn survives
// a gateway restart. Calls may run concurrently: responses are matched to
// requests by id, and a response that arrives after its call gave up is
// discarded.
type Conn struct {
	network, address string
	maxRequest       int
	nextID           atomic.Uint64

	mu  sync.Mutex
	cur *rpcConn
}

// NewConn returns a connection to addr (see ParseAddr) whose requests are
// at most maxRequest bytes, newline included (0: MaxRequest). It does not
// connect until the first call.
func NewConn(addr string, maxRequest int) (*Conn, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if maxRequest <= 0 {
		maxRequest = MaxRequest
	}
	if maxRequest > MaxLine {
		return nil, fmt.Errorf("gateway: request limit %d is above the longest line any pearl-gateway reads (%d)", maxRequest, MaxLine)
	}
	return &Conn{network: network, address: address, maxRequest: maxRequest}, nil
}

// Addr returns the address the connection dials, as network://address.
func (c *Conn) Addr() string { return c.network + "://" + c.address }

// Close closes the current connection, failing calls in flight. The Conn
// stays usable: a later call reconnects.
func (c *Conn) Close() error {
	c.mu.Lock()
	cur := c.cur
	c.cur = nil
	c.mu.Unlock()
	if cur != nil {
		cur.fail(net.ErrClosed)
	}
	return nil
}

// MiningInfo calls getMiningInfo and returns the gateway's job, read
// strictly by pouw.Job's UnmarshalJSON: a malformed or unusable job is an
// error carrying its pouw.ErrorCode.
func (c *Conn) MiningInfo(ctx context.Context) (pouw.Job, error) {
	var job pouw.Job
	err := c.Call(ctx, "getMiningInfo", struct{}{}, &job)
	return job, err
}

// Submit calls submitPlainProof with p's plain proof and job, each encoded
// by its own encoder. Only pearl-profile proofs are sent: any other is
// ErrNotPearl, before anything is dialled. A request over the connection's
// limit is ErrLineTooLong, also unsent. The gateway answers "submitted"
// once the proof decodes; it drops proofs for a header that is no longer
// its template without saying so.
func (c *Conn) Submit(ctx context.Context, p *pouw.Proof) error {
	if p.Profile != pouw.Pearl {
		// Pearl's gateway rejects ranks below 128 and judges every proof by
		// the rank-penalised bound: another profile's proof is wasted there.
		return fmt.Errorf("submitPlainProof: a %s-profile proof: %w", p.Profile, ErrNotPearl)
	}
	if p.Plain == nil {
		return errors.New("submitPlainProof: the proof has no plain proof")
	}
	raw, err := p.Plain.MarshalBinary()
	if err != nil {
		return fmt.Errorf("submitPlainProof: %w", err)
	}
	params := submitRequest{PlainProof: raw, MiningJob: &p.Job}
	var res json.RawMessage
	if err := c.Call(ctx, "submitPlainProof", params, &res); err != nil {
		return err
	}
	var s string
	if json.Unmarshal(res, &s) != nil || s != "submitted" {
		// Pearl's gateway answers only "submitted"; anything else is
		// reported rather than guessed at.
		return fmt.Errorf("submitPlainProof: unexpected result %s", clean(string(res)))
	}
	return nil
}

// submitRequest is submitPlainProof's params: exactly the two keys the
// gateway's schema requires, each from the proof's own encoder.
type submitRequest struct {
	PlainProof []byte    `json:"plain_proof"` // encoding/json writes standard base64
	MiningJob  *pouw.Job `json:"mining_job"`
}

// Call sends one request and decodes the result into result (which may be
// nil). It returns an *Error when the gateway answers with an error,
// ErrLineTooLong when the request is too long to send, and otherwise a
// transport error wrapping ErrUnreachable (the connection is then dropped
// and the next call redials). ctx bounds the whole call, dialing included.
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	line, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: method, Params: params, ID: id})
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", method, err)
	}
	if len(line)+1 > c.maxRequest {
		return fmt.Errorf("%s: request of %d bytes, over the %d-byte limit: %w", method, len(line)+1, c.maxRequest, ErrLineTooLong)
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
func (c *Conn) conn(ctx context.Context) (*rpcConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && !c.cur.dead() {
		return c.cur, nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, c.network, c.address)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
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
	Error   *Error          `json:"error"`
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
	var ge *Error
	if errors.As(c.err, &ge) {
		return c.err // the gateway said why; not a transport error
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, c.err)
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
		return nil, fmt.Errorf("%w: no answer: %w", ErrUnreachable, ctx.Err())
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
		line, err := readLine(r, MaxLine)
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
			c.fail(fmt.Errorf("malformed response %s: %w", clean(string(line)), err))
			return
		}
		if resp.JSONRPC != "2.0" || (resp.Error == nil && resp.Result == nil) {
			c.fail(fmt.Errorf("malformed response %s: not a JSON-RPC 2.0 response", clean(string(line))))
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
				c.fail(fmt.Errorf("response id %s does not match any request", clean(string(resp.ID))))
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
