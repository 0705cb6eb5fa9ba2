package jsonpatch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
// in testdata/rfc6902 (json-patch-tests upstream, and this project's extra
// cases).
func TestPatchConformance(t *testing.T) {
	files := []string{"tests.json", "spec_tests.json", "extra_tests.json"}
	ran := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata", "rfc6902", f))
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
					got, err = Apply(doc, ops)
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
	many := make([]any, 101) // one over the limit of 100
	for i := range many {
		many[i] = map[string]any{"op": "test", "path": "", "value": map[string]any{}}
	}
	if _, err := ParsePatch(many); kindOf(err) != Invalid {
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
	if _, err := Apply(doc, ops); kindOf(err) != Invalid {
		t.Fatalf("copy chain: got %v, want invalid", err)
	}
}

func TestPatchErrors(t *testing.T) {
	doc := map[string]any{"a": "x", "l": []any{json.Number("1")}}
	for _, tc := range []struct {
		name  string
		patch string
		kind  Kind
		op    int    // -1: not about one operation
		text  string // the whole English text
	}{
		{"failed test", `[{"op":"test","path":"/a","value":"x"},{"op":"test","path":"/a","value":"y"}]`, TestFailed, 1,
			`Patch test failed (operation 1: value at "/a" is not equal to the test value)`},
		{"missing path", `[{"op":"remove","path":"/nope"}]`, Invalid, 0,
			`Invalid patch operation (operation 0: path "/nope" does not exist)`},
		{"bad pointer", `[{"op":"add","path":"a","value":1}]`, Invalid, 0,
			`Invalid patch operation (operation 0: path: JSON Pointer "a" must start with "/")`},
		{"bad from", `[{"op":"move","from":"/~2","path":"/b"}]`, Invalid, 0,
			`Invalid patch operation (operation 0: from: JSON Pointer "/~2" has a bad escape)`},
		{"unknown op", `[{"op":"Add","path":"/a","value":1}]`, Invalid, 0,
			`Invalid patch operation (operation 0: unknown op "Add")`},
		{"missing value", `[{"op":"add","path":"/b"}]`, Invalid, 0,
			`Invalid patch operation (operation 0: missing "value")`},
		{"operation not an object", `[{"op":"test","path":"/a","value":"x"},1]`, Invalid, 1,
			`Invalid patch operation (operation 1: an operation must be an object)`},
		{"index past the end", `[{"op":"add","path":"/l/2","value":1}]`, Invalid, 0,
			`Invalid patch operation (operation 0: array index 2 is out of bounds)`},
		{"move into own child", `[{"op":"move","from":"/l","path":"/l/0"}]`, Invalid, 0,
			`Invalid patch operation (operation 0: cannot move "/l" into its own child "/l/0")`},
		{"not an array", `{"op":"add","path":"/a","value":1}`, Invalid, -1,
			`A JSON Patch must be an array of operations.`},
		{"too many operations", "[" + strings.TrimSuffix(strings.Repeat(`{"op":"test","path":"","value":{}},`, 101), ",") + "]", Invalid, -1,
			`A patch may hold at most 100 operations.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse([]byte(tc.patch))
			if err != nil {
				t.Fatal(err)
			}
			ops, err := ParsePatch(v)
			if err == nil {
				_, err = Apply(doc, ops)
			}
			e, ok := err.(*Error)
			if !ok || e.Kind != tc.kind || e.Op != tc.op || e.Field != "" || e.Error() != tc.text {
				t.Fatalf("got %#v, want kind %d op %d %q", err, tc.kind, tc.op, tc.text)
			}
		})
	}
}

// kindOf is the Kind of err, 0 when err is not an *Error.
func kindOf(err error) Kind {
	if e, ok := err.(*Error); ok {
		return e.Kind
	}
	return 0
}

// TestVectorsMatchShared: the vectors committed here are the shared
// conformance set's (../shared/conformance/jsonpatch beside the checkout:
// upstream/ and extra_tests.json), byte for byte, so the suite above runs
// exactly them. Skipped when the shared directory is not there.
func TestVectorsMatchShared(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "conformance", "jsonpatch")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("no shared conformance set at %s", shared)
	}
	for mine, theirs := range map[string]string{
		"tests.json":       filepath.Join("upstream", "tests.json"),
		"spec_tests.json":  filepath.Join("upstream", "spec_tests.json"),
		"extra_tests.json": "extra_tests.json",
	} {
		a, err := os.ReadFile(filepath.Join("testdata", "rfc6902", mine))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(shared, theirs))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("testdata/rfc6902/%s differs from the shared %s", mine, theirs)
		}
	}
}
