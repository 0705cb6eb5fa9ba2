package rest_test

import (
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// TestResendingThePasswordIsNoChange: a PUT carrying the stored password
// (legacy clients always send it) with the current one changes nothing:
// same version, no history entry, the user's sessions live on. Without
// X-Current-Password it is refused like any password of one's own (else
// "no change" against "changed" would tell a guess right without the
// sign-in throttle). A different password is a change and ends them.
func TestResendingThePasswordIsNoChange(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		s := signIn(t, e, `{"userName":"alice@example.com","password":"alice passphrase"}`)
		if s.Status != 200 {
			t.Fatalf("sign in: %d %s", s.Status, s.Body)
		}
		session := s.JSON["token"].(string)
		doc := e.Do(t, "GET", path(e.Alice), session, "")
		etag := doc.Header.Get("ETag")
		entries := len(history(t, e, e.AdminToken, e.Alice.ID))

		if r := e.Do(t, "PUT", path(e.Alice), session, putBody(t, doc, "password", `"alice passphrase"`)); r.Status != 400 || r.JSON["field"] != "currentPassword" {
			t.Fatalf("PUT with the stored password, no current one: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "PUT", path(e.Alice), session, putBody(t, doc, "password", `"alice passphrase"`), "X-Current-Password: a guess"); r.Status != 401 || r.JSON["success"] != false {
			t.Fatalf("PUT with a wrong current password: %d %s", r.Status, r.Body)
		}
		const current = "X-Current-Password: alice passphrase"
		r := e.Do(t, "PUT", path(e.Alice), session, putBody(t, doc, "password", `"alice passphrase"`), current)
		if r.Status != 200 || r.Header.Get("ETag") != etag || r.JSON["modification"] != doc.JSON["modification"] {
			t.Fatalf("PUT with the stored password: %d ETag %s (was %s) %s", r.Status, r.Header.Get("ETag"), etag, r.Body)
		}
		if n := len(history(t, e, e.AdminToken, e.Alice.ID)); n != entries {
			t.Fatalf("history grew from %d to %d entries", entries, n)
		}
		if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 200 {
			t.Fatalf("session after re-sending the password: %d", r.Status)
		}

		// With another field changed: one change, and the password is not part of it.
		r = e.Do(t, "PUT", path(e.Alice), session, strings.Replace(putBody(t, doc, "password", `"alice passphrase"`), `"name":"Alice"`, `"name":"Alice B"`, 1), current)
		if r.Status != 200 || r.Header.Get("ETag") == etag || r.JSON["name"] != "Alice B" {
			t.Fatalf("PUT with a new name: %d %s", r.Status, r.Body)
		}
		h := history(t, e, e.AdminToken, e.Alice.ID)
		if len(h) != entries+1 || strings.Contains(strings.ToLower(strings.Join(opsPaths(h[0]), ",")), "password") {
			t.Fatalf("history after the rename: %v", h[0])
		}
		if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 200 {
			t.Fatalf("session after the rename: %d", r.Status)
		}

		// A different password is a change: new version, "password changed", sessions end.
		e.Clock.Advance(time.Second)
		doc = e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		r = e.Do(t, "PUT", path(e.Alice), e.AliceToken, putBody(t, doc, "password", `"another passphrase"`), current)
		if r.Status != 200 || r.Header.Get("ETag") == doc.Header.Get("ETag") {
			t.Fatalf("PUT with a new password: %d %s", r.Status, r.Body)
		}
		if h := history(t, e, e.AdminToken, e.Alice.ID); strings.Join(opsPaths(h[0]), ",") != "/modification,/password" {
			t.Fatalf("history of the password change: %v", h[0])
		}
		if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 401 {
			t.Fatalf("session after a new password: %d", r.Status)
		}
		if r := signIn(t, e, `{"userName":"alice@example.com","password":"another passphrase"}`); r.Status != 200 {
			t.Fatalf("sign in with the new password: %d %s", r.Status, r.Body)
		}
	})
}

// opsPaths lists the paths of a history entry's patch.
func opsPaths(entry map[string]any) []string {
	var out []string
	for _, op := range entry["patch"].([]any) {
		out = append(out, op.(map[string]any)["path"].(string))
	}
	return out
}
