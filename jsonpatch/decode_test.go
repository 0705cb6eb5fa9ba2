package jsonpatch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParseStrict(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		body  string
		ok    bool
		field string
		msg   string // the whole English text of the error
	}{
		{`{"a":1}`, true, "", ""},
		{`{"a":1,"a":2}`, false, "a", `Duplicate key "a" in JSON body.`},
		{`{"x":{"b":1,"b":1}}`, false, "b", `Duplicate key "b" in JSON body.`},
		{`{"a":1} {"b":2}`, false, "", "Malformed JSON body."},
		{`{"a":`, false, "", "Malformed JSON body."},
		{``, false, "", "Malformed JSON body."},
		{nested(65), true, "", ""},
		{nested(66), false, "", "JSON body is nested too deeply."},
		{nested(100), false, "", "JSON body is nested too deeply."},
		{`{"a":{"b":"` + "\xff" + `"}}`, false, "a", `Field "a" must be valid text.`},
		{`{"a":"\ud800"}`, false, "a", `Field "a" must be valid text.`},
		{`[1, 12345678901234567890123]`, true, "", ""},
		{members(MaxMembers), true, "", ""},
		{members(MaxMembers + 1), false, "", "A JSON object in the body has more than 10000 members."},
		{`{"a":` + members(MaxMembers+1) + `}`, false, "", "A JSON object in the body has more than 10000 members."},
		{"[" + strings.Repeat("0,", MaxMembers-1) + "0]", true, "", ""},
		{"[" + strings.Repeat("0,", MaxMembers) + "0]", false, "", "A JSON array in the body has more than 10000 elements."},
	} {
		_, err := Parse([]byte(tc.body))
		if tc.ok {
			if err != nil {
				t.Errorf("%.40s: unexpected %v", tc.body, err)
			}
			continue
		}
		e, isErr := err.(*Error)
		if !isErr || e.Kind != Invalid || e.Field != tc.field || e.Op != -1 || e.Error() != tc.msg {
			t.Errorf("%.40s: got %#v, want invalid on %q: %q", tc.body, err, tc.field, tc.msg)
		}
	}
}

// members is a JSON object of n unique keys.
func members(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":0`, i)
	}
	return b.String() + "}"
}

// Parse keeps numbers exact, as written.
func TestParseNumbersExact(t *testing.T) {
	v, err := Parse([]byte(`{"n":12345678901234567890123,"f":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if got := m["n"]; got != any(json.Number("12345678901234567890123")) {
		t.Fatalf("n = %#v", got)
	}
	if got := m["f"]; got != any(json.Number("1.50")) {
		t.Fatalf("f = %#v", got)
	}
}
