package usersvc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type conformanceCase struct {
	Comment  string          `json:"comment"`
	Doc      json.RawMessage `json:"doc"`
	Patch    json.RawMessage `json:"patch"`
	Expected json.RawMessage `json:"expected"`
	Error    *string         `json:"error"`
	Disabled bool            `json:"disabled"`
}

func decodeGeneric(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad test JSON %s: %v", raw, err)
	}
	return v
}

// TestPatchConformance runs every runnable case of the RFC 6902 test vectors
// (json-patch-tests upstream, and this project's extra cases).
func TestPatchConformance(t *testing.T) {
	files := []string{"tests.json", "spec_tests.json", "extra_tests.json"}
	ran := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata", "jsonpatch", f))
		if err != nil {
			t.Fatal(err)
		}
		var cases []conformanceCase
		if err := json.Unmarshal(b, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, c := range cases {
			if c.Disabled || (c.Doc == nil && c.Patch == nil) {
				continue
			}
			ran++
			name := f + "/" + c.Comment
			t.Run(name, func(t *testing.T) {
				doc := decodeGeneric(t, c.Doc)
				before := decodeGeneric(t, c.Doc)
				patch := decodeGeneric(t, c.Patch)
				var got any
				ops, err := ParsePatch(patch)
				if err == nil {
					got, err = ApplyPatch(doc, ops)
				}
				if !jsonEqual(doc, before) {
					t.Fatalf("case %d: the input document was modified", i)
				}
				if c.Error != nil {
					if err == nil {
						t.Fatalf("case %d: want error (%s), got %v", i, *c.Error, got)
					}
					return
				}
				if err != nil {
					t.Fatalf("case %d: unexpected error: %v", i, err)
				}
				if c.Expected != nil {
					want := decodeGeneric(t, c.Expected)
					if !jsonEqual(got, want) {
						t.Fatalf("case %d: got %v, want %v", i, got, want)
					}
				}
			})
		}
	}
	if ran < 130 {
		t.Fatalf("ran only %d conformance cases; the vector files are incomplete", ran)
	}
}

func TestPatchLimits(t *testing.T) {
	many := make([]any, MaxPatchOps+1)
	for i := range many {
		many[i] = map[string]any{"op": "test", "path": "", "value": map[string]any{}}
	}
	if _, err := ParsePatch(many); ErrorCode(err) != EInvalid {
		t.Fatalf("%d ops: got %v, want invalid", len(many), err)
	}
	// A copy chain doubling the document must stop at the bound.
	doc := map[string]any{"a": []any{json.Number("1"), json.Number("2"), json.Number("3"), json.Number("4")}}
	var chain []any
	chain = append(chain, map[string]any{"op": "copy", "from": "/a", "path": "/b"})
	for i := 0; i < 15; i++ {
		chain = append(chain, map[string]any{"op": "copy", "from": "/a", "path": "/a/-"})
		chain = append(chain, map[string]any{"op": "copy", "from": "/a", "path": "/a/0"})
	}
	ops, err := ParsePatch(chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyPatch(doc, ops); ErrorCode(err) != EInvalid {
		t.Fatalf("copy chain: got %v, want invalid", err)
	}
}

func TestPatchErrorCodes(t *testing.T) {
	doc := map[string]any{"a": "x"}
	for _, tc := range []struct {
		name  string
		patch string
		code  string
	}{
		{"failed test is a conflict", `[{"op":"test","path":"/a","value":"y"}]`, EConflict},
		{"missing path is invalid", `[{"op":"remove","path":"/nope"}]`, EInvalid},
		{"bad pointer is invalid", `[{"op":"add","path":"a","value":1}]`, EInvalid},
		{"unknown op", `[{"op":"Add","path":"/a","value":1}]`, EInvalid},
		{"not an array", `{"op":"add","path":"/a","value":1}`, EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseJSON([]byte(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			ops, err := ParsePatch(v)
			if err == nil {
				_, err = ApplyPatch(doc, ops)
			}
			if ErrorCode(err) != tc.code {
				t.Fatalf("got %v (%s), want %s", err, ErrorCode(err), tc.code)
			}
		})
	}
}
