package pouw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"slices"
	"strconv"
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

// quote renders an input string for an error message: escaped, and at most
// a short prefix of it, so no input can flood or forge a terminal line.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.QuoteToASCII(s[:max]) + "…"
	}
	return strconv.QuoteToASCII(s)
}

// quoteBytes is quote for raw input bytes.
func quoteBytes(b []byte) string { return quote(string(b)) }

// checkJSON checks what encoding/json lets through: invalid UTF-8 (which it
// replaces), duplicate keys (the last would win), more than one value, and
// deep nesting.
func checkJSON(data []byte) error {
	if !utf8.Valid(data) {
		return ruleErr(ErrBadEncoding, "JSON: invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walkJSON(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ruleErr(ErrBadEncoding, "JSON: data after the value")
	}
	return nil
}

// walkJSON reads one value from dec, checking every object's keys.
func walkJSON(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return ruleErr(ErrBadEncoding, "JSON: nested deeper than %d", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return ruleErr(ErrBadEncoding, "JSON: %v", err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return ruleErr(ErrBadEncoding, "JSON: %v", err)
			}
			key := k.(string)
			if seen[key] {
				return ruleErr(ErrBadEncoding, "JSON: key %s appears twice", quote(key))
			}
			seen[key] = true
			if err := walkJSON(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		for dec.More() {
			if err := walkJSON(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return ruleErr(ErrBadEncoding, "JSON: %v", err)
	}
	return nil
}

// jsonObject splits an object (already through checkJSON) into its members
// and checks the keys exactly: every required key present, nothing outside
// required and optional.
func jsonObject(what string, data []byte, required, optional []string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if len(data) == 0 || data[0] != '{' {
		return nil, ruleErr(ErrBadEncoding, "%s: not a JSON object", what)
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, ruleErr(ErrBadEncoding, "%s: %v", what, err)
	}
	for k := range obj {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
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

// jsonString decodes a JSON string member.
func jsonString(what string, raw json.RawMessage) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", ruleErr(ErrBadEncoding, "%s: want a string, got %s", what, quoteBytes(raw))
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
