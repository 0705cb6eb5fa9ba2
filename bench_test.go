package usersvc

import (
	"testing"
	"time"

	"usersvc/jsonpatch"
)

func benchUser() *User {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := "Fleet manager"
	return &User{ID: "usr-abcdefghijklmnop", Name: "Alice", Email: "alice@example.com", Country: "ES",
		TimeZone: "Europe/Madrid", Description: &d, Tags: map[string]string{"team": "blue", "site": "mad"},
		Privileges: []string{"tracks.read", "devices.write"}, Role: RoleUser, Creation: now, Modification: now, Version: 3}
}

// BenchmarkPatchReplace is the work PATCH does in the domain for one
// replace: render the document, apply the patch, decode and validate.
func BenchmarkPatchReplace(b *testing.B) {
	u := benchUser()
	p, err := jsonpatch.Parse([]byte(`[{"op":"replace","path":"/description","value":"On call"}]`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ops, err := jsonpatch.ParsePatch(p)
		if err != nil {
			b.Fatal(err)
		}
		doc, err := u.documentMap()
		if err != nil {
			b.Fatal(err)
		}
		out, err := jsonpatch.Apply(doc, ops)
		if err != nil {
			b.Fatal(err)
		}
		d, err := decodeBody(out, u, false)
		if err != nil || d.err != nil {
			b.Fatal(err, d.err)
		}
		if err := authorizeFields(u, u, d); err != nil {
			b.Fatal(err)
		}
		after := d.u
		if err := Validate(after); err != nil {
			b.Fatal(err)
		}
		if len(ChangedFields(u, after)) != 1 {
			b.Fatal("expected one change")
		}
	}
}

// BenchmarkApplyPatch10 applies a ten-operation patch to a rendered document.
func BenchmarkApplyPatch10(b *testing.B) {
	doc, _ := benchUser().documentMap()
	p, _ := jsonpatch.Parse([]byte(`[{"op":"add","path":"/tags/a","value":"1"},{"op":"add","path":"/tags/b","value":"2"},
	{"op":"copy","from":"/tags","path":"/x"},{"op":"move","from":"/x","path":"/y"},{"op":"remove","path":"/y"},
	{"op":"test","path":"/tags/a","value":"1"},{"op":"replace","path":"/name","value":"B"},{"op":"add","path":"/privileges/-","value":"p"},
	{"op":"remove","path":"/privileges/0"},{"op":"test","path":"/adminDevices","value":0.0}]`))
	ops, err := jsonpatch.ParsePatch(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsonpatch.Apply(doc, ops); err != nil {
			b.Fatal(err)
		}
	}
}
