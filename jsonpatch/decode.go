package jsonpatch

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so that a hostile body cannot exhaust the stack.
const maxDepth = 64

// MaxMembers bounds the members of one object and the elements of one
// array: no document this service takes comes near it (a user has a few
// dozen fields, at most 100 tags and attributes), and a caller's work per
// body stays small whatever it does with each member.
const MaxMembers = 10_000

// Parse decodes one JSON value strictly: numbers stay json.Number (so big
// integers survive exactly), an object with a duplicated key is an error, and
// trailing data after the value is an error.
//
// Every string must be valid text as written: invalid UTF-8 or an unpaired
// surrogate escape (which Go's decoder would silently turn into U+FFFD) is
// an error naming the first key on the way to it.
func Parse(data []byte) (any, error) {
	if path, bad := BadText(data); bad {
		return nil, fieldErrorf(Invalid, path[0], "Field %q must be valid text.", path[0])
	}
	p := parser{data: data}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.i != len(data) {
		return nil, malformed()
	}
	return v, nil
}

func malformed() error { return errorf(Invalid, "Malformed JSON body.") }

// parser reads JSON (RFC 8259) from data at i, with Parse's rules. It
// gives what encoding/json's Decoder read token by token with UseNumber
// gave (the test keeps that reader and fuzzes the two against each
// other), at a fraction of the work: the Decoder allocated a syntax
// error it then ignored after every scalar, and a PATCH body's parse was
// most of its allocations. Its strings are valid UTF-8: Parse rejects
// any other text first (BadText).
type parser struct {
	data []byte
	i    int
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next skips whitespace and returns the byte there, or 0 at the end.
func (p *parser) next() byte {
	if p.space(); p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errorf(Invalid, "JSON body is nested too deeply.")
	}
	switch c := p.next(); {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, malformed()
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // {
	m := map[string]any{}
	if p.next() == '}' {
		p.i++
		return m, nil
	}
	for {
		if p.next() != '"' {
			return nil, malformed()
		}
		k, err := p.string()
		if err != nil {
			return nil, err
		}
		if len(m) == MaxMembers {
			return nil, errorf(Invalid, "A JSON object in the body has more than %d members.", MaxMembers)
		}
		if _, dup := m[k]; dup {
			return nil, fieldErrorf(Invalid, k, "Duplicate key %q in JSON body.", k)
		}
		if p.next() != ':' {
			return nil, malformed()
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		switch p.next() {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, malformed()
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // [
	a := []any{}
	// As the Decoder reader did: the end of the data or a bracket closes
	// (or breaks) the array before any bound is checked, and anything
	// else after an element counts as one more element, checked against
	// the bound before its comma is read. (An array whose elements would
	// be too deep fails on its first one.)
	for {
		switch p.next() {
		case ']':
			p.i++
			return a, nil
		case 0, '}':
			return nil, malformed()
		}
		if len(a) == MaxMembers {
			return nil, errorf(Invalid, "A JSON array in the body has more than %d elements.", MaxMembers)
		}
		if len(a) > 0 {
			if p.data[p.i] != ',' {
				return nil, malformed()
			}
			p.i++
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

func (p *parser) literal(word string, v any) (any, error) {
	if !bytes.HasPrefix(p.data[p.i:], []byte(word)) {
		return nil, malformed()
	}
	p.i += len(word)
	return v, nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as written.
func (p *parser) number() (any, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.data[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.data) && p.data[p.i] == '0':
		p.i++
	case digits() == 0:
		return nil, malformed()
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, malformed()
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, malformed()
		}
	}
	return json.Number(p.data[start:p.i]), nil
}

// string reads a string at its opening quote.
func (p *parser) string() (string, error) {
	p.i++ // "
	start := p.i
	for p.i < len(p.data) {
		switch c := p.data[p.i]; {
		case c == '"':
			s := string(p.data[start:p.i])
			p.i++
			return s, nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", malformed()
		}
		p.i++
	}
	return "", malformed()
}

// escaped finishes a string that holds an escape, as encoding/json
// unquotes it (a \u escape of half a surrogate pair becomes U+FFFD).
func (p *parser) escaped(start int) (string, error) {
	b := append([]byte(nil), p.data[start:p.i]...)
	hex4 := func(at int) rune {
		if at+4 > len(p.data) {
			return -1
		}
		n, err := strconv.ParseUint(string(p.data[at:at+4]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(n)
	}
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return string(b), nil
		case c < 0x20:
			return "", malformed()
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.data) {
			return "", malformed()
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
			r := hex4(p.i + 2)
			if r < 0 {
				return "", malformed()
			}
			p.i += 6
			if utf16.IsSurrogate(r) {
				if p.i+1 < len(p.data) && p.data[p.i] == '\\' && p.data[p.i+1] == 'u' {
					if r2 := hex4(p.i + 2); r2 >= 0 {
						if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
							b = utf8.AppendRune(b, d)
							p.i += 6
							continue
						}
					}
				}
				r = unicode.ReplacementChar
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", malformed()
		}
		p.i += 2
	}
	return "", malformed()
}

// BadText finds the first string in the JSON value data that is not
// valid text as written: bytes that are not UTF-8, or a \u escape of half
// a surrogate pair. It returns the object keys leading to it (the bad key
// itself last when the key is the bad string; a string directly inside a
// top-level array has the path [""]). JSON it cannot read is not its
// concern: it reports nothing, and the caller's decoder fails on it.
func BadText(data []byte) (path []string, bad bool) {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return nil, false // the common case: nothing to look at
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object, wantKey bool
		key             string
	}
	var stack []frame
	keys := func(extra ...string) []string {
		var p []string
		for _, f := range stack {
			if f.object && !f.wantKey {
				p = append(p, f.key)
			}
		}
		p = append(p, extra...)
		if len(p) == 0 {
			p = []string{""}
		}
		return p
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].wantKey
		if s, ok := tok.(string); ok && !rawTextValid(data[start:dec.InputOffset()]) {
			if isKey {
				return keys(s), true
			}
			return keys(), true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			if top == 0 {
				return nil, false
			}
			if stack[top-1].object {
				stack[top-1].wantKey = true
			}
		default:
			switch {
			case isKey:
				stack[top].wantKey, stack[top].key = false, tok.(string)
			case top < 0:
				return nil, false
			case stack[top].object:
				stack[top].wantKey = true
			}
		}
	}
}

// rawTextValid reports whether a JSON string token as written (with what
// precedes it since the last token: whitespace, ':' or ',') is UTF-8 with
// every surrogate escape paired.
func rawTextValid(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	hex4 := func(i int) rune { // the 4 hex digits of a \u escape at raw[i-2:]
		if i+4 > len(raw) {
			return -1
		}
		n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(n)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := hex4(i + 1)
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00: // high half: a low half must follow
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			if lo := hex4(i + 3); lo < 0xDC00 || lo >= 0xE000 {
				return false
			}
			i += 6
		case r >= 0xDC00 && r < 0xE000: // a low half alone
			return false
		}
	}
	return true
}
