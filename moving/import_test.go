package moving_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
)

const importDoc = `"name":"N","email":"%s","country":"ES","timeZone":"UTC"`

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
			if _, err := moving.Export(usersvc.SystemContext(context.Background()), svc, &out, true); err != nil {
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

// TestImportLongLine: a line longer than usersvc.MaxImportLine fails
// alone, with its number; the blank lines around it are skipped and the
// lines after it are imported.
func TestImportLongLine(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		long := `{"description":"` + strings.Repeat("x", usersvc.MaxImportLine) + `",` + fmt.Sprintf(importDoc, "long@example.com") + "}"
		input := "{" + fmt.Sprintf(importDoc, "one@example.com") + "}\n\n" + long + "\n{" + fmt.Sprintf(importDoc, "two@example.com") + "}"
		counts, fails := importAll(t, e.Svc, input, usersvc.ImportOptions{})
		if counts.Lines != 3 || counts.Created != 2 || counts.Failed != 1 || counts.Bytes != int64(len(input)) || len(fails) != 1 ||
			fails[0] != (usersvc.ImportFailure{Line: 3, Code: "invalid", Message: "The line is longer than 1048576 bytes."}) {
			t.Fatalf("counts %+v, failures %+v", counts, fails)
		}
	})
}
