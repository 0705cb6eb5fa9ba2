package jsonpatch

import (
	"bytes"
	"errors"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the parser's strings: how it decodes them (escapes,
// surrogate pairs, bytes that are not UTF-8, all as encoding/json does)
// and how it finds text that is not valid as written.

// CheckText finds the first string in the JSON value data that is not
// valid text as written: bytes that are not UTF-8, or a \u escape of half
// a surrogate pair. It reads data as encoding/json's decoders do
// (duplicate keys allowed, no bound on members, nesting up to theirs of
// 10,000; anything after the first value is not read) and returns the
// object keys leading to the bad string (the bad key itself last, decoded
// as encoding/json decodes it, when the key is the bad string; a string
// outside any object has the path [""]). JSON it cannot read is not its
// concern: it reports nothing after the first syntax error, and the
// caller's decoder fails on it.
func CheckText(data []byte) (path []string, bad bool) {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return nil, false // the common case: nothing to look at
	}
	p := parser{data: data, lenient: true}
	var text *textError
	if _, err := p.value(0); errors.As(err, &text) {
		return text.keys(), true
	}
	return nil, false
}

// textError is a string that is not valid text as written, with the
// object keys on the way to it, innermost first.
type textError struct{ path []string }

func (e *textError) Error() string { return "jsonpatch: invalid text" }

// keys is the path outermost first, [""] when no object encloses the string.
func (e *textError) keys() []string {
	if len(e.path) == 0 {
		return []string{""}
	}
	keys := slices.Clone(e.path)
	slices.Reverse(keys)
	return keys
}

func invalidText(field string) error {
	return fieldErrorf(Invalid, field, "Field %q must be valid text.", field)
}

// text reads a string value: a textError when it is not valid text.
func (p *parser) text() (any, error) {
	s, valid, err := p.str()
	if err == nil && !valid {
		return nil, &textError{}
	}
	return s, err
}

// str reads a string at its opening quote. It returns the string as
// encoding/json decodes it, and whether it is valid text as written.
// Bytes that need no decoding are sliced; the first escape or invalid
// byte hands over to unquote.
func (p *parser) str() (s string, valid bool, err error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			s := string(p.data[start:p.i])
			p.i++
			return s, true, nil
		case c == '\\':
			return p.unquote(start)
		case c < 0x20:
			return "", false, errSyntax
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.data[p.i:])
			if r == utf8.RuneError && n == 1 {
				return p.unquote(start)
			}
			p.i += n
			continue
		}
		p.i++
	}
	return "", false, errSyntax
}

// unquote finishes a string from p.i, as encoding/json unquotes it: each
// byte that is not UTF-8, and a \u escape of half a surrogate pair,
// becomes U+FFFD and makes the string invalid text.
func (p *parser) unquote(start int) (string, bool, error) {
	b := append(make([]byte, 0, 2*(p.i-start)+16), p.data[start:p.i]...)
	valid := true
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), valid, nil
		case c < 0x20:
			return "", false, errSyntax
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.data[p.i:])
			if r == utf8.RuneError && n == 1 {
				valid = false
			}
			b = utf8.AppendRune(b, r)
			p.i += n
			continue
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.data) {
			return "", false, errSyntax
		}
		switch e := p.data[p.i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(p.data[p.i+2:])
			if r < 0 {
				return "", false, errSyntax
			}
			p.i += 6
			if utf16.IsSurrogate(r) {
				// A pair is a high half then a \u escape of a low half;
				// anything else leaves this half alone (the next escape,
				// if any, is read on its own).
				if bytes.HasPrefix(p.data[p.i:], []byte(`\u`)) {
					if d := utf16.DecodeRune(r, hex4(p.data[p.i+2:])); d != utf8.RuneError {
						b = utf8.AppendRune(b, d)
						p.i += 6
						continue
					}
				}
				r, valid = utf8.RuneError, false
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", false, errSyntax
		}
		p.i += 2
	}
	return "", false, errSyntax
}

// hex4 is the value of the 4 hex digits b starts with, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
