package usersvc_test

import (
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestReimportNeverUndoes: running a file again with upsert (the
// documented recovery after a crash) never undoes a sign-in's hash
// upgrade nor a password changed here since the import, and keeps a
// password no import gave; a line whose hash is new in the source
// replaces the password. Each case is seen by signing in.
func TestReimportNeverUndoes(t *testing.T) {
	const (
		md5Hello  = `$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1`                        // "Hello world!" (glibc's published vector)
		md5NewPw  = `$1$newsalt$253LVDH0CHZK/wzyorHve.`                         // "a new source password" (openssl passwd -1 -salt newsalt)
		sha256Old = `$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5` // "Hello world!"
	)
	line := func(id, email, extra string) string {
		return fmt.Sprintf(`{"id":%q,"name":"N","email":%q,"country":"ES","timeZone":"UTC"%s}`, id, email, extra) + "\n"
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		signIn := func(t *testing.T, email, pw string) int {
			t.Helper()
			return e.Do(t, "POST", "/api/Auth/Token", "", fmt.Sprintf(`{"userName":%q,"password":%q}`, email, pw), "X-Forwarded-For: 192.0.2.9").Status
		}
		file := line("up", "up@example.com", `,"passwordHash":"`+md5Hello+`"`) +
			line("changed", "changed@example.com", `,"passwordHash":"`+sha256Old+`"`) +
			line("clear", "clear@example.com", `,"password":"the first password"`)
		if c, f := importAll(t, e.Svc, file, usersvc.ImportOptions{}); c.Created != 3 {
			t.Fatalf("import: %+v %+v", c, f)
		}
		// "up" signs in (its hash is upgraded to bcrypt); "changed",
		// "clear" and Alice (no import gave her a password) get a new
		// password here.
		if s := signIn(t, "up@example.com", "Hello world!"); s != 200 {
			t.Fatalf("first sign-in: %d", s)
		}
		for _, id := range []string{"changed", "clear", e.Alice.ID} {
			if r := e.Do(t, "PATCH", "/api/users/"+id, e.AdminToken, `[{"op":"replace","path":"/password","value":"changed here since"}]`); r.Status != 200 {
				t.Fatalf("PATCH %s: %d %s", id, r.Status, r.Body)
			}
		}
		// The same file again, and Alice (created here) upserted by email
		// with a hash: nothing about a password moves.
		again := file + `{"name":"Alice","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid","passwordHash":"` + md5Hello + `"}` + "\n"
		if c, f := importAll(t, e.Svc, again, usersvc.ImportOptions{Mode: usersvc.ImportUpsert}); c.Updated != 0 || c.Unchanged != 4 || c.Failed != 0 {
			t.Fatalf("re-import: %+v %+v", c, f)
		}
		for _, tc := range []struct{ email, pw string }{
			{"up@example.com", "Hello world!"}, {"changed@example.com", "changed here since"}, {"clear@example.com", "changed here since"},
		} {
			if s := signIn(t, tc.email, tc.pw); s != 200 {
				t.Fatalf("%s after the re-import: %d, want 200", tc.email, s)
			}
		}
		stored, err := e.Store.User(t.Context(), "up", false)
		if err != nil || !strings.HasPrefix(stored.PasswordHash, "$2a$") {
			t.Fatalf("up's hash after the re-import: %.8s… %v, want the upgraded bcrypt", stored.PasswordHash, err)
		}
		if s := signIn(t, "changed@example.com", "Hello world!"); s != 401 {
			t.Fatalf("the imported password came back: %d", s)
		}
		if s := signIn(t, "alice@example.com", "changed here since"); s != 200 {
			t.Fatalf("a password no import gave was replaced: %d", s)
		}
		// The source changed "up"'s and "changed"'s passwords: their new
		// hashes replace what is stored, once.
		newer := line("up", "up@example.com", `,"passwordHash":"`+md5NewPw+`"`) + line("changed", "changed@example.com", `,"passwordHash":"`+md5NewPw+`"`)
		if c, f := importAll(t, e.Svc, newer, usersvc.ImportOptions{Mode: usersvc.ImportUpsert}); c.Updated != 2 || c.Failed != 0 {
			t.Fatalf("import of new hashes: %+v %+v", c, f)
		}
		for _, email := range []string{"up@example.com", "changed@example.com"} {
			if s := signIn(t, email, "a new source password"); s != 200 {
				t.Fatalf("%s with the source's new password: %d", email, s)
			}
		}
		if c, f := importAll(t, e.Svc, newer, usersvc.ImportOptions{Mode: usersvc.ImportUpsert}); c.Unchanged != 2 || c.Failed != 0 {
			t.Fatalf("the new hashes again: %+v %+v", c, f)
		}
	})
}
