package jsonpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// parseWithDecoder is how Parse read JSON before it had its own parser:
// encoding/json's Decoder, token by token, with UseNumber, after a walk
// for bad text with the same Decoder (decoderBadText). It is the oracle
// the parser is checked against.
func parseWithDecoder(data []byte) (any, error) {
	if path, bad := decoderBadText(data); bad {
		return nil, fieldErrorf(Invalid, path[0], "Field %q must be valid text.", path[0])
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decoderValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed()
	}
	return v, nil
}

func decoderValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errorf(Invalid, "JSON body is nested too deeply.")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed()
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, malformed()
				}
				k, _ := kt.(string)
				if len(m) == MaxMembers {
					return nil, errorf(Invalid, "A JSON object in the body has more than %d members.", MaxMembers)
				}
				if _, dup := m[k]; dup {
					return nil, fieldErrorf(Invalid, k, "Duplicate key %q in JSON body.", k)
				}
				v, err := decoderValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, malformed()
			}
			return m, nil
		case '[':
			a := []any{}
			for dec.More() {
				if len(a) == MaxMembers {
					return nil, errorf(Invalid, "A JSON array in the body has more than %d elements.", MaxMembers)
				}
				v, err := decoderValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, malformed()
			}
			return a, nil
		}
		return nil, malformed()
	default:
		return t, nil
	}
}

// sameParse fails t unless Parse and the Decoder agree on data: the same
// value, or errors with the same kind, field and text.
func sameParse(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := Parse(data)
	want, wantErr := parseWithDecoder(data)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: parser error %v, decoder error %v", data, gotErr, wantErr)
	}
	if gotErr != nil {
		var g, w *Error
		if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || g.Kind != w.Kind || g.Field != w.Field || g.Error() != w.Error() {
			t.Fatalf("%q: parser error %#v, decoder error %#v", data, gotErr, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: parser %#v, decoder %#v", data, got, want)
	}
}

// parseCases are the inputs both readers must agree on; each line of the
// table is a family of JSON's corners.
var parseCases = []string{
	// values and whitespace
	`null`, `true`, `false`, ` 1 `, "\t\r\n[]\n", `{}`, `[]`, `""`, `"a"`, `{"a":{"b":[1,{"c":null}]}}`,
	// numbers
	`0`, `-0`, `12`, `-12.5e+3`, `1E-2`, `1e5`, `123456789012345678901234567890`, `0.000`, `01`, `-`, `1.`, `.5`, `+1`, `1e`, `1e+`, `--1`, `0x1`, `1.5.5`, `[1 2]`,
	// strings and escapes
	`"\"\\\/\b\f\n\r\t"`, `"\u00e9\u20AC"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\u12G4"`, `"\u12"`, `"\x"`, `"a` + "\x01" + `b"`, `"unterminated`, `"esc\`, `"é€😀"`,
	// literals
	`tru`, `nul`, `falsey`, `truefalse`, `[true,false,null]`, `nulL`,
	// structure
	`{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a" 1}`, `{"a":}`, `{"a":1 "b":2}`, `{"a":1}}`, `[1]]`, `{]`, `[}`, `{"a":[}`, `{1:2}`, `{"a":1,"a":2}`, `{"a":1,"a"`, `{"a":1,"a" x`, `[{"a":1,"b":2,"a":3}]`,
	// trailing data and emptiness
	``, ` `, `1 2`, `{} {}`, `[]x`, `"a""b"`, `nullnull`, "\ufeff{}",
	// patches as clients send them
	`[{"op":"replace","path":"/description","value":"On call"}]`,
	`[{"op":"add","path":"/tags/a","value":"1"},{"op":"test","path":"/n","value":1.0e0}]`,
}

func TestParserMatchesDecoder(t *testing.T) {
	for _, c := range parseCases {
		sameParse(t, []byte(c))
	}
	deep := strings.Repeat("[", maxDepth) + "1" + strings.Repeat("]", maxDepth)
	sameParse(t, []byte(deep))
	sameParse(t, []byte("["+deep+"]"))
	sameParse(t, []byte(strings.Repeat("[", maxDepth+2)+"x"))
	sameParse(t, []byte(strings.Repeat("[", maxDepth+1)))
	sameParse(t, []byte(strings.Repeat("[", maxDepth+1)+"}"))
	sameParse(t, []byte(strings.Repeat("[", maxDepth)+"1,"))
	sameParse(t, []byte("["+strings.Repeat("1,", MaxMembers)))
	sameParse(t, []byte("["+strings.Repeat("1,", MaxMembers)+"]"))
	sameParse(t, []byte("["+strings.Repeat("1,", MaxMembers-1)+"1 x"))
	sameParse(t, []byte("["+strings.Repeat("1,", MaxMembers-1)+"1}"))
	sameParse(t, []byte("[1 x"))
	sameParse(t, []byte(strings.Repeat("[", maxTextDepth)+`"`+"\xff"+`"`))
	sameParse(t, []byte(strings.Repeat("[", maxTextDepth+1)+`"`+"\xff"+`"`))
	sameParse(t, []byte(strings.Repeat("[", maxTextDepth+1)+`],"`+"\xff"+`"`))
	sameParse(t, []byte(strings.Repeat(`{"a":`, maxTextDepth)+`{"`+"\xff"+`":1`))
	sameParse(t, []byte(`{"a":1,"a":2,"b":["\ud800"]}`))
	sameParse(t, []byte("[1 }"))
	many := "[" + strings.Repeat("1,", MaxMembers) + "1]"
	sameParse(t, []byte(many))
	sameParse(t, []byte("["+strings.Repeat("1,", MaxMembers-1)+"1]"))
	var obj strings.Builder
	obj.WriteString("{")
	for i := 0; i <= MaxMembers; i++ {
		if i > 0 {
			obj.WriteString(",")
		}
		obj.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	obj.WriteString("}")
	sameParse(t, []byte(obj.String()))
}

// TestParserMatchesDecoderOnCorpus runs both readers over every RFC 6902
// vector and fuzz seed kept in testdata.
func TestParserMatchesDecoderOnCorpus(t *testing.T) {
	n := 0
	err := filepath.Walk("testdata", func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sameParse(t, b)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no files under testdata")
	}
}

// FuzzParserMatchesDecoder: on any input the parser and the Decoder give
// the same value or the same error.
func FuzzParserMatchesDecoder(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameParse(t, data)
	})
}

// decoderBadText is what CheckText did with encoding/json's Decoder
// before the parser read text itself, kept as the oracle: it walks the
// first value token by token and checks each string as written (valid
// UTF-8, every surrogate escape paired). Past maxTextDepth it stops, as
// CheckText does, before reading any value.
func decoderBadText(data []byte) (path []string, bad bool) {
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
		closing := tok == json.Delim('}') || tok == json.Delim(']')
		if len(stack) > maxTextDepth && !isKey && !closing {
			return nil, false
		}
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
	u4 := func(i int) int64 { // the 4 hex digits of a \u escape at raw[i-2:]
		if i+4 > len(raw) {
			return -1
		}
		n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
		if err != nil {
			return -1
		}
		return int64(n)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r := u4(i + 1)
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00: // high half: a low half must follow
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			if lo := u4(i + 3); lo < 0xDC00 || lo >= 0xE000 {
				return false
			}
			i += 6
		case r >= 0xDC00 && r < 0xE000: // a low half alone
			return false
		}
	}
	return true
}
