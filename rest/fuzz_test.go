package rest_test

import (
	"path/filepath"
	"testing"

	"usersvc/internal/testenv"
)

// FuzzPatchEndpoint sends arbitrary PATCH bodies through the real handler
// on SQLite: never a 500 or a panic, and a refused patch never changes the
// stored user.
func FuzzPatchEndpoint(f *testing.F) {
	e := testenv.Start(f, testenv.DB{Name: "sqlite", URL: "sqlite:" + filepath.Join(f.TempDir(), "fuzz.db")})
	// The test clock stands still, so the day never turns: without this a
	// long run would hit the daily quota.
	e.Svc.DailyQuota = 1 << 50
	f.Add(`[{"op":"add","path":"/tags/a","value":"b"}]`, "application/json-patch+json")
	f.Add(`[{"op":"copy","from":"/role","path":"/description"},{"op":"move","from":"/description","path":"/role"}]`, "application/json-patch+json")
	f.Add(`{"description":null,"tags":{"x":"y"}}`, "application/merge-patch+json")
	f.Add(`[{"op":"replace","path":"","value":{"name":"x"}}]`, "application/json")
	f.Fuzz(func(t *testing.T, body, ctype string) {
		before := e.Do(t, "GET", "/api/users/"+e.Alice.ID, e.AdminToken, "")
		if before.Status != 200 {
			t.Fatalf("reading the user: %d %s", before.Status, before.Body)
		}
		r := e.Do(t, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken, body, "Content-Type: "+ctype)
		if r.Status >= 500 {
			t.Fatalf("status %d for %q (%s): %s", r.Status, body, ctype, r.Body)
		}
		if r.Status != 200 {
			after := e.Do(t, "GET", "/api/users/"+e.Alice.ID, e.AdminToken, "")
			if after.Header.Get("ETag") != before.Header.Get("ETag") {
				t.Fatalf("a refused patch (%d) changed the user", r.Status)
			}
		}
	})
}
