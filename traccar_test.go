package usersvc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// recipe is docs/import.md's Traccar recipe: its SQL, and the psql
// command line's words (the URL as "$TRACCAR_URL", no redirection).
func recipe(t *testing.T) (query string, env, psql []string) {
	t.Helper()
	b, err := os.ReadFile("docs/import.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## Exporting from Traccar")
	section, _, _ = strings.Cut(section, "\n## ")
	_, rest, ok2 := strings.Cut(section, "```sql\n")
	query, rest, ok3 := strings.Cut(rest, "```")
	_, rest, ok4 := strings.Cut(rest, "```sh\n")
	line, _, _ := strings.Cut(rest, "\n")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatal("docs/import.md: no Traccar recipe (a sql block, then a sh block)")
	}
	words := strings.Fields(strings.TrimSpace(strings.Split(line, ">")[0]))
	for len(words) > 0 && strings.Contains(words[0], "=") {
		env, words = append(env, words[0]), words[1:]
	}
	if len(words) == 0 || words[0] != "psql" {
		t.Fatalf("docs/import.md: the recipe's command is %q, not a psql line", line)
	}
	return query, env, words
}

// TestTraccarRecipe: the documented export from Traccar, run with real
// psql on a throwaway PostgreSQL database whose tc_users has names with
// quotes and backslashes, gives lines that import (on each database) as
// the same users: names intact, roles, expiry, and sign-in with the
// Traccar passwords (both hash forms).
func TestTraccarRecipe(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	if _, err := exec.LookPath("psql"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("psql is missing; CI requires it")
		}
		t.Skip("psql is not installed")
	}
	query, env, psql := recipe(t)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	rb := make([]byte, 6)
	_, _ = rand.Read(rb)
	name := "traccar_" + hex.EncodeToString(rb)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	traccar, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer traccar.Close()
	const (
		anaName = `Ana "Nana" O'Brien \ admin`
		benName = `Back\slash \"quoted\" \\n`
	)
	for _, q := range []string{
		`CREATE TABLE tc_users (id serial PRIMARY KEY, name varchar(128) NOT NULL, email varchar(128) NOT NULL UNIQUE,
			hashedpassword varchar(128), salt varchar(128), readonly boolean NOT NULL DEFAULT false,
			administrator boolean NOT NULL DEFAULT false, disabled boolean NOT NULL DEFAULT false,
			expirationtime timestamp, attributes varchar(4000) NOT NULL DEFAULT '{}')`,
		// Traccar up to 5: PBKDF2-HMAC-SHA1, 1,000 rounds, hex, upper case.
		`INSERT INTO tc_users (id, name, email, hashedpassword, salt, administrator, expirationtime) VALUES
			(7, '` + strings.ReplaceAll(anaName, "'", "''") + `', 'ana@traccar.example', 'E51E6FDF44F1F4838E78E33CC09E1278F99D37F28B1BE55D',
			 '00112233445566778899AABBCCDDEEFF0011223344556677', true, '2030-01-02 03:04:05')`,
		// Traccar 6: PBKDF2WithHmacSHA256.
		`INSERT INTO tc_users (id, name, email, hashedpassword, salt) VALUES
			(8, '` + benName + `', 'ben@traccar.example', 'PBKDF2WithHmacSHA256$27500$f6ced087e02b785f83053cdb02025fba022862fc6b32d7517e1ea9af07708cc7',
			 '0a1b2c3d4e5f60718293a4b5c6d7e8f9')`,
		`INSERT INTO tc_users (id, name, email) VALUES (9, 'No Password', 'nopw@traccar.example')`,
	} {
		if _, err := traccar.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	sqlFile := filepath.Join(t.TempDir(), "traccar.sql")
	if err := os.WriteFile(sqlFile, []byte(query), 0o600); err != nil {
		t.Fatal(err)
	}
	args := make([]string, 0, len(psql))
	for _, w := range psql[1:] {
		switch w {
		case `"$TRACCAR_URL"`:
			w = u.String()
		case "traccar.sql":
			w = sqlFile
		}
		args = append(args, w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", args...)
	cmd.Env = append(os.Environ(), env...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("psql %v: %v\n%s", args, err, stderr.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Fatalf("the recipe wrote %d lines, want 2:\n%s", n, out.String())
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		if c, f := importAll(t, e.Svc, out.String(), usersvc.ImportOptions{DryRun: true}); c.Created != 2 || len(f) != 0 {
			t.Fatalf("dry run: %+v %+v\n%s", c, f, out.String())
		}
		if c, f := importAll(t, e.Svc, out.String(), usersvc.ImportOptions{}); c.Created != 2 || len(f) != 0 {
			t.Fatalf("import: %+v %+v", c, f)
		}
		for _, want := range []struct {
			id, name, email, role, expires string
		}{
			{"7", anaName, "ana@traccar.example", "admin", "2030-01-02T03:04:05Z"},
			{"8", benName, "ben@traccar.example", "user", ""},
		} {
			got, err := e.Store.User(context.Background(), want.id, false)
			if err != nil {
				t.Fatal(err)
			}
			expires := ""
			if got.Expires != nil {
				expires = got.Expires.UTC().Format(time.RFC3339)
			}
			if got.Name != want.name || got.Email != want.email || string(got.Role) != want.role || expires != want.expires {
				t.Errorf("user %s: %q %q %s %q; want %q %q %s %q", want.id, got.Name, got.Email, got.Role, expires, want.name, want.email, want.role, want.expires)
			}
			body := fmt.Sprintf(`{"userName":%q,"password":"traccar password"}`, want.email)
			if r := e.Do(t, "POST", "/api/Auth/Token", "", body); r.Status != 200 {
				t.Errorf("user %s signs in with the Traccar password: %d %s", want.id, r.Status, r.Body)
			}
		}
	})
}
