package pouw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Proof files and gateway answers are JSON read by other tools too, so they
// are read in one strict form (§11.2): valid UTF-8, one
// value and nothing after it, no key twice in any object, keys in their exact
// case, no key the format does not define (meta excepted), canonical base64
// without whitespace, and integers short enough to parse in constant time. A
// file that two parsers could read differently is rejected, not guessed at.

// maxJSONDepth bounds the nesting of a document (meta is free-form).
const maxJSONDepth = 32

// quoteMax is how much of an input an error message quotes.
const quoteMax = 40

// quote renders an input string for an error message: escaped, and at most
// a short prefix of it, so no input can flood or forge a terminal line.
func quote(s string) string {
	if len(s) > quoteMax {
		return strconv.QuoteToASCII(s[:quoteMax]) + "…"
	}
	return strconv.QuoteToASCII(s)
}

// quoteBytes is quote for raw input bytes (never copying more than it shows).
func quoteBytes(b []byte) string {
	if len(b) > quoteMax {
		return strconv.QuoteToASCII(string(b[:quoteMax])) + "…"
	}
	return strconv.QuoteToASCII(string(b))
}

// The reader below is RFC 8259's grammar, which encoding/json also accepts,
// read in one pass over the bytes with nothing decoded but object keys: a
// file of megabytes is checked in milliseconds, and a number of millions
// of digits is only looked at, never parsed. It adds what encoding/json lets
// through: invalid UTF-8 (which it replaces), a key twice in an object (the
// last would win), more than one value, and deep nesting.

// checkJSON checks that data is one strict JSON value, with JSON whitespace
// only around it.
func checkJSON(data []byte) error {
	r, err := newJSONReader(data)
	if err != nil {
		return err
	}
	if err := r.value(0, nil); err != nil {
		return err
	}
	return r.end()
}

// jsonObject reads data, which must be one strict JSON object with JSON
// whitespace only around it, into its members' raw values, and checks the
// keys exactly: every required key present, nothing outside required and
// optional, in exact case.
func jsonObject(what string, data []byte, required, optional []string) (map[string]json.RawMessage, error) {
	r, err := newJSONReader(data)
	if err != nil {
		return nil, err
	}
	if r.peek() != '{' {
		return nil, ruleErr(ErrBadEncoding, "%s: not a JSON object", what)
	}
	obj := map[string]json.RawMessage{}
	if err := r.value(0, obj); err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	for k := range obj {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			for _, known := range slices.Concat(required, optional) {
				if strings.EqualFold(k, known) {
					return nil, ruleErr(ErrBadEncoding, "%s: key %s: keys are case-sensitive, want %q", what, quote(k), known)
				}
			}
			return nil, ruleErr(ErrBadEncoding, "%s: unknown key %s", what, quote(k))
		}
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			return nil, ruleErr(ErrBadEncoding, "%s: key %q missing", what, k)
		}
	}
	return obj, nil
}

// jsonReader reads strict JSON from b, position i.
type jsonReader struct {
	b []byte
	i int
}

// newJSONReader checks that data is valid UTF-8 and returns a reader at its
// first value.
func newJSONReader(data []byte) (*jsonReader, error) {
	if !utf8.Valid(data) {
		return nil, ruleErr(ErrBadEncoding, "JSON: invalid UTF-8 at byte %d", invalidUTF8At(data))
	}
	r := &jsonReader{b: data}
	r.space()
	return r, nil
}

// invalidUTF8At is the offset of the first byte of data that does not
// begin a valid UTF-8 sequence.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// space skips JSON whitespace.
func (r *jsonReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek is the next byte, 0 at the end.
func (r *jsonReader) peek() byte {
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// end checks that nothing but whitespace follows the value.
func (r *jsonReader) end() error {
	r.space()
	if r.i != len(r.b) {
		return ruleErr(ErrBadEncoding, "JSON: data after the value, at byte %d", r.i)
	}
	return nil
}

// unexpected reports the byte at the reader's position.
func (r *jsonReader) unexpected(context string) error {
	if r.i >= len(r.b) {
		return ruleErr(ErrBadEncoding, "JSON: unexpected end of input %s", context)
	}
	c, _ := utf8.DecodeRune(r.b[r.i:])
	return ruleErr(ErrBadEncoding, "JSON: invalid character %s %s, at byte %d", strconv.QuoteRuneToASCII(c), context, r.i)
}

// value reads one value at nesting depth depth, and the whitespace after
// it. If members is not nil, the value must be an object, and its members'
// raw values are stored there by key.
func (r *jsonReader) value(depth int, members map[string]json.RawMessage) error {
	if depth > maxJSONDepth {
		return ruleErr(ErrBadEncoding, "JSON: nested deeper than %d", maxJSONDepth)
	}
	var err error
	switch c := r.peek(); {
	case c == '{':
		err = r.object(depth, members)
	case c == '[':
		err = r.array(depth)
	case c == '"':
		_, err = r.str(false)
	case c == '-' || '0' <= c && c <= '9':
		err = r.number()
	case c == 't':
		err = r.literal("true")
	case c == 'f':
		err = r.literal("false")
	case c == 'n':
		err = r.literal("null")
	default:
		err = r.unexpected("looking for the beginning of a value")
	}
	if err != nil {
		return err
	}
	r.space()
	return nil
}

func (r *jsonReader) object(depth int, members map[string]json.RawMessage) error {
	r.i++ // '{'
	r.space()
	if r.peek() == '}' {
		r.i++
		return nil
	}
	seen := map[string]bool{}
	for {
		if r.peek() != '"' {
			return r.unexpected("looking for the beginning of an object key")
		}
		key, err := r.str(true)
		if err != nil {
			return err
		}
		if seen[key] {
			return ruleErr(ErrBadEncoding, "JSON: key %s appears twice", quote(key))
		}
		seen[key] = true
		r.space()
		if r.peek() != ':' {
			return r.unexpected("after an object key")
		}
		r.i++
		r.space()
		start := r.i
		if err := r.value(depth+1, nil); err != nil {
			return err
		}
		if members != nil {
			members[key] = bytes.TrimRight(r.b[start:r.i], " \t\r\n")
		}
		switch r.peek() {
		case ',':
			r.i++
			r.space()
		case '}':
			r.i++
			return nil
		default:
			return r.unexpected("after an object key:value pair")
		}
	}
}

func (r *jsonReader) array(depth int) error {
	r.i++ // '['
	r.space()
	if r.peek() == ']' {
		r.i++
		return nil
	}
	for {
		if err := r.value(depth+1, nil); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
			r.space()
		case ']':
			r.i++
			return nil
		default:
			return r.unexpected("after an array element")
		}
	}
}

// str reads a string and, if decode is set (for keys), returns its value.
func (r *jsonReader) str(decode bool) (string, error) {
	start := r.i
	r.i++ // '"'
	escaped := false
	for {
		if r.i >= len(r.b) {
			return "", r.unexpected("in a string")
		}
		switch c := r.b[r.i]; {
		case c == '"':
			r.i++
			raw := r.b[start:r.i]
			if !decode {
				return "", nil
			}
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", ruleErr(ErrBadEncoding, "JSON: %v", err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			r.i++
			switch r.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for range 4 {
					if !isHex(r.peek()) {
						return "", r.unexpected("in a \\u escape")
					}
					r.i++
				}
			default:
				return "", r.unexpected("in a string escape")
			}
		case c < 0x20:
			return "", r.unexpected("in a string")
		default:
			r.i++
		}
	}
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func (r *jsonReader) digits() int {
	n := 0
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
		n++
	}
	return n
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, looking at
// each digit once and parsing none.
func (r *jsonReader) number() error {
	if r.peek() == '-' {
		r.i++
	}
	switch c := r.peek(); {
	case c == '0':
		r.i++
	case '1' <= c && c <= '9':
		r.digits()
	default:
		return r.unexpected("in a number")
	}
	if r.peek() == '.' {
		r.i++
		if r.digits() == 0 {
			return r.unexpected("after the decimal point of a number")
		}
	}
	if c := r.peek(); c == 'e' || c == 'E' {
		r.i++
		if c := r.peek(); c == '+' || c == '-' {
			r.i++
		}
		if r.digits() == 0 {
			return r.unexpected("in the exponent of a number")
		}
	}
	return nil
}

func (r *jsonReader) literal(lit string) error {
	if !bytes.HasPrefix(r.b[r.i:], []byte(lit)) {
		for j := 0; j < len(lit) && r.i < len(r.b) && r.b[r.i] == lit[j]; j++ {
			r.i++
		}
		return r.unexpected("in the literal " + lit)
	}
	r.i += len(lit)
	return nil
}

// jsonString decodes a JSON string member (read by jsonObject, so valid).
func jsonString(what string, raw json.RawMessage) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", ruleErr(ErrBadEncoding, "%s: want a string, got %s", what, quoteBytes(raw))
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil // nothing to decode
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", ruleErr(ErrBadEncoding, "%s: %v", what, err)
	}
	return s, nil
}

// jsonBase64 decodes a JSON string of canonical standard base64: padded, no
// whitespace or line breaks (which Go's decoder would skip), no stray bits
// in the last character. Re-encoding the bytes must give the string back.
func jsonBase64(what string, raw json.RawMessage) ([]byte, error) {
	s, err := jsonString(what, raw)
	if err != nil {
		return nil, err
	}
	if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
		return nil, ruleErr(ErrBadEncoding, "%s: whitespace or a line break at character %d of the base64", what, i)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodedLen(len(b)) != len(s) || base64.StdEncoding.EncodeToString(b) != s {
		return nil, ruleErr(ErrBadEncoding, "%s: not canonical base64 (%s)", what, quote(s))
	}
	return b, nil
}

// jsonUint decodes a JSON integer of at most maxDigits decimal digits,
// without a sign, fraction, exponent or leading zero. The length is checked
// before anything is parsed.
func jsonUint(what string, raw json.RawMessage, maxDigits int) (string, error) {
	if len(raw) == 0 || len(raw) > maxDigits {
		return "", ruleErr(ErrBadEncoding, "%s: want an integer of at most %d digits, got %d bytes %s", what, maxDigits, len(raw), quoteBytes(raw))
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return "", ruleErr(ErrBadEncoding, "%s: want a non-negative integer, got %s", what, quoteBytes(raw))
		}
	}
	if raw[0] == '0' && len(raw) > 1 {
		return "", ruleErr(ErrBadEncoding, "%s: leading zero in %s", what, quoteBytes(raw))
	}
	return string(raw), nil
}

// jsonUint32 decodes a jsonUint that fits 32 bits.
func jsonUint32(what string, raw json.RawMessage) (uint32, error) {
	s, err := jsonUint(what, raw, 10)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, ruleErr(ErrBadEncoding, "%s: %s does not fit 32 bits", what, s)
	}
	return uint32(v), nil
}
