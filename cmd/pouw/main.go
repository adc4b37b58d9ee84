package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Exit statuses shared by every subcommand.
const (
	exitOK    = 0 // success: every proof valid, the product mined
	exitFail  = 1 // a proof is invalid, or the work could not be done
	exitUsage = 2 // bad command line
)

// command is one subcommand: its name, a one-line summary for the usage
// listing, and the function that runs it.
type command struct {
	name, summary string
	run           func(stdout, stderr io.Writer, args []string) int
}

var commands = []command{
	{"verify", "check proof files; one OK/FAIL line each, exit 0 only if all are valid", runVerify},
	{"inspect", "print every value derived while verifying one proof file, as JSON", runInspect},
	{"mine", "mine one product of seeded random int7 matrices and write the proofs found", runMine},
	{"submit", "send proof files to a Pearl gateway; one line each, exit 0 only if all were submitted", runSubmit},
	{"audit", "check a training receipt and the proofs beside it; exit 0 only if every check passed", runAudit},
	{"help", "show this help", nil},
}

func main() {
	os.Exit(run(os.Stdout, os.Stderr, os.Args[1:]))
}

// run dispatches to a subcommand and returns the process's exit status.
func run(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == name && c.run != nil {
			return c.run(stdout, stderr, rest)
		}
	}
	fmt.Fprintf(stderr, "pouw: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `pouw verifies, inspects and mines proofs of Pearl's INT proof-of-useful-work.

Usage:

	pouw <command> [flags] [arguments]

Commands:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "pouw <command> -h" for a command's flags.
Exit status: 0 success, 1 an invalid proof or failed work, 2 a usage error.
`)
}

// newFlagSet returns a flag set that reports errors to stderr instead of
// exiting, with a usage header naming the command's arguments.
func newFlagSet(stderr io.Writer, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pouw %s %s\n\n%s\n", name, synopsis, about)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args into fs; done reports that the caller must return
// code at once (-h asked for help, or the flags were wrong).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	default:
		return exitUsage, true
	}
}

// nbitsFlag is a compact target given in hex, with or without 0x. It is
// checked to expand to a usable target (§6) as it is parsed.
type nbitsFlag struct {
	v   uint32
	set bool
}

func (f *nbitsFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return fmt.Sprintf("%#08x", f.v)
}

func (f *nbitsFlag) Set(s string) error {
	v, err := parseNbits(s)
	if err != nil {
		return err
	}
	f.v, f.set = v, true
	return nil
}

// parseNbits reads a compact target in hex ("1d00ffff" or "0x1d00ffff") and
// checks that it expands to a positive target below 2²⁵⁶.
func parseNbits(s string) (uint32, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("nbits %q is not a 32-bit hex number", s)
	}
	if _, err := pouw.Target(uint32(v)); err != nil {
		return 0, err
	}
	return uint32(v), nil
}

// describe renders err as "<Code>: description": the rule code first even
// when context (such as "A: ") wraps it, so a line can be grepped by code.
// Errors that carry no rule code get a label of this tool (ErrIO for a file
// that cannot be read, ErrInternal for a verifier bug), not one of pouw's.
func describe(err error) string {
	var te *toolError
	if errors.As(err, &te) {
		return te.label + ": " + te.msg
	}
	code := pouw.CodeOf(err)
	if code == 0 {
		return "ErrIO: " + err.Error()
	}
	name := code.String()
	return name + ": " + strings.Replace(err.Error(), name+": ", "", 1)
}

// shown renders a file name for an output line: as given when it is
// printable UTF-8, quoted in Go syntax when it holds a newline, an escape
// or anything else a terminal would act on, so that no file name (a glob
// picks up whatever is in a directory) can forge a line of its own.
func shown(path string) string {
	if utf8.ValidString(path) && strings.IndexFunc(path, func(r rune) bool { return !unicode.IsGraphic(r) }) < 0 {
		return path
	}
	return strconv.Quote(path)
}

// toolError is a failure this tool names itself, outside pouw's codes.
type toolError struct{ label, msg string }

func (e *toolError) Error() string { return e.label + ": " + e.msg }

// readProof reads and parses one proof file with pouw.ReadProofFile (only
// regular files are opened: a FIFO or a device is an error, not a read that
// blocks), without the path in its errors: the verdict line names the file.
func readProof(path string) (*pouw.Proof, error) {
	p, err := pouw.ReadProofFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == path {
			return nil, fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, &pathless{err: err, msg: strings.TrimPrefix(err.Error(), path+": ")}
	}
	return p, nil
}

// pathless is an error whose message drops the file's path, keeping the
// error chain (and so its pouw.ErrorCode).
type pathless struct {
	err error
	msg string
}

func (e *pathless) Error() string { return e.msg }
func (e *pathless) Unwrap() error { return e.err }

// expectFlags are what verify and inspect check a proof against: the
// certificate version and the profile, which a proof file's own labels
// must match.
type expectFlags struct {
	cert    uint
	profile string
}

func addExpectFlags(fs *flag.FlagSet) *expectFlags {
	e := new(expectFlags)
	fs.UintVar(&e.cert, "cert-version", pouw.CertSalted, "check proofs under certificate version `V` (3: Pearl mainnet; 1 and 2: legacy seeds)")
	fs.StringVar(&e.profile, "profile", "", "check proofs under profile `NAME` (local or pearl; default: the one the proof's configuration requires)")
	return e
}

// options turns the flags into pouw.VerifyOptions.
func (e *expectFlags) options(nbits uint32) (pouw.VerifyOptions, error) {
	opts := pouw.VerifyOptions{NbitsOverride: nbits, CertVersion: uint32(e.cert)}
	if e.cert < pouw.CertV1 || e.cert > pouw.CertSalted {
		return opts, fmt.Errorf("-cert-version %d: want 1, 2 or 3", e.cert)
	}
	if e.profile != "" {
		p, err := pouw.ParseProfile(e.profile)
		if err != nil {
			return opts, err
		}
		opts.Profile = p
	}
	return opts, nil
}
