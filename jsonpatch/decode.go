package jsonpatch

import (
	"bytes"
	"encoding/json"
	"errors"
)

// maxDepth bounds nesting so that a hostile body cannot exhaust the stack.
const maxDepth = 64

// maxTextDepth bounds the nesting CheckText follows: encoding/json refuses
// anything deeper (its scanner's limit is 10,000), so no decoder the
// service hands such a body to turns its text into U+FFFD.
const maxTextDepth = 10_000

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
// an error naming the first key on the way to it. That error wins over a
// duplicate key or a bound (depth, members) met earlier in the body, as
// long as the body reads as JSON up to the bad string: the field a client
// must fix is named whatever else is wrong.
func Parse(data []byte) (any, error) {
	p := parser{data: data}
	v, err := p.value(0)
	if err == nil {
		if p.space(); p.i == len(data) {
			return v, nil
		}
		err = errSyntax
	}
	var text *textError
	var bound *Error
	switch {
	case errors.As(err, &text):
		return nil, invalidText(text.keys()[0])
	case errors.As(err, &bound): // a duplicate or a bound: look on for bad text
		if path, bad := CheckText(data); bad {
			return nil, invalidText(path[0])
		}
		return nil, bound
	}
	return nil, malformed()
}

func malformed() error { return errorf(Invalid, "Malformed JSON body.") }

// errSyntax is the parser's own word for malformed JSON; Parse answers it
// with malformed().
var errSyntax = errors.New("jsonpatch: malformed JSON")

// parser reads JSON (RFC 8259) from data at i: the one JSON reader of the
// service's bodies. It gives what encoding/json's Decoder read token by
// token with UseNumber gave (the test keeps that reader and fuzzes the two
// against each other), at a fraction of the work. It decodes strings,
// escapes and surrogate pairs as encoding/json does, and says where a
// string is not valid text as written (a textError). A lenient parser
// (CheckText) allows duplicate keys and any number of members, and stops
// quietly past maxTextDepth.
type parser struct {
	data    []byte
	i       int
	lenient bool
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
		if !p.lenient {
			return nil, errorf(Invalid, "JSON body is nested too deeply.")
		}
		if depth > maxTextDepth {
			return nil, errSyntax
		}
	}
	switch c := p.next(); {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.text()
	case c == 't':
		return p.literal("true", true)
	case c == 'f':
		return p.literal("false", false)
	case c == 'n':
		return p.literal("null", nil)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, errSyntax
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
			return nil, errSyntax
		}
		k, valid, err := p.str()
		if err != nil {
			return nil, err
		}
		if !valid {
			return nil, &textError{path: []string{k}}
		}
		if !p.lenient {
			if len(m) == MaxMembers {
				return nil, errorf(Invalid, "A JSON object in the body has more than %d members.", MaxMembers)
			}
			if _, dup := m[k]; dup {
				return nil, fieldErrorf(Invalid, k, "Duplicate key %q in JSON body.", k)
			}
		}
		if p.next() != ':' {
			return nil, errSyntax
		}
		p.i++
		v, err := p.value(depth + 1)
		if err != nil {
			if text, ok := err.(*textError); ok {
				text.path = append(text.path, k)
			}
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
			return nil, errSyntax
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
			return nil, errSyntax
		}
		if len(a) == MaxMembers && !p.lenient {
			return nil, errorf(Invalid, "A JSON array in the body has more than %d elements.", MaxMembers)
		}
		if len(a) > 0 {
			if p.data[p.i] != ',' {
				return nil, errSyntax
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
		return nil, errSyntax
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
		return nil, errSyntax
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	return json.Number(p.data[start:p.i]), nil
}
