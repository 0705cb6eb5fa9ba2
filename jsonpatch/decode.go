package jsonpatch

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(Invalid, "Malformed JSON body.")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errorf(Invalid, "JSON body is nested too deeply.")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, errorf(Invalid, "Malformed JSON body.")
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, errorf(Invalid, "Malformed JSON body.")
				}
				k, _ := kt.(string)
				if len(m) == MaxMembers {
					return nil, errorf(Invalid, "A JSON object in the body has more than %d members.", MaxMembers)
				}
				if _, dup := m[k]; dup {
					return nil, fieldErrorf(Invalid, k, "Duplicate key %q in JSON body.", k)
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, errorf(Invalid, "Malformed JSON body.")
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				if len(a) == MaxMembers {
					return nil, errorf(Invalid, "A JSON array in the body has more than %d elements.", MaxMembers)
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, errorf(Invalid, "Malformed JSON body.")
			}
			return a, nil
		}
		return nil, errorf(Invalid, "Malformed JSON body.")
	default:
		return t, nil
	}
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
