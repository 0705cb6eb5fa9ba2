package jsonpatch

import (
	"testing"
)

// FuzzApplyPatch: any patch on any document either fails cleanly or
// yields a JSON value; the input document is never modified; nothing panics.
func FuzzApplyPatch(f *testing.F) {
	f.Add(`{"name":"A","tags":{"a":"b"},"privileges":["x"]}`, `[{"op":"add","path":"/tags/c","value":"d"}]`)
	f.Add(`{"a":[1,2,3]}`, `[{"op":"move","from":"/a/0","path":"/a/-"},{"op":"test","path":"/a/2","value":1.0}]`)
	f.Add(`{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/a/c"},{"op":"remove","path":"/a/b"}]`)
	f.Add(`[]`, `[{"op":"replace","path":"","value":{"x":1}}]`)
	f.Fuzz(func(t *testing.T, docText, patchText string) {
		doc, err := Parse([]byte(docText))
		if err != nil {
			return
		}
		before, _ := Parse([]byte(docText))
		p, err := Parse([]byte(patchText))
		if err != nil {
			return
		}
		ops, err := ParsePatch(p)
		if err != nil {
			if kindOf(err) != Invalid {
				t.Fatalf("parse error of kind %d: %v", kindOf(err), err)
			}
			return
		}
		out, err := Apply(doc, ops)
		if !jsonEqual(doc, before) {
			t.Fatal("Apply modified its input")
		}
		if err != nil {
			if k := kindOf(err); k != Invalid && k != TestFailed {
				t.Fatalf("apply error of kind %d: %v", k, err)
			}
			return
		}
		if countNodes(out) > MaxNodes+countNodes(doc)+countNodes(p) {
			t.Fatalf("document grew to %d values", countNodes(out))
		}
	})
}

// FuzzParsePointer: parsing never panics, and a parsed pointer re-escapes
// to the same string.
func FuzzParsePointer(f *testing.F) {
	for _, s := range []string{"", "/", "/a~1b", "/m~0n", "/~2", "a", "/a/0/-", "/~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := parsePointer(s)
		if err != nil {
			return
		}
		re := ""
		for _, tok := range toks {
			re += "/" + escapeToken(tok)
		}
		if re != s {
			t.Fatalf("%q parsed to %q, re-escaped to %q", s, toks, re)
		}
	})
}

func escapeToken(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '~':
			out = append(out, '~', '0')
		case '/':
			out = append(out, '~', '1')
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// TestHugeExponents: a number beyond the exponent bound is equal to
// itself (the fuzzer found 0E2000000 unequal to itself, which made a
// "test" of a value against its own copy fail); zero is zero whatever its
// exponent.
func TestHugeExponents(t *testing.T) {
	for _, tc := range []struct {
		doc, patch string
		ok         bool
	}{
		{`{"a":0E2000000}`, `[{"op":"test","path":"/a","value":0}]`, true},
		{`{"a":-0e-9999999}`, `[{"op":"test","path":"/a","value":0.0}]`, true},
		{`{"a":1E3000000}`, `[{"op":"test","path":"/a","value":1E3000000}]`, true},
		{`{"a":1E3000000}`, `[{"op":"test","path":"/a","value":1e3000000}]`, true},
		{`{"a":1E3000000}`, `[{"op":"test","path":"/a","value":2E3000000}]`, false},
		{`{"a":1E3000000}`, `[{"op":"test","path":"/a","value":1}]`, false},
	} {
		doc, err := Parse([]byte(tc.doc))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse([]byte(tc.patch))
		if err != nil {
			t.Fatal(err)
		}
		ops, err := ParsePatch(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Apply(doc, ops); (err == nil) != tc.ok {
			t.Errorf("%s on %s: %v, want ok=%v", tc.patch, tc.doc, err, tc.ok)
		}
	}
}
