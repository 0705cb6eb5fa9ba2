package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
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
