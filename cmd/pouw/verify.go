package main

import (
	"encoding/hex"
	"fmt"
	"io"

	"github.com/usefulwork/minedmatmul/pouw"
)

const verifyAbout = `Verify checks each proof file under its job and prints one line per file:

	OK    FILE  ticket=HEX tile=HxW at (ROW,COL) profile=P cert=V k=K r=R nbits=0x...
	FAIL  FILE  ErrCode: description

A proof is checked under certificate version 3 (Pearl mainnet) and the
profile its configuration requires (pearl when it meets Pearl's rules,
local otherwise), or those -cert-version and -profile ask for; a file
labelled otherwise fails (ErrCertVersion, ErrProfile), so a relabelled proof
never passes. The line says what was checked. The ticket is printed as its
32 bytes in hex, little-endian as it is compared. -nbits checks the ticket
against another compact target instead of the header's (a pool's share
target). Only regular files are read. Text quoted from a file is escaped
and shortened, and a file name that is not printable is shown quoted, so no
file forges a line. The exit status is 0 only if every file is a valid,
winning proof.`

func runVerify(stdout, stderr io.Writer, args []string) int {
	fs := newFlagSet(stderr, "verify", "[-nbits HEX] [-cert-version V] [-profile local|pearl] FILE...", verifyAbout)
	var nbits nbitsFlag
	fs.Var(&nbits, "nbits", "check tickets against this compact target `HEX` (e.g. 0x1f00ffff) instead of the header's")
	expect := addExpectFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	opts, err := expect.options(nbits.v)
	if err != nil {
		fmt.Fprintf(stderr, "pouw verify: %v\n", err)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "pouw verify: no proof files given")
		fs.Usage()
		return exitUsage
	}
	status := exitOK
	for _, path := range fs.Args() {
		_, v, err := loadAndVerify(path, opts)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL  %s  %s\n", shown(path), describe(err))
			status = exitFail
			continue
		}
		fmt.Fprintf(stdout, "OK    %s  ticket=%s tile=%dx%d at (%d,%d) profile=%s cert=%d k=%d r=%d nbits=%#08x\n",
			shown(path), hex.EncodeToString(v.Ticket[:]), v.Config.TileH(), v.Config.TileW(),
			v.RowOffset, v.ColOffset, v.Profile, v.CertVersion, v.K, v.Config.Rank, v.Nbits)
	}
	return status
}

// loadAndVerify reads, parses and verifies one proof file. A nil error means
// a valid, winning proof. The proof (nil when the file does not parse) and
// the verification are returned as far as they were derived, so inspect can
// print them for a failing proof too. A panic in the verifier is turned into an error:
// a bad file must never take down a verifier that is checking many.
func loadAndVerify(path string, opts pouw.VerifyOptions) (p *pouw.Proof, v *pouw.Verification, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &toolError{"ErrInternal", fmt.Sprintf("verifier panicked (a bug in pouw): %v", r)}
		}
	}()
	p, err = readProof(path)
	if err != nil {
		return nil, nil, err
	}
	v, err = p.Verify(opts)
	if err == nil && (v == nil || !v.Win) {
		err = &toolError{"ErrInternal", "verifier returned no error and no win"}
	}
	return p, v, err
}
