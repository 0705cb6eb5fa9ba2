package rest_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/httpbody"
	"usersvc/internal/testenv"
	"usersvc/jsonpatch"
)

// TestIdsThatCannotExist: ids with a NUL byte or invalid UTF-8 are users
// that do not exist (404), on every route that takes an id and on both
// databases (PostgreSQL refuses such text; it answered 500).
func TestIdsThatCannotExist(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, id := range []string{"%00", "usr-%00abc", "%C0%AE", "abc%FF", "%ED%A0%80"} {
			for _, tc := range []struct{ method, path, body string }{
				{"GET", "/api/users/" + id, ""},
				{"PUT", "/api/users/" + id, `{"name":"N","email":"n@example.com","country":"ES","timeZone":"UTC"}`},
				{"PATCH", "/api/users/" + id, `[{"op":"replace","path":"/name","value":"N"}]`},
				{"DELETE", "/api/users/" + id, ""},
				{"POST", "/api/users/" + id + "/restore", ""},
				{"GET", "/api/users/" + id + "/history", ""},
				{"GET", "/api/users/" + id + "/apiKeys", ""},
				{"POST", "/api/users/" + id + "/apiKeys", `{"label":"k"}`},
				{"DELETE", "/api/users/" + id + "/apiKeys/1", ""},
			} {
				r := e.Do(t, tc.method, tc.path, e.AdminToken, tc.body)
				if r.Status != 404 || r.JSON["error"] != "User not found." {
					t.Errorf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
				}
			}
		}
	})
}

// TestBadFilterValues: list filters with a NUL byte or invalid UTF-8 are
// 400 naming the filter; so is a cursor that hides one.
func TestBadFilterValues(t *testing.T) {
	nulCursor := base64.RawURLEncoding.EncodeToString([]byte("1780315200000000:usr-\x00"))
	badCursor := base64.RawURLEncoding.EncodeToString([]byte("1780315200000000:usr-\xc0\xae"))
	ancient := base64.RawURLEncoding.EncodeToString([]byte("-210000000000000000:usr-a")) // before 4713 BC
	future := base64.RawURLEncoding.EncodeToString([]byte("253402300800000000:usr-a"))   // year 10000
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct{ query, field, message string }{
			{"email=%00", "email", `Field "email" must be valid text.`},
			{"email=a%00b%40example.com", "email", `Field "email" must be valid text.`},
			{"email=%C0%AE", "email", `Field "email" must be valid text.`},
			{"group=%00", "group", `Field "group" must be valid text.`},
			{"group=%FF", "group", `Field "group" must be valid text.`},
			{"search=%00", "search", `Field "search" must be valid text.`},
			{"search=%C0%AE", "search", `Field "search" must be valid text.`},
			{"role=%00", "role", `Field "role" must be "user" or "admin".`},
			{"role=owner", "role", `Field "role" must be "user" or "admin".`},
			{"cursor=" + nulCursor, "after", "Invalid cursor."},
			{"cursor=" + badCursor, "after", "Invalid cursor."},
			{"cursor=" + ancient, "after", "Invalid cursor."},
			{"cursor=" + future, "after", "Invalid cursor."},
		} {
			for _, token := range []string{e.AdminToken, e.AliceToken} {
				r := e.Do(t, "GET", "/api/users?"+tc.query, token, "")
				if r.Status != 400 || r.JSON["field"] != tc.field || r.JSON["error"] != tc.message {
					t.Errorf("?%s: %d %s", tc.query, r.Status, r.Body)
				}
			}
		}
		// Good values still filter.
		if r := e.Do(t, "GET", "/api/users?email=ALICE%40example.com&group=&search=li", e.AdminToken, ""); r.Status != 200 {
			t.Errorf("good filters: %d %s", r.Status, r.Body)
		}
	})
}

// TestInvalidUTF8InBodies: a JSON string with invalid UTF-8 (or an unpaired
// surrogate escape) is 400 naming the field, and nothing is stored; Go's
// decoder alone would have stored U+FFFD.
func TestInvalidUTF8InBodies(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		alice := "/api/users/" + e.Alice.ID
		for _, tc := range []struct {
			name, method, path, ctype, body, field string
		}{
			{"PUT name", "PUT", alice, "application/json", "{\"name\":\"A\xc0\xaeB\",\"email\":\"alice@example.com\",\"country\":\"ES\",\"timeZone\":\"Europe/Madrid\"}", "name"},
			{"PUT description", "PUT", alice, "application/json", "{\"name\":\"Alice\",\"email\":\"alice@example.com\",\"country\":\"ES\",\"timeZone\":\"Europe/Madrid\",\"description\":\"\xff\"}", "description"},
			{"PUT tag value", "PUT", alice, "application/json", "{\"name\":\"Alice\",\"email\":\"alice@example.com\",\"country\":\"ES\",\"timeZone\":\"Europe/Madrid\",\"tags\":{\"k\":\"\xed\xa0\x80\"}}", "tags"},
			{"PUT lone surrogate escape", "PUT", alice, "application/json", `{"name":"A\ud800B","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid"}`, "name"},
			{"PUT lone low surrogate escape", "PUT", alice, "application/json", `{"name":"A\udc00","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid"}`, "name"},
			{"merge patch", "PATCH", alice, "application/merge-patch+json", "{\"message\":\"hi \xfe\"}", "message"},
			{"JSON Patch value", "PATCH", alice, "application/json-patch+json", "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"\xc3\"}]", "value"},
			{"create", "POST", "/api/users", "application/json", "{\"name\":\"N\xff\",\"email\":\"n@example.com\",\"country\":\"ES\",\"timeZone\":\"UTC\"}", "name"},
			{"API key label", "POST", alice + "/apiKeys", "application/json", "{\"label\":\"k\xff\"}", "label"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, e.AdminToken, tc.body, "Content-Type: "+tc.ctype)
				if r.Status != 400 || r.JSON["field"] != tc.field || r.JSON["error"] != `Field "`+tc.field+`" must be valid text.` {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if after := e.Do(t, "GET", alice, e.AdminToken, ""); after.Header.Get("ETag") != `"v1"` {
					t.Fatalf("Alice changed: %s", after.Body)
				}
			})
		}
		// A valid surrogate pair and plain UTF-8 are fine.
		r := e.Do(t, "PATCH", alice, e.AdminToken, `{"description":"\ud83d\ude00 ñ \\ud800"}`, "Content-Type: application/merge-patch+json")
		if r.Status != 200 || r.JSON["description"] != "\U0001F600 ñ \\ud800" {
			t.Fatalf("good text: %d %s", r.Status, r.Body)
		}
	})
}

// TestSignInWithUnmatchableEmail: a sign-in whose email holds a NUL byte is
// the ordinary sign-in failure, not a database error.
func TestSignInWithUnmatchableEmail(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, body := range []string{
			`{"userName":"alice@example.com\u0000","password":"alice passphrase"}`,
			`{"userName":"\u0000","apiKey":"usk_x"}`,
		} {
			r := e.Do(t, "POST", "/api/Auth/Token", "", body)
			if r.Status != 401 || r.JSON["error"] != "Invalid API key or username." {
				t.Errorf("%s: %d %s", body, r.Status, r.Body)
			}
		}
	})
}

// TestBodiesOfManyUnknownKeys: a body of nearly 1 MiB of unique unknown keys
// is refused (400) on every route that takes a user body, at once: the
// parser stops at jsonpatch.MaxMembers; below that, the first unknown key
// in sorted order is named, found in one pass (the keys were
// insertion-sorted before: 14 s of CPU for one such PUT;
// TestManyUnknownKeys in the root package holds decodeBody to it). The
// bound below is a liveness bound, not a speed measurement: quadratic
// work misses it by far, even under the race detector.
func TestBodiesOfManyUnknownKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; b.Len() < httpbody.MaxBytes-64; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%07d":0`, 9_999_999-i) // descending: insertion sort's worst case
	}
	b.WriteString(`,"k":0}`)
	huge := b.String()
	var m strings.Builder // just under the parser's bound
	m.WriteString(`{"k":0`)
	for i := range jsonpatch.MaxMembers - 1 {
		fmt.Fprintf(&m, `,"k%07d":0`, 9_999_999-i)
	}
	m.WriteString("}")
	many := m.String()
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct{ method, path, token, contentType string }{
			{"PUT", path(e.Alice), e.AliceToken, "application/json"},
			{"PATCH", path(e.Alice), e.AliceToken, "application/merge-patch+json"},
			{"POST", "/api/users", e.AdminToken, "application/json"},
		} {
			for _, body := range []struct{ text, want string }{
				{huge, fmt.Sprintf("A JSON object in the body has more than %d members.", jsonpatch.MaxMembers)},
				{many, `Unknown field "k".`},
			} {
				done := make(chan *testenv.Response, 1)
				go func() { done <- e.Do(t, tc.method, tc.path, tc.token, body.text, "Content-Type: "+tc.contentType) }()
				select {
				case r := <-done:
					if r.Status != 400 || r.JSON["error"] != body.want {
						t.Errorf("%s %s: %d %.200s, want 400 %s", tc.method, tc.path, r.Status, r.Body, body.want)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s %s: no answer in 10 s", tc.method, tc.path)
				}
			}
		}
	})
}

// TestLabelsAreText: an API key's label (and an operator token's) follows
// the text rule of every field: a NUL is 400 on both databases (it was a
// 500 on PostgreSQL and stored on SQLite).
func TestLabelsAreText(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, label := range []string{`a\u0000b`, `\u0000`} {
			r := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":"`+label+`"}`)
			if r.Status != 400 || r.JSON["field"] != "label" {
				t.Errorf("label %s: %d %s", label, r.Status, r.Body)
			}
		}
		if _, err := e.Svc.CreateToken(usersvc.SystemContext(context.Background()), e.Alice.ID, "op\x00", 0); usersvc.ErrorCode(err) != usersvc.EInvalid {
			t.Errorf("operator token label with a NUL: %v", err)
		}
		if r := e.Do(t, "GET", path(e.Alice)+"/apiKeys", e.AliceToken, ""); strings.Contains(string(r.Body), `\u0000`) {
			t.Errorf("a NUL label was stored: %s", r.Body)
		}
	})
}
