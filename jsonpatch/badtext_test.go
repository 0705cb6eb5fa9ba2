package jsonpatch

import (
	"reflect"
	"testing"
)

func TestBadText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		path []string // nil: nothing bad
	}{
		{`{"a":"x","b":{"c":"ñ"}}`, nil},
		{`{"a":"\ud83d\ude00","b":"\\ud800"}`, nil},
		{`{"a":"x","b":{"c":"` + "\xff" + `"}}`, []string{"b", "c"}},
		{`{"a":["x","` + "\xc0\xae" + `"]}`, []string{"a"}},
		{`[{"op":"add","value":"\udc00"}]`, []string{"value"}},
		{`{"a":{"b":1},"c":"\ud800x"}`, []string{"c"}},
		{`{"a":{"b":1},"c":"\ud800\u0041"}`, []string{"c"}},
		{`{"` + "k\xff" + `":1}`, []string{"k\uFFFD"}}, // as decoded
		{`["` + "\xff" + `"]`, []string{""}},
		{`{"a":"` + "\xff", nil}, // not JSON: the decoder's to report
	} {
		path, bad := BadText([]byte(tc.in))
		if bad != (tc.path != nil) || !reflect.DeepEqual(path, tc.path) {
			t.Errorf("%q: %q %v, want %q", tc.in, path, bad, tc.path)
		}
	}
}
