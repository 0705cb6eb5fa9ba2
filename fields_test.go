package usersvc

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"usersvc/jsonpatch"
)

// TestFieldTableEverywhere: the document, the GraphQL User type and its
// inputs, and the OpenAPI schemas list exactly the field table's fields,
// and the OpenAPI limits are the table's. What differs between them on
// purpose is written out here.
func TestFieldTableEverywhere(t *testing.T) {
	var names, writable []string
	for _, f := range fields {
		names = append(names, f.Name)
		if f.Writable() {
			writable = append(writable, f.Name)
		}
	}
	without := func(list []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
	}
	sorted := func(list []string) []string { l := slices.Clone(list); sort.Strings(l); return l }

	t.Run("document", func(t *testing.T) {
		now := time.Now()
		b, err := json.Marshal((&User{Creation: now, Modification: now}).Document())
		if err != nil {
			t.Fatal(err)
		}
		if got := objectKeys(t, b); !slices.Equal(got, names) {
			t.Errorf("document keys, in order:\n got %v\nwant %v", got, names)
		}
	})

	t.Run("graphql", func(t *testing.T) {
		src, err := os.ReadFile("schema.graphql")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			typ  string
			want []string
		}{
			// password is write-only; version, history and groups are not document fields.
			{"User", append(without(names, "password"), "version", "history", "groups")},
			// id may be sent (it must name the target); no other read-only field.
			{"UpdateUserInput", append(writable, "id")},
			// a new user has no deletedAt.
			{"CreateUserInput", without(writable, "deletedAt")},
		} {
			def := doc.Definitions.ForName(tc.typ)
			if def == nil {
				t.Fatalf("schema.graphql has no %s", tc.typ)
			}
			var got []string
			for _, f := range def.Fields {
				got = append(got, f.Name)
			}
			if !slices.Equal(sorted(got), sorted(tc.want)) {
				t.Errorf("%s fields:\n got %v\nwant %v", tc.typ, sorted(got), sorted(tc.want))
			}
		}
	})

	t.Run("openapi", func(t *testing.T) {
		raw, err := os.ReadFile("api/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Components struct {
				Schemas map[string]struct {
					Properties json.RawMessage `json:"properties"`
				} `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatal(err)
		}
		props := func(schema string) (order []string, m map[string]map[string]any) {
			p := spec.Components.Schemas[schema].Properties
			if p == nil {
				t.Fatalf("openapi.json has no %s properties", schema)
			}
			if err := json.Unmarshal(p, &m); err != nil {
				t.Fatal(err)
			}
			return objectKeys(t, p), m
		}
		userOrder, _ := props("User")
		if !slices.Equal(userOrder, names) {
			t.Errorf("User properties, in order:\n got %v\nwant %v", userOrder, names)
		}
		// Clients may send back a whole answer: the envelope's fields too.
		inputOrder, input := props("UserInput")
		if want := append(slices.Clone(names), "success", "apiUsage", "apiDailyUsage"); !slices.Equal(sorted(inputOrder), sorted(want)) {
			t.Errorf("UserInput properties:\n got %v\nwant %v", sorted(inputOrder), sorted(want))
		}
		for _, f := range fields {
			p := input[f.Name]
			for _, lim := range []struct {
				key   string
				table int64
			}{
				{"maxLength", int64(f.MaxLength)},
				{"maxItems", int64(f.MaxItems)},
				{"maximum", f.Max},
			} {
				key := lim.key
				if key == "maxItems" && f.Name == "tags" {
					key = "maxProperties"
				}
				got, has := p[key].(float64)
				switch {
				case lim.table == 0 && has:
					t.Errorf("UserInput.%s has %s %v; the field table has none", f.Name, key, got)
				case lim.table != 0 && int64(got) != lim.table:
					t.Errorf("UserInput.%s %s = %v, the field table says %d", f.Name, key, p[key], lim.table)
				}
			}
		}
	})
}

// TestFieldTableLimits pins the table's limits to the README's numbers.
func TestFieldTableLimits(t *testing.T) {
	want := map[string][3]int64{ // maxLength, maxItems, max
		"name": {200, 0, 0}, "email": {254, 0, 0}, "userName": {254, 0, 0}, "country": {100, 0, 0}, "timeZone": {64, 0, 0},
		"description": {2000, 0, 0}, "message": {2000, 0, 0}, "disabledMessage": {500, 0, 0},
		"group": {200, 0, 0}, "deviceId": {200, 0, 0}, "tags": {0, 100, 0}, "privileges": {0, 100, 0},
		"adminDevices": {0, 0, 1_000_000}, "dailyQuota": {0, 0, 1_000_000_000},
	}
	for _, f := range fields {
		got := [3]int64{int64(f.MaxLength), int64(f.MaxItems), f.Max}
		if got != want[f.Name] {
			t.Errorf("%s: limits %v, want %v", f.Name, got, want[f.Name])
		}
	}
}

// objectKeys lists a JSON object's keys in the order written.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestAuthorizeBeforeValidate: a replace is authorized before its values
// are validated, so a caller who may not write a field hears 403 about it
// whatever they sent; what they may write is then validated (400).
func TestAuthorizeBeforeValidate(t *testing.T) {
	self := validUser()
	admin := &User{ID: "usr-admin", Role: RoleAdmin}
	long := `"` + strings.Repeat("x", 3000) + `"`
	base := `"name":"A","email":"a@example.com","country":"ES","timeZone":"UTC"`
	for _, tc := range []struct {
		name  string
		actor *User
		body  string
		code  string
		field string
	}{
		{"user, admin field of the wrong type", self, `{` + base + `,"message":5}`, EForbidden, "message"},
		{"user, admin field too long", self, `{` + base + `,"message":` + long + `}`, EForbidden, "message"},
		{"user, admin field out of range", self, `{` + base + `,"adminDevices":-1}`, EForbidden, "adminDevices"},
		{"user, bad role", self, `{` + base + `,"role":"root"}`, EForbidden, "role"},
		{"user, own field of the wrong type", self, `{` + base + `,"description":5}`, EInvalid, "description"},
		{"user, own field too long, admin field too", self, `{` + base + `,"description":` + long + `,"message":` + long + `}`, EForbidden, "message"},
		{"user, missing name and an admin field", self, `{"email":"a@example.com","country":"ES","timeZone":"UTC","tags":{"a":"b"}}`, EForbidden, "tags"},
		{"admin, admin field too long", admin, `{` + base + `,"message":` + long + `}`, EInvalid, "message"},
		{"admin, bad role", admin, `{` + base + `,"role":"root"}`, EInvalid, "role"},
		{"admin, deletedAt set", admin, `{` + base + `,"deletedAt":"2026-01-01T00:00:00Z"}`, EInvalid, "deletedAt"},
		{"user, deletedAt set", self, `{` + base + `,"deletedAt":"2026-01-01T00:00:00Z"}`, EForbidden, "deletedAt"},
		{"user, unknown field", self, `{` + base + `,"colour":"red","message":5}`, EInvalid, "colour"},
		{"user, valid", self, `{` + base + `}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := jsonpatch.Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			before := validUser()
			_, err = (&Service{}).fromDocument(func(*User) (any, error) { return body, nil })(tc.actor, before)
			if ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("err %v (code %q), want code %q", err, ErrorCode(err), tc.code)
			}
			if e, ok := err.(*Error); ok && e.Field != tc.field {
				t.Fatalf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
}
