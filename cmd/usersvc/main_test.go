package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func TestConfigErrors(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad log format", []string{"migrate", "-database-url", db, "-log-format", "xml"}, "must be text or json"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad cors origin", []string{"serve", "-database-url", db, "-cors-origins", "example.com"}, "is not an origin"},
		{"unknown flag", []string{"migrate", "-nope"}, "flag provided but not defined"},
		{"bad quota", []string{"serve", "-database-url", db, "-daily-quota", "-1"}, "-daily-quota must be"},
		{"bad role", []string{"user", "create", "-database-url", db, "--role", "root"}, "--role must be"},
		{"token without user", []string{"token", "create", "-database-url", db}, "--user is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestUserAndTokenCreate(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "-database-url", db}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	args := []string{"user", "create", "-database-url", db, "--name", "Ann", "--email", "ann@example.com",
		"--country", "ES", "--time-zone", "Europe/Madrid", "--role", "admin", "--password-stdin"}
	if err := run(context.Background(), args, strings.NewReader("a good password\n"), &out, &errb); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out.String())
	if !strings.HasPrefix(id, "usr-") || strings.Contains(id, "\n") {
		t.Fatalf("stdout %q is not one id", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "create", "-database-url", db, "--user", id, "--label", "ci"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if tok := strings.TrimSpace(out.String()); !strings.HasPrefix(tok, "usv_") || len(tok) != 47 {
		t.Fatalf("stdout %q is not one token", out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"token", "create", "-database-url", db, "--user", "usr-missing"}, nil, &out, &errb)
	if err == nil || out.Len() != 0 {
		t.Fatalf("token for a missing user: err %v, stdout %q", err, out.String())
	}
}

// TestMigrateCommand: usersvc migrate says which files it applied, and a
// second run has nothing to do.
func TestMigrateCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	migrate := func() string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"migrate", "-database-url", db}, nil, &out, &errb); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 {
			t.Fatalf("stdout %q", out.String())
		}
		return errb.String()
	}
	if got := migrate(); !strings.HasPrefix(got, "applied 20261123200532_baseline.sql\n") || !strings.Contains(got, "schema is up to date at version ") {
		t.Fatalf("first run said %q", got)
	}
	if got := migrate(); strings.Contains(got, "applied") || !strings.HasPrefix(got, "schema is up to date at version ") {
		t.Fatalf("second run said %q", got)
	}
}

// TestCommandLineTraps: the command line cannot act on a database that is
// not there, names the flag of a bad field, suggests a misspelt zone, and
// prints the cause of an internal error.
func TestCommandLineTraps(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "traps.db")
	cli := func(args ...string) (string, error) {
		t.Helper()
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args[:len(args):len(args)], "-database-url", db), strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}
	for _, args := range [][]string{{"user", "list"}, {"token", "create", "--user", "usr-x"}, {"export"},
		{"user", "create", "--name", "A", "--email", "a@example.com", "--country", "ES", "--time-zone", "UTC"}} {
		if _, err := cli(args...); err == nil || !strings.Contains(err.Error(), "no database at "+filepath.Join(dir, "traps.db")) {
			t.Fatalf("%v before the database exists: %v", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "traps.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a command other than serve or migrate created the database: %v", err)
	}
	if _, err := cli("migrate"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "", "--email", "a@example.com", "--country", "ES", "--time-zone", "UTC"}, "--name is required"},
		{[]string{"--name", "A", "--email", "", "--country", "ES", "--time-zone", "UTC"}, "--email is required"},
		{[]string{"--name", "A", "--email", "a@example.com", "--country", "ES", "--time-zone", "America/Bogta"}, `--time-zone: unknown time zone "America/Bogta"; did you mean "America/Bogota"?`},
		{[]string{"--name", "A", "--email", "a@example.com", "--country", "ES", "--time-zone", "Nowhere/Atall"}, `--time-zone: unknown time zone "Nowhere/Atall" (IANA names`},
		{[]string{"--name", "A", "--email", "not an email", "--country", "ES", "--time-zone", "UTC"}, "--email: "},
	} {
		if _, err := cli(append([]string{"user", "create"}, tc.args...)...); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("user create %v: %v, want %q…", tc.args, err, tc.want)
		}
	}
	// An internal error prints its cause.
	raw, err := sql.Open("sqlite", filepath.Join(dir, "traps.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("DROP TABLE users"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = cli("user", "list")
	if got := describe(err); !strings.HasPrefix(got, "Internal server error. (cause: ") || !strings.Contains(got, "no such table: users") {
		t.Fatalf("an internal error on the command line: %q", got)
	}
	if got := describe(errors.New("plain")); got != "plain" {
		t.Fatalf("describe(plain) = %q", got)
	}
}
