package usersvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
)

var importAll = testenv.ImportAll

func userCount(t *testing.T, e *testenv.Env) int { t.Helper(); return e.UserCount(t) }

// patchText is a recorded patch as JSON.
func patchText(p []usersvc.PatchOperation) string {
	b, _ := json.Marshal(p)
	return string(b)
}

const importDoc = `"name":"N","email":"%s","country":"ES","timeZone":"UTC"`

// TestImportLines: each kind of line, alone, is imported or refused with
// the field and message POST /api/users would give (or the import's own).
func TestImportLines(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			name, line   string
			field, code  string
			messageStart string
		}{
			{"plain", `{` + fmt.Sprintf(importDoc, "plain@example.com") + `}`, "", "", ""},
			{"legacy id", `{"id":"12345",` + fmt.Sprintf(importDoc, "legacy@example.com") + `}`, "", "", ""},
			{"id with a slash", `{"id":"a/b",` + fmt.Sprintf(importDoc, "slash@example.com") + `}`, "id", "invalid", "An id is 1 to 64 bytes of printable text without spaces, /, ?, # or %, and not"},
			{"id too long", `{"id":"` + strings.Repeat("x", 65) + `",` + fmt.Sprintf(importDoc, "long@example.com") + `}`, "id", "invalid", "An id is"},
			{"missing email", `{"name":"N","country":"ES","timeZone":"UTC"}`, "email", "invalid", `Field "email" is required.`},
			{"invalid email", `{` + fmt.Sprintf(importDoc, "not an email") + `}`, "email", "invalid", ""},
			{"unknown field", `{"nickname":"x",` + fmt.Sprintf(importDoc, "nick@example.com") + `}`, "nickname", "invalid", `Unknown field "nickname".`},
			{"not an object", `[1,2]`, "", "invalid", "The user must be a JSON object."},
			{"not JSON", `{"name":`, "", "invalid", "Malformed JSON body."},
			{"two values", `{} {}`, "", "invalid", "Malformed JSON body."},
			// As strict as POST /api/users: nothing is repaired or guessed.
			{"duplicate key", `{"role":"user","role":"admin",` + fmt.Sprintf(importDoc, "dup@example.com") + `}`, "role", "invalid", `Duplicate key "role" in JSON body.`},
			{"invalid UTF-8", `{"description":"a` + "\xff" + `b",` + fmt.Sprintf(importDoc, "utf@example.com") + `}`, "description", "invalid", `Field "description" must be valid text.`},
			{"lone surrogate", `{"description":"a\ud800b",` + fmt.Sprintf(importDoc, "sur@example.com") + `}`, "description", "invalid", `Field "description" must be valid text.`},
			{"truncated bcrypt", `{"passwordHash":"$2a$10$abc",` + fmt.Sprintf(importDoc, "tb@example.com") + `}`, "passwordHash", "invalid", "malformed bcrypt hash"},
			{"unknown prefix", `{"passwordHash":"$9$x$y",` + fmt.Sprintf(importDoc, "up@example.com") + `}`, "passwordHash", "invalid", `unknown format "$9$"`},
			{"absurd argon2", `{"passwordHash":"$argon2id$v=19$m=9999999,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",` + fmt.Sprintf(importDoc, "aa@example.com") + `}`, "passwordHash", "invalid", "argon2 memory 9999999 KiB"},
			{"Traccar without salt", `{"passwordHash":"PBKDF2WithHmacSHA256$1000$00ff00ff",` + fmt.Sprintf(importDoc, "ts@example.com") + `}`, "passwordSalt", "invalid", "Traccar"},
			{"hash and password", `{"password":"a long password","passwordHash":"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1",` + fmt.Sprintf(importDoc, "both@example.com") + `}`, "passwordHash", "invalid", "Give password or passwordHash, not both."},
			{"bad creation", `{"creation":"yesterday",` + fmt.Sprintf(importDoc, "bc@example.com") + `}`, "creation", "invalid", ""},
			{"existing email", `{` + fmt.Sprintf(importDoc, "alice@example.com") + `}`, "email", "conflict", "A user with this email already exists."},
			{"existing id", `{"id":"` + e.Bob.ID + `",` + fmt.Sprintf(importDoc, "bob2@example.com") + `}`, "id", "conflict", "A user with this id already exists."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := userCount(t, e)
				counts, fails := importAll(t, e.Svc, tc.line+"\n", usersvc.ImportOptions{})
				if tc.code == "" {
					if counts.Created != 1 || len(fails) != 0 || userCount(t, e) != before+1 {
						t.Fatalf("counts %+v, failures %+v", counts, fails)
					}
					return
				}
				if counts.Created != 0 || len(fails) != 1 || userCount(t, e) != before {
					t.Fatalf("counts %+v, failures %+v", counts, fails)
				}
				f := fails[0]
				if f.Line != 1 || f.Field != tc.field || f.Code != tc.code || !strings.HasPrefix(f.Message, tc.messageStart) {
					t.Fatalf("failure %+v, want field %q code %q message %q…", f, tc.field, tc.code, tc.messageStart)
				}
			})
		}
		// The legacy id answers on both transports.
		if r := e.Do(t, "GET", "/api/users/12345", e.AdminToken, ""); r.Status != 200 || r.JSON["email"] != "legacy@example.com" {
			t.Fatalf("GET /api/users/12345: %d %s", r.Status, r.Body)
		}
		if g := e.GraphQL(t, e.AdminToken, `{ user(id: "12345") { email history { edges { node { actor action } } } } }`, nil); g.Status != 200 ||
			!strings.Contains(string(g.Body), `"email":"legacy@example.com"`) || !strings.Contains(string(g.Body), `{"actor":"`+usersvc.SystemID+`","action":"import"}`) {
			t.Fatalf("user(id: 12345): %d %s", g.Status, g.Body)
		}
	})
}

// TestImportedHashesSignIn: a user imported with each independent tool's
// hash signs in with the right password, not with a wrong one, and after
// the first sign-in is stored as the service's bcrypt (seen through an
// export with hashes), with the upgrade in its history.
func TestImportedHashesSignIn(t *testing.T) {
	const pw = "correct horse battery staple"
	hashes := testenv.ExternalHashes(t, pw)
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var in strings.Builder
		for i, h := range hashes {
			line := map[string]any{"id": fmt.Sprintf("legacy-%d", i), "name": h.Tool, "email": fmt.Sprintf("h%d@example.com", i),
				"country": "ES", "timeZone": "UTC", "passwordHash": h.Hash}
			if h.Salt != "" {
				line["passwordSalt"] = h.Salt
			}
			b, _ := json.Marshal(line)
			in.Write(append(b, '\n'))
		}
		if counts, fails := importAll(t, e.Svc, in.String(), usersvc.ImportOptions{}); counts.Created != int64(len(hashes)) {
			t.Fatalf("import: %+v %+v", counts, fails)
		}
		exported := func() map[string]string {
			var out bytes.Buffer
			if _, err := moving.Export(usersvc.SystemContext(context.Background()), e.Svc, &out, true); err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var v map[string]any
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatal(err)
				}
				h, _ := v["passwordHash"].(string)
				m[v["id"].(string)] = h
			}
			return m
		}
		for i, h := range hashes {
			t.Run(h.Tool, func(t *testing.T) {
				email := fmt.Sprintf("h%d@example.com", i)
				if r := e.Do(t, "POST", "/api/Auth/Token", "", fmt.Sprintf(`{"userName":%q,"password":%q}`, email, pw+"!"), "X-Forwarded-For: 192.0.2.1"); r.Status != 401 {
					t.Fatalf("wrong password: %d %s", r.Status, r.Body)
				}
				if r := e.Do(t, "POST", "/api/Auth/Token", "", fmt.Sprintf(`{"userName":%q,"password":%q}`, email, pw)); r.Status != 200 {
					t.Fatalf("right password: %d %s", r.Status, r.Body)
				}
				id := fmt.Sprintf("legacy-%d", i)
				if stored := exported()[id]; !strings.HasPrefix(stored, "$2a$04$") {
					t.Fatalf("after the first sign-in the stored hash is %.12s…, want the service's bcrypt (cost 4 in tests)", stored)
				}
				if got := audit(t, e, id); got[0].Action != "login" || !strings.Contains(patchText(got[0].Patch), "password hash upgraded") {
					t.Fatalf("history: %+v", got[0])
				}
				if r := e.Do(t, "POST", "/api/Auth/Token", "", fmt.Sprintf(`{"userName":%q,"password":%q}`, email, pw)); r.Status != 200 {
					t.Fatalf("second sign-in: %d %s", r.Status, r.Body)
				}
				if got := audit(t, e, id); strings.Contains(patchText(got[0].Patch), "password hash upgraded") {
					t.Fatalf("the second sign-in upgraded again: %+v", got[0])
				}
			})
		}
	})
}

// TestExportWithHashesIsRecorded: exporting hashes is in the exporting
// admin's history, once an export (its first page), before any hash is
// given; a non-admin may neither import nor export.
func TestExportWithHashesIsRecorded(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := as(t, e, e.AdminToken)
		before := len(audit(t, e, e.Admin.ID))
		page, err := e.Svc.ExportUsers(admin, "", 2, true)
		if err != nil || len(page) != 2 || page[0].ID >= page[1].ID {
			t.Fatalf("first page: %+v %v", page, err)
		}
		for _, u := range page { // the three have passwords only through their tokens
			if u.PasswordHash != "" || u.ID != e.Admin.ID && u.ID != e.Alice.ID && u.ID != e.Bob.ID {
				t.Fatalf("first page: %+v", u)
			}
		}
		got := audit(t, e, e.Admin.ID)
		if len(got) != before+1 || got[0].Action != usersvc.ActionExportHashes || got[0].Actor != e.Admin.ID {
			t.Fatalf("admin's history: %d entries (was %d), newest %+v", len(got), before, got[0])
		}
		if rest, err := e.Svc.ExportUsers(admin, page[1].ID, 2, true); err != nil || len(rest) != 1 || rest[0].ID <= page[1].ID {
			t.Fatalf("second page: %+v %v", rest, err)
		}
		if n := len(audit(t, e, e.Admin.ID)); n != before+1 {
			t.Fatalf("the second page recorded the export again: %d entries, want %d", n, before+1)
		}
		if _, err := e.Svc.ExportUsers(admin, "", 1000, false); err != nil || len(audit(t, e, e.Admin.ID)) != before+1 {
			t.Fatalf("an export without hashes: %v, %d entries", err, len(audit(t, e, e.Admin.ID)))
		}
		alice := as(t, e, e.AliceToken)
		if _, err := e.Svc.ExportUsers(alice, "", 1000, false); codeOf(err) != "forbidden" {
			t.Fatalf("Alice exports: %v", err)
		}
		if _, err := moving.Export(alice, e.Svc, &bytes.Buffer{}, false); codeOf(err) != "forbidden" {
			t.Fatalf("Alice exports through moving: %v", err)
		}
		if _, err := e.Svc.ImportUsers(alice, nil, &usersvc.ImportOptions{}); codeOf(err) != "forbidden" {
			t.Fatalf("Alice imports: %v", err)
		}
		if _, err := moving.Import(alice, e.Svc, strings.NewReader("{}\n"), moving.Options{}); codeOf(err) != "forbidden" {
			t.Fatalf("Alice imports through moving: %v", err)
		}
		if _, err := e.Svc.ImportUsers(admin, nil, &usersvc.ImportOptions{Mode: "merge"}); codeOf(err) != "invalid" {
			t.Fatalf("a bad mode: %v", err)
		}
	})
}
