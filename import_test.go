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
)

// importAll runs an import as the command line does (system context) and
// returns the counts and failures.
func importAll(t *testing.T, svc *usersvc.Service, input string, opts usersvc.ImportOptions) (usersvc.ImportCounts, []usersvc.ImportFailure) {
	t.Helper()
	var fails []usersvc.ImportFailure
	opts.Failed = func(f usersvc.ImportFailure) { fails = append(fails, f) }
	counts, err := svc.Import(usersvc.SystemContext(context.Background()), strings.NewReader(input), opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return counts, fails
}

func userCount(t *testing.T, e *testenv.Env) int {
	t.Helper()
	n := 0
	after := ""
	for {
		users, err := e.Store.UsersAfter(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(users)
		if len(users) < 1000 {
			return n
		}
		after = users[len(users)-1].ID
	}
}

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

// TestImportFile: 10,000 lines with five broken ones at known lines;
// again with create (nothing changes); with upsert and 100 new names
// (100 history entries); a dry run reports the same and writes nothing.
func TestImportFile(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 users")
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		broken := map[int]struct{ line, field, message string }{
			17:   {`{"id":"b17","passwordHash":"$2a$10$tooShort",` + fmt.Sprintf(importDoc, "b17@example.com") + `}`, "passwordHash", "malformed bcrypt hash"},
			1234: {`{"id":"b1234","passwordHash":"{SSHA}abc",` + fmt.Sprintf(importDoc, "b1234@example.com") + `}`, "passwordHash", `unknown format "{SSHA}abc"`},
			5000: {`{"id":"b5000",` + fmt.Sprintf(importDoc, "user10@example.com") + `}`, "email", "A user with this email already exists."},
			7777: {`{"id":"b7777",` + fmt.Sprintf(importDoc, "not-an-email") + `}`, "email", ""},
			9999: {`{"id":"b9999","name":"N","country":"ES","timeZone":"UTC"}`, "email", `Field "email" is required.`},
		}
		file := func(rename func(i int) bool) string {
			var b strings.Builder
			for i := 1; i <= 10_000; i++ {
				if br, ok := broken[i]; ok {
					b.WriteString(br.line + "\n")
					continue
				}
				name := fmt.Sprintf("User %d", i)
				if rename(i) {
					name += " (renamed)"
				}
				fmt.Fprintf(&b, `{"id":"u%d","name":%q,"email":"user%d@example.com","country":"ES","timeZone":"UTC","passwordHash":"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1","creation":"2019-05-0%dT10:00:00Z"}`+"\n", i, name, i, 1+i%9)
			}
			return b.String()
		}
		input := file(func(int) bool { return false })
		checkFails := func(what string, fails []usersvc.ImportFailure) {
			t.Helper()
			if len(fails) != len(broken) {
				t.Fatalf("%s: %d failures, want %d: %+v", what, len(fails), len(broken), fails[:min(len(fails), 10)])
			}
			for _, f := range fails {
				want, ok := broken[int(f.Line)]
				if !ok || f.Field != want.field || !strings.HasPrefix(f.Message, want.message) {
					t.Errorf("%s: failure %+v, want line %d's %q %q", what, f, f.Line, want.field, want.message)
				}
			}
		}
		base := userCount(t, e)
		dry, fails := importAll(t, e.Svc, input, usersvc.ImportOptions{DryRun: true})
		checkFails("dry run", fails)
		if dry.Created != 9_995 || dry.Failed != 5 || dry.Lines != 10_000 || userCount(t, e) != base {
			t.Fatalf("dry run: %+v, %d users (want %d)", dry, userCount(t, e), base)
		}
		counts, fails := importAll(t, e.Svc, input, usersvc.ImportOptions{})
		checkFails("import", fails)
		if counts != dry || userCount(t, e) != base+9_995 {
			t.Fatalf("import: %+v (the dry run said %+v), %d users", counts, dry, userCount(t, e))
		}
		u, err := e.Store.User(context.Background(), "u42", false)
		if err != nil || u.Creation.Format("2006-01-02") != "2019-05-07" || u.Name != "User 42" {
			t.Fatalf("u42: %+v %v", u, err)
		}

		// Again with create: every line fails (the five, and 9,995 taken ids), nothing changes.
		again, fails := importAll(t, e.Svc, input, usersvc.ImportOptions{})
		if again.Created != 0 || again.Failed != 10_000 || userCount(t, e) != base+9_995 || fails[0].Code != "conflict" {
			t.Fatalf("again: %+v, %d users, first failure %+v", again, userCount(t, e), fails[0])
		}
		entries := len(audit(t, e, "u42"))

		// Upsert with 100 changed names: 100 updated, 100 history entries.
		renamed := file(func(i int) bool { return i%100 == 42 })
		up, _ := importAll(t, e.Svc, renamed, usersvc.ImportOptions{Mode: usersvc.ImportUpsert, DryRun: true})
		if up.Updated != 100 || up.Unchanged != 9_895 || up.Created != 0 {
			t.Fatalf("upsert dry run: %+v", up)
		}
		up, _ = importAll(t, e.Svc, renamed, usersvc.ImportOptions{Mode: usersvc.ImportUpsert})
		if up.Updated != 100 || up.Unchanged != 9_895 || up.Created != 0 || up.Failed != 5 {
			t.Fatalf("upsert: %+v", up)
		}
		if got := audit(t, e, "u42"); len(got) != entries+1 || got[0].Action != "import" || !strings.Contains(patchText(got[0].Patch), "User 42 (renamed)") {
			t.Fatalf("u42's history after the upsert: %d entries (was %d), newest %+v", len(got), entries, got[0])
		}
		if got := audit(t, e, "u43"); len(got) != entries {
			t.Fatalf("u43 (unchanged) has %d entries, want %d", len(got), entries)
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
			if _, err := e.Svc.Export(usersvc.SystemContext(context.Background()), &out, true); err != nil {
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

// TestExportRoundTrip: an export with hashes, imported into an empty
// database, gives back the same users (same ids and documents), who sign
// in with the same passwords.
func TestExportRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		a := testenv.Start(t, db)
		if r := a.Do(t, "PATCH", "/api/users/"+a.Bob.ID, a.AdminToken, `[{"op":"add","path":"/password","value":"bob's passphrase"},{"op":"add","path":"/tags/k","value":"v"}]`, "Content-Type: application/json-patch+json"); r.Status != 200 {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		if r := a.Do(t, "DELETE", "/api/users/"+a.Alice.ID, a.AdminToken, ""); r.Status != 200 {
			t.Fatalf("delete: %d", r.Status)
		}
		export := func(svc *usersvc.Service) string {
			var out bytes.Buffer
			if _, err := svc.Export(usersvc.SystemContext(context.Background()), &out, true); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		first := export(a.Svc)
		if n := strings.Count(first, "\n"); n != 3 || !strings.Contains(first, `"passwordHash":"$2a$04$`) || !strings.Contains(first, `"deletedAt":"`) {
			t.Fatalf("export: %s", first)
		}
		empty := testenv.NewService(testenv.OpenStore(t, testenv.Another(t, db)), a.Clock)
		counts, fails := importAll(t, empty, first, usersvc.ImportOptions{})
		if counts.Created != 3 || len(fails) != 0 {
			t.Fatalf("import: %+v %+v", counts, fails)
		}
		if second := export(empty); second != first {
			t.Fatalf("round trip differs:\n%s\n%s", first, second)
		}
		h := testenv.NewHandler(empty)
		if r := testenv.Do(t, h, "POST", "/api/Auth/Token", "", `{"userName":"bob@example.com","password":"bob's passphrase"}`); r.Status != 200 {
			t.Fatalf("Bob signs in after the round trip: %d %s", r.Status, r.Body)
		}
		if r := testenv.Do(t, h, "POST", "/api/Auth/Token", "", `{"userName":"alice@example.com","password":"x"}`); r.Status != 401 {
			t.Fatalf("deleted Alice: %d", r.Status)
		}
	})
}

// TestExportWithHashesIsRecorded: exporting hashes is in the exporting
// admin's history; a non-admin may neither import nor export.
func TestExportWithHashesIsRecorded(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := as(t, e, e.AdminToken)
		if _, err := e.Svc.Export(admin, &bytes.Buffer{}, true); err != nil {
			t.Fatal(err)
		}
		if got := audit(t, e, e.Admin.ID); got[0].Action != usersvc.ActionExportHashes || got[0].Actor != e.Admin.ID {
			t.Fatalf("admin's history: %+v", got[0])
		}
		alice := as(t, e, e.AliceToken)
		if _, err := e.Svc.Export(alice, &bytes.Buffer{}, false); codeOf(err) != "forbidden" {
			t.Fatalf("Alice exports: %v", err)
		}
		if _, err := e.Svc.Import(alice, strings.NewReader("{}\n"), usersvc.ImportOptions{}); codeOf(err) != "forbidden" {
			t.Fatalf("Alice imports: %v", err)
		}
	})
}
