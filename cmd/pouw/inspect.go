package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/usefulwork/minedmatmul/pouw"
)

const inspectAbout = `Inspect verifies one proof file and prints, as indented JSON on stdout, every
value the verifier derives: the shape and configuration, the tile's offsets
and patterns, the job key, both commitments (raw and salted), both noise
seeds, the jackpot words, the ticket, the bound and the target. Hashes are
hex of their bytes as hashed (wire order); the ticket is hex of its 32 bytes,
little-endian as it is compared, and ticket_int is the same integer in
big-endian hex, comparable with bound_hex. Values that verification did not
reach are left out. Text from the file (meta) is printed with every control
and format character escaped. The exit status is 1 if the proof is not
valid; the values derived up to the failure are still printed.`

// inspection is the JSON inspect prints. Fields are in the order the
// verifier derives them (PROTOCOL.md §9); a nil pointer is a value that
// verification did not reach.
type inspection struct {
	File        string         `json:"file"`
	ID          string         `json:"id,omitempty"`
	Profile     string         `json:"profile,omitempty"`
	CertVersion *uint32        `json:"cert_version,omitempty"`
	Header      string         `json:"header,omitempty"`
	HeaderNbits string         `json:"header_nbits,omitempty"`
	M           *uint64        `json:"m,omitempty"`
	N           *uint64        `json:"n,omitempty"`
	K           *uint64        `json:"k,omitempty"`
	Rank        *uint64        `json:"rank,omitempty"`
	DotLen      *int           `json:"dot_len,omitempty"`
	Tile        string         `json:"tile,omitempty"`
	TileH       *int           `json:"tile_h,omitempty"`
	TileW       *int           `json:"tile_w,omitempty"`
	Config      string         `json:"config,omitempty"`
	RowOffset   *uint64        `json:"row_offset,omitempty"`
	ColOffset   *uint64        `json:"col_offset,omitempty"`
	RowsPattern *patternJSON   `json:"rows_pattern,omitempty"`
	ColsPattern *patternJSON   `json:"cols_pattern,omitempty"`
	JobKey      string         `json:"job_key,omitempty"`
	HashA       string         `json:"hash_a,omitempty"`
	HashB       string         `json:"hash_b,omitempty"`
	HA          string         `json:"HA,omitempty"`
	HB          string         `json:"HB,omitempty"`
	SB          string         `json:"s_B,omitempty"`
	SA          string         `json:"s_A,omitempty"`
	Jackpot     []string       `json:"jackpot,omitempty"`
	Ticket      string         `json:"ticket,omitempty"`
	TicketInt   string         `json:"ticket_int,omitempty"`
	Nbits       string         `json:"nbits,omitempty"`
	Target      string         `json:"target,omitempty"`
	TargetHex   string         `json:"target_hex,omitempty"`
	Bound       string         `json:"bound,omitempty"`
	BoundHex    string         `json:"bound_hex,omitempty"`
	ExpMACs     *float64       `json:"expected_macs_per_proof,omitempty"`
	Win         *bool          `json:"win,omitempty"`
	Verdict     string         `json:"verdict"`
	Error       string         `json:"error,omitempty"`
	Meta        map[string]any `json:"meta,omitempty"`
}

// patternJSON is a tile pattern: its 6-byte encoding and the indices it
// names, relative to the tile's offset.
type patternJSON struct {
	Hex     string   `json:"hex"`
	Indices []uint32 `json:"indices"`
}

func runInspect(stdout, stderr io.Writer, args []string) int {
	fs := newFlagSet(stderr, "inspect", "[-nbits HEX] [-cert-version V] [-profile local|pearl] FILE", inspectAbout)
	var nbits nbitsFlag
	fs.Var(&nbits, "nbits", "check the ticket against this compact target `HEX` instead of the header's")
	expect := addExpectFlags(fs)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	opts, err := expect.options(nbits.v)
	if err != nil {
		fmt.Fprintf(stderr, "pouw inspect: %v\n", err)
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "pouw inspect: want exactly one proof file")
		fs.Usage()
		return exitUsage
	}
	path := fs.Arg(0)
	p, v, err := loadAndVerify(path, opts)
	out := inspect(path, p, v, nbits.v, err)
	data, merr := json.MarshalIndent(out, "", "  ")
	if merr != nil {
		fmt.Fprintf(stderr, "pouw inspect: %v\n", merr)
		return exitFail
	}
	fmt.Fprintf(stdout, "%s\n", escapeUnprintable(compactNumberLists(data)))
	if err != nil {
		return exitFail
	}
	return exitOK
}

// inspect gathers what was derived from the file at path: p is nil when the
// file did not parse, v holds the values verification reached.
func inspect(path string, p *pouw.Proof, v *pouw.Verification, override uint32, verr error) *inspection {
	out := &inspection{File: path, Verdict: "valid"}
	if verr != nil {
		out.Verdict, out.Error = splitCode(describe(verr))
	}
	if p == nil {
		return out
	}
	if id, err := p.ID(); err == nil {
		out.ID = id
	}
	out.Profile = p.Profile.String()
	out.CertVersion = ptr(p.Job.CertVersion)
	out.Header = p.Job.Header.String()
	out.HeaderNbits = fmt.Sprintf("%#08x", p.Job.Header.Bits)
	out.M, out.N, out.K, out.Rank = ptr(p.Plain.M), ptr(p.Plain.N), ptr(p.Plain.K), ptr(p.Plain.NoiseRank)
	out.Meta = p.Meta

	// The target the ticket is (or would be) checked against depends on the
	// job and -nbits alone, so it is printed even when verification stopped
	// before the bound.
	nb := p.Job.Header.Bits
	if override != 0 {
		nb = override
	}
	out.Nbits = fmt.Sprintf("%#08x", nb)
	if target, err := pouw.Target(nb); err == nil {
		out.Target, out.TargetHex = target.String(), hex256(target)
		out.ExpMACs = ptr(p.Profile.ExpectedMACs(target, int(p.Plain.NoiseRank)))
	}
	if v == nil {
		return out
	}

	if v.Config.K != 0 { // set once the tile was rebuilt from the openings
		c := v.Config
		out.DotLen = ptr(c.DotLen())
		out.Tile = fmt.Sprintf("%dx%d", c.TileH(), c.TileW())
		out.TileH, out.TileW = ptr(c.TileH()), ptr(c.TileW())
		cb, _ := c.MarshalBinary() // rebuilt from openings: canonical
		out.Config = hex.EncodeToString(cb)
		out.RowOffset, out.ColOffset = ptr(v.RowOffset), ptr(v.ColOffset)
		out.RowsPattern, out.ColsPattern = patternOf(c.Rows), patternOf(c.Cols)
	}
	var zero [32]byte
	if v.JobKey != zero { // set once the profile admitted the configuration
		out.JobKey = hex.EncodeToString(v.JobKey[:])
		out.HashA = hex.EncodeToString(v.HashA[:])
		out.HashB = hex.EncodeToString(v.HashB[:])
	}
	if v.SeedA != zero { // set once the openings and values checked out
		out.HA = hex.EncodeToString(v.HA[:])
		out.HB = hex.EncodeToString(v.HB[:])
		out.SB = hex.EncodeToString(v.SeedB[:])
		out.SA = hex.EncodeToString(v.SeedA[:])
	}
	if v.Ticket != zero { // set once the one-tile transcript was computed
		out.Jackpot = make([]string, len(v.Jackpot))
		for i, w := range v.Jackpot {
			out.Jackpot[i] = fmt.Sprintf("%#08x", w)
		}
		out.Ticket = hex.EncodeToString(v.Ticket[:])
		out.TicketInt = hex256(v.TicketInt())
	}
	if v.Bound != nil {
		out.Bound, out.BoundHex = v.Bound.String(), hex256(v.Bound)
		out.Win = ptr(v.Win)
	}
	return out
}

func patternOf(p pouw.Pattern) *patternJSON {
	b, _ := p.MarshalBinary() // rebuilt from openings: canonical
	return &patternJSON{Hex: hex.EncodeToString(b), Indices: p.Indices()}
}

// hex256 writes a 256-bit value as 0x and 64 hex digits, so values line up.
func hex256(x *big.Int) string { return fmt.Sprintf("0x%064x", x) }

// splitCode splits describe's "Code: description" in two.
func splitCode(s string) (code, desc string) {
	code, desc, _ = strings.Cut(s, ": ")
	return code, desc
}

// numberList matches an indented JSON array of integers. It requires the
// line breaks MarshalIndent puts there, which no JSON string can hold, so it
// never rewrites the inside of a string (meta is free-form).
var numberList = regexp.MustCompile(`\[\n(\s*\d+,\n)*\s*\d+\n\s*\]`)

// compactNumberLists puts each array of integers (a pattern's indices, up
// to 256 of them) on one line, so the output stays readable.
func compactNumberLists(data []byte) []byte {
	return numberList.ReplaceAllFunc(data, func(m []byte) []byte {
		return []byte("[" + strings.Join(strings.Fields(string(m[1:len(m)-1])), " ") + "]")
	})
}

// escapeUnprintable writes every rune of JSON text that a terminal could
// act on and encoding/json leaves as it is (DEL, the C1 controls, format
// characters such as the bidirectional overrides U+202E and U+2066–U+2069)
// as a \u escape. encoding/json has already escaped the C0 controls inside
// strings, and such runes occur nowhere else, so the text stays the same
// JSON: a file's meta cannot reorder or rewrite what inspect shows.
func escapeUnprintable(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == '\n' || unicode.IsGraphic(r) {
			out = append(out, data[i:i+n]...)
		} else if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out
}

func ptr[T any](x T) *T { return &x }
