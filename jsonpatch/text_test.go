package jsonpatch

import (
	"reflect"
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	deep := func(n int, s string) string { return strings.Repeat("[", n) + s }
	for _, tc := range []struct {
		in   string
		path []string // nil: nothing bad
	}{
		{`{"a":"x","b":{"c":"ñ"}}`, nil},
		{`{"a":"\ud83d\ude00","b":"\\ud800","c":"\ufffd` + "\uFFFD" + `"}`, nil},
		{`{"a":"x","b":{"c":"` + "\xff" + `"}}`, []string{"b", "c"}},
		{`{"a":["x","` + "\xc0\xae" + `"]}`, []string{"a"}},
		{`[{"op":"add","value":"\udc00"}]`, []string{"value"}},
		{`{"a":{"b":1},"c":"\ud800x"}`, []string{"c"}},
		{`{"a":{"b":1},"c":"\ud800\u0041"}`, []string{"c"}},
		{`{"a":"\ud800\ud800\udc00"}`, []string{"a"}},
		{`{"` + "k\xff" + `":1}`, []string{"k\uFFFD"}}, // as decoded
		{`{"a":{"` + "\xed\xa0\x80" + `":1}}`, []string{"a", "\uFFFD\uFFFD\uFFFD"}},
		{`{"a":{"\udc00b":1}}`, []string{"a", "\uFFFDb"}},
		{`["` + "\xff" + `"]`, []string{""}},
		{`"\ud800"`, []string{""}},
		{`{"a":1,"a":"` + "\xff" + `"}`, []string{"a"}},    // duplicates are not its concern
		{`{"a":"` + "\xff", nil},                           // not JSON: the decoder's to report
		{`{"a":"` + "\xff\x01" + `"}`, nil},                // nor is a string that does not read
		{`{"a":"\ud800\u12G4"}`, nil},                      // (a bad escape after a lone half)
		{`{"a":1 "b":"` + "\xff" + `"}`, nil},              // bad text after a syntax error
		{`{"a":1} {"b":"` + "\xff" + `"}`, nil},            // only the first value is read
		{deep(maxTextDepth, `"`+"\xff"+`"`), []string{""}}, // as deep as encoding/json reads
		{deep(maxTextDepth+1, `"`+"\xff"+`"`), nil},        // deeper: encoding/json refuses it
		{deep(maxTextDepth, `{"`+"\xff"+`":1`), []string{"\uFFFD"}},
	} {
		path, bad := CheckText([]byte(tc.in))
		if bad != (tc.path != nil) || !reflect.DeepEqual(path, tc.path) {
			t.Errorf("%.60q: %q %v, want %q", tc.in, path, bad, tc.path)
		}
	}
}

// TestParseTextFirst: bad text is named even when a duplicate or a bound
// comes first in the body, as long as the body reads up to it.
func TestParseTextFirst(t *testing.T) {
	for _, tc := range []struct{ body, msg string }{
		{`{"a":1,"a":2,"b":{"c":"\udc00"}}`, `Field "b" must be valid text.`},
		{`{"x":` + strings.Repeat("[", maxDepth+1) + `"` + "\xff" + `"`, `Field "x" must be valid text.`},
		{"[" + strings.Repeat("0,", MaxMembers) + `"` + "\xff" + `"]`, `Field "" must be valid text.`},
		{`{"a":1,"a":2,"b":"\ud800`, `Duplicate key "a" in JSON body.`},
		{`{"a":1,"a":2} "` + "\xff" + `"`, `Duplicate key "a" in JSON body.`},
		{`{"a":"` + "\xff" + `" x}`, `Field "a" must be valid text.`},
		{`{"a":"\ud800" "b"}`, `Field "a" must be valid text.`},
	} {
		_, err := Parse([]byte(tc.body))
		if e, ok := err.(*Error); !ok || e.Kind != Invalid || e.Error() != tc.msg {
			t.Errorf("%.60q: %v, want %q", tc.body, err, tc.msg)
		}
	}
}

// TestParseDecodesEscapes: strings come out as encoding/json decodes them.
func TestParseDecodesEscapes(t *testing.T) {
	v, err := Parse([]byte(`{"a":"\u00e9\u20AC\ud83d\ude00","b":"x\"\\\/\b\f\n\r\ty","c":"é` + "\u2028" + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "é€😀", "b": "x\"\\/\b\f\n\r\ty", "c": "é\u2028"}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("%#v, want %#v", v, want)
	}
}
