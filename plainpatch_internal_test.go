package usersvc

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"usersvc/jsonpatch"
)

// generalPatch is the draft the general path builds: the whole document
// rendered, the patch applied by the RFC 6902 engine, the result decoded.
func generalPatch(t *testing.T, ops []jsonpatch.Operation, before *User) (*draft, error) {
	t.Helper()
	doc, err := before.documentMap()
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonpatch.Apply(doc, ops)
	if err != nil {
		return nil, err
	}
	return decodeBody(out, before, true)
}

func samePatchOutcome(t *testing.T, name string, ops []jsonpatch.Operation, before *User) {
	t.Helper()
	fast := plainPatch(ops, before)
	if fast == nil {
		t.Fatalf("%s: the shortcut refused a plain patch", name)
	}
	slow, err := generalPatch(t, ops, before)
	if err != nil {
		t.Fatalf("%s: the general path failed: %v", name, err)
	}
	if !reflect.DeepEqual(fast.u, slow.u) {
		t.Errorf("%s: users differ:\nshortcut %+v\ngeneral  %+v", name, fast.u, slow.u)
	}
	if !reflect.DeepEqual(fast.password, slow.password) {
		t.Errorf("%s: passwords differ: %v / %v", name, fast.password, slow.password)
	}
	if !reflect.DeepEqual(fast.err, slow.err) {
		t.Errorf("%s: first errors differ: %#v / %#v", name, fast.err, slow.err)
	}
	if len(fast.errs) != len(slow.errs) {
		t.Errorf("%s: failed fields differ: %v / %v", name, fast.errs, slow.errs)
	}
	if slow.id == nil || *slow.id != before.ID || fast.id != nil {
		t.Errorf("%s: ids: shortcut %v, general %v", name, fast.id, slow.id)
	}
}

// patchUsers are stored users to patch: every optional field set, and none.
func patchUsers() []*User {
	at := time.Date(2026, 5, 6, 7, 8, 9, 123000, time.UTC)
	s := func(v string) *string { return &v }
	q := int64(500)
	full := &User{ID: "usr-full", Name: "Full", Email: "full@example.com", Country: "ES", TimeZone: "Europe/Madrid",
		Description: s("d"), Message: s("m"), Disabled: true, DisabledMessage: s("dm"), Tags: map[string]string{"a": "b"},
		Privileges: []string{"p"}, Group: s("g"), DeviceID: s("dev"), AdminDevices: 3, From: &at, Expires: &at,
		Creation: at, Modification: at, LastLogin: &at, Role: RoleAdmin, DeletedAt: &at, Version: 4,
		PasswordHash: "$2a$04$abcdefghijklmnopqrstuv", DailyQuota: &q, UserName: s("full"),
		SCIM: map[string]any{"title": "t", "emails": []any{map[string]any{"value": "e", "primary": true}}}}
	bare := &User{ID: "usr-bare", Name: "Bare", Email: "bare@example.com", Country: "US", TimeZone: "UTC",
		Tags: map[string]string{}, Privileges: []string{}, Creation: at, Modification: at, Role: RoleUser, Version: 1}
	return []*User{full, bare}
}

// TestPlainPatchSameAsGeneral: for every patch the shortcut takes, its draft
// (user, password, errors) is the general path's, on users with every
// optional field set and with none: a table of each plain field with good,
// null and wrong values, then random sequences of such operations.
func TestPlainPatchSameAsGeneral(t *testing.T) {
	values := map[string][]any{
		"name":            {"New", nil, 5, "", true},
		"email":           {"x@example.com", nil, "not an email", 1.5, ""},
		"userName":        {"Someone", nil, "", " ", 4, "a\u200bb"},
		"country":         {"FR", nil, false},
		"timeZone":        {"America/Bogota", "Mars/Base", nil},
		"description":     {"text", nil, 3, ""},
		"message":         {"hi", nil},
		"disabled":        {true, false, nil, "yes"},
		"disabledMessage": {"gone", nil},
		"group":           {"g2", nil},
		"deviceId":        {"d2", nil, 7},
		"adminDevices":    {jsonNumber("5"), jsonNumber("-1"), nil, "5", jsonNumber("2.5"), jsonNumber("99999999999")},
		"from":            {"2026-01-02T03:04:05Z", "2026-01-02", nil, 12},
		"expires":         {"2030-01-02T03:04:05.123456789Z", nil},
		"password":        {"a good password", "short", nil, 8},
		"role":            {"admin", "user", "root", nil},
		"dailyQuota":      {jsonNumber("10"), nil, jsonNumber("0"), "ten"},
		"deletedAt":       {nil, "2026-01-01T00:00:00Z", "never"},
	}
	var names []string
	for _, f := range fields {
		if f.Access != ReadOnly && f.scalar() {
			names = append(names, f.Name)
			if values[f.Name] == nil {
				t.Errorf("no test values for the plain field %s", f.Name)
			}
		}
	}
	for _, before := range patchUsers() {
		for name, vs := range values {
			for _, v := range vs {
				for _, op := range []string{"add", "replace"} {
					ops := []jsonpatch.Operation{{Op: op, Path: "/" + name, Value: v, HasValue: true}}
					samePatchOutcome(t, fmt.Sprintf("%s: %s %s %v", before.ID, op, name, v), ops, before)
				}
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 2000 {
			n := 1 + rng.IntN(5)
			ops := make([]jsonpatch.Operation, n)
			for j := range ops {
				name := names[rng.IntN(len(names))]
				vs := values[name]
				ops[j] = jsonpatch.Operation{Op: []string{"add", "replace"}[rng.IntN(2)], Path: "/" + name, Value: vs[rng.IntN(len(vs))], HasValue: true}
			}
			samePatchOutcome(t, fmt.Sprintf("%s: random %d %+v", before.ID, i, ops), ops, before)
		}
	}
}

func jsonNumber(s string) any {
	v, err := jsonpatch.Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return v
}

// TestPlainPatchRefuses: everything but top-level adds and replaces of
// plain, writable fields takes the general path.
func TestPlainPatchRefuses(t *testing.T) {
	before := patchUsers()[0]
	for _, op := range []jsonpatch.Operation{
		{Op: "test", Path: "/name", Value: "Full", HasValue: true},
		{Op: "remove", Path: "/description"},
		{Op: "move", Path: "/description", From: "/message", HasFrom: true},
		{Op: "copy", Path: "/description", From: "/message", HasFrom: true},
		{Op: "replace", Path: "/tags", Value: map[string]any{}, HasValue: true},
		{Op: "add", Path: "/tags/x", Value: "y", HasValue: true},
		{Op: "add", Path: "/privileges/-", Value: "y", HasValue: true},
		{Op: "replace", Path: "/id", Value: "usr-other", HasValue: true},
		{Op: "replace", Path: "/creation", Value: "2026-01-01T00:00:00Z", HasValue: true},
		{Op: "add", Path: "/unknown", Value: 1, HasValue: true},
		{Op: "replace", Path: "", Value: map[string]any{}, HasValue: true},
		{Op: "replace", Path: "/name~1x", Value: "a", HasValue: true},
	} {
		ops := []jsonpatch.Operation{{Op: "replace", Path: "/name", Value: "A", HasValue: true}, op}
		if d := plainPatch(ops, before); d != nil {
			t.Errorf("%+v: the shortcut took it", op)
		}
	}
}
