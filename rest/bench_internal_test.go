package rest

import (
	"encoding/json"
	"io"
	"testing"
	"time"

	"usersvc"
)

// BenchmarkEnvelope encodes the REST answer for one user.
func BenchmarkEnvelope(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u := &usersvc.User{ID: "usr-abcdefghijklmnop", Name: "Alice", Email: "alice@example.com", Country: "ES",
		TimeZone: "Europe/Madrid", Tags: map[string]string{"team": "blue"}, Privileges: []string{"p"},
		Role: usersvc.RoleUser, Creation: now, Modification: now, Version: 3}
	total, daily := int64(1234), int64(56)
	b.ReportAllocs()
	for b.Loop() {
		enc := json.NewEncoder(io.Discard)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&envelope{head: head{Success: true, APIUsage: &total, APIDailyUsage: &daily}, Document: u.Document()}); err != nil {
			b.Fatal(err)
		}
	}
}
