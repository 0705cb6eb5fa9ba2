package rest

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"usersvc"
)

// benchUser is a user as a GET reads it, and the head of its answer.
func benchUser() (*usersvc.User, head) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &usersvc.User{ID: "usr-abcdefghijklmnop", Name: "Alice", Email: "alice@example.com", Country: "ES",
		TimeZone: "Europe/Madrid", Tags: map[string]string{"team": "blue"}, Privileges: []string{"p"},
		Role: usersvc.RoleUser, Creation: now, Modification: now, Version: 3}
	total, daily := int64(1234), int64(56)
	return u, head{Success: true, APIUsage: &total, APIDailyUsage: &daily}
}

// BenchmarkEnvelope encodes the REST answer for one user with
// encoding/json (what writeEnvelope is measured against).
func BenchmarkEnvelope(b *testing.B) {
	u, h := benchUser()
	b.ReportAllocs()
	for b.Loop() {
		enc := json.NewEncoder(io.Discard)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&envelope{head: h, Document: u.Document()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEnvelope is what writeEnvelope does for the same answer
// (the document rendered once).
func BenchmarkAppendEnvelope(b *testing.B) {
	u, h := benchUser()
	e := &envelope{head: h, Document: u.Document()}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendEnvelope(buf[:0], e)
	}
}
