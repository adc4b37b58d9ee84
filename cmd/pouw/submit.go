package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/pouw/gateway"
)

const submitAbout = `Submit sends saved proof files to a Pearl gateway (pearl-gateway's
submitPlainProof), one request per file in order, and prints one line per file:

	submitted  FILE  id=ID header=HEX…
	error      FILE  gateway error -32001: mining_paused
	error      FILE  ErrBadEncoding: proof JSON: unexpected EOF
	error      FILE  submitPlainProof: gateway unreachable: dial unix /tmp/pearlgw.sock: connect: …

"submitted" is the gateway's answer once the proof decodes: it then builds the
certificate and the block in the background, and drops proofs whose header is no
longer its template without saying so. A file that does not parse, a proof of
another profile than pearl, and a request longer than -max-request (older
pearl-gateway versions cut lines at 1 MiB) are not sent. Text from the gateway
is printed escaped and shortened (at most 200 bytes of a message), and a file
name that is not printable is shown quoted, so neither forges a line. A lost
connection is redialled for the next file. The exit status is 0 only if every
file was submitted.`

func runSubmit(stdout, stderr io.Writer, args []string) int {
	fs := newFlagSet(stderr, "submit", "[-gateway ADDR] [-timeout D] [-max-request BYTES] FILE...", submitAbout)
	addr := fs.String("gateway", gateway.DefaultAddr,
		"gateway `ADDR`: unix:///path, /path (Unix socket), tcp://host:port or host:port")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on one file's request after `D`, connecting included")
	maxRequest := fs.Int("max-request", gateway.MaxRequest, fmt.Sprintf("longest request line `BYTES` to send (up to %d for a gateway that reads 4 MiB lines)", gateway.MaxLine))
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "pouw submit: no proof files given")
		fs.Usage()
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "pouw submit: -timeout must be positive")
		return exitUsage
	}
	client, err := gateway.NewConn(*addr, *maxRequest)
	if err != nil {
		fmt.Fprintf(stderr, "pouw submit: %v\n", err)
		return exitUsage
	}
	defer client.Close()

	status := exitOK
	for _, path := range fs.Args() {
		p, err := readProof(path)
		if err != nil {
			fmt.Fprintf(stdout, "error      %s  %s\n", shown(path), describe(err))
			status = exitFail
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		err = client.Submit(ctx, p)
		cancel()
		if err != nil {
			fmt.Fprintf(stdout, "error      %s  %s\n", shown(path), describeSubmit(err))
			status = exitFail
			continue
		}
		id, _ := p.ID() // p parsed, so its plain proof encodes
		fmt.Fprintf(stdout, "submitted  %s  id=%s header=%s…\n", shown(path), id, p.Job.Header.String()[:16])
	}
	return status
}

// describeSubmit renders a failed submission: the gateway's code and
// message when it answered (escaped by gateway.Error), why it could not be
// asked otherwise.
func describeSubmit(err error) string {
	var ge *gateway.Error
	switch {
	case errors.As(err, &ge):
		return ge.Error()
	case pouw.CodeOf(err) != 0:
		return describe(err)
	default:
		return err.Error()
	}
}
