package usersvc

import (
	"testing"
)

// FuzzApplyPatch: any patch on a user document either fails cleanly or
// yields a JSON value; the input document is never modified; nothing panics.
func FuzzApplyPatch(f *testing.F) {
	f.Add(`{"name":"A","tags":{"a":"b"},"privileges":["x"]}`, `[{"op":"add","path":"/tags/c","value":"d"}]`)
	f.Add(`{"a":[1,2,3]}`, `[{"op":"move","from":"/a/0","path":"/a/-"},{"op":"test","path":"/a/2","value":1.0}]`)
	f.Add(`{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/a/c"},{"op":"remove","path":"/a/b"}]`)
	f.Add(`[]`, `[{"op":"replace","path":"","value":{"x":1}}]`)
	f.Fuzz(func(t *testing.T, docText, patchText string) {
		doc, err := ParseJSON([]byte(docText))
		if err != nil {
			return
		}
		before, _ := ParseJSON([]byte(docText))
		p, err := ParseJSON([]byte(patchText))
		if err != nil {
			return
		}
		ops, err := ParsePatch(p)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("parse error with code %s", ErrorCode(err))
			}
			return
		}
		out, err := ApplyPatch(doc, ops)
		if !jsonEqual(doc, before) {
			t.Fatal("ApplyPatch modified its input")
		}
		if err != nil {
			if c := ErrorCode(err); c != EInvalid && c != EConflict {
				t.Fatalf("apply error with code %s", c)
			}
			return
		}
		if countNodes(out) > MaxDocumentNodes+countNodes(doc)+countNodes(p) {
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

// FuzzDecodeInput: any body decodes to a draft or a clear invalid error,
// and authorizing and validating what it decoded never panics.
func FuzzDecodeInput(f *testing.F) {
	f.Add(`{"name":"A","email":"a@example.com","country":"ES","timeZone":"UTC","tags":{"a":"b"},"adminDevices":3}`)
	f.Add(`{"name":"A","name":"B"}`)
	f.Add(`{"Email":1,"from":"2026-01-01T00:00:00Z","dailyQuota":1e400}`)
	f.Fuzz(func(t *testing.T, body string) {
		v, err := ParseJSON([]byte(body))
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("ParseJSON error code %s", ErrorCode(err))
			}
			return
		}
		for _, admin := range []bool{true, false} {
			before := &User{ID: "usr-a", Role: RoleUser}
			d, err := decodeBody(v, before, admin)
			if err != nil {
				if ErrorCode(err) != EInvalid {
					t.Fatalf("decodeBody error code %s", ErrorCode(err))
				}
				return
			}
			if err := authorizeFields(&User{ID: "usr-a", Role: map[bool]Role{true: RoleAdmin, false: RoleUser}[admin]}, before, d); err != nil {
				if c := ErrorCode(err); c != EForbidden && c != EInvalid {
					t.Fatalf("authorizeFields error code %s", c)
				}
			}
			if d.err != nil && ErrorCode(d.err) != EInvalid {
				t.Fatalf("decode error code %s", ErrorCode(d.err))
			}
			_ = Validate(d.u) // must not panic
		}
	})
}
