package store

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestPgName: libpq's multi-host URI becomes lib/pq's spelling (hosts in
// the authority, ports in ?port=); lib/pq's own spelling and key/value
// strings are left as they are; sslmode=prefer and allow are refused.
func TestPgName(t *testing.T) {
	t.Setenv("PGSSLMODE", "") // restored after the test
	os.Unsetenv("PGSSLMODE")
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{"pg_autoctl show uri, disable", "postgres://127.0.0.1:5502,127.0.0.1:5503/app?target_session_attrs=read-write&sslmode=disable",
			"postgres://127.0.0.1,127.0.0.1/app?target_session_attrs=read-write&sslmode=disable&port=5502,5503", ""},
		{"user, password, three hosts", "postgresql://u:p%40ss@db1:6001,db2:6002,db3:6003/app?sslmode=require",
			"postgresql://u:p%40ss@db1,db2,db3/app?sslmode=require&port=6001,6002,6003", ""},
		{"a host without a port gets 5432", "postgres://db1:6001,db2/app?sslmode=disable",
			"postgres://db1,db2/app?sslmode=disable&port=6001,5432", ""},
		{"no path, no query", "postgres://db1:6001,db2:6002",
			"postgres://db1,db2?port=6001,6002", ""},
		{"the scheme in capitals", "PostgreSQL://db1:6001,db2:6002/app",
			"postgresql://db1,db2/app?port=6001,6002", ""},
		{"lib/pq's spelling is kept", "postgres://db1,db2/app?port=5502,5503&target_session_attrs=read-write&sslmode=disable",
			"postgres://db1,db2/app?port=5502,5503&target_session_attrs=read-write&sslmode=disable", ""},
		{"one host with a port is kept", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", ""},
		{"key/value with hosts and ports is kept", "host=db1,db2 port=5502,5503 dbname=app target_session_attrs=read-write sslmode=disable",
			"host=db1,db2 port=5502,5503 dbname=app target_session_attrs=read-write sslmode=disable", ""},
		{"sslmode unset is lib/pq's require", "postgres://db1:5502,db2:5503/app",
			"postgres://db1,db2/app?port=5502,5503", ""},
		{"ports twice", "postgres://db1:5502,db2:5503/app?port=5502,5503", "", "gives ports both with its hosts and in ?port="},
		{"an empty host", "postgres://db1:5502,:5503/app", "", "an empty host"},
		{"IPv6 in a list", "postgres://[::1]:5502,[::1]:5503/app", "", "use the key/value form"},
		{"too few ports (key/value)", "host=db1,db2,db3 port=5502,5503", "", "could not match"},
		{"sslmode=prefer", "postgres://db1:5502,db2:5503/app?target_session_attrs=read-write&sslmode=prefer", "", "sslmode=prefer leaks a socket per connection with lib/pq when the server has no TLS: use sslmode=disable (no TLS) or sslmode=require (or verify-ca, verify-full)"},
		{"sslmode=allow", "postgres://db1/app?sslmode=allow", "", "sslmode=allow leaks a socket"},
		{"sslmode=prefer, key/value", "host=db1 sslmode=prefer", "", "sslmode=prefer leaks a socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pgName(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("pgName(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("pgName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestPgNameEnvSSLMode: PGSSLMODE=prefer counts when the string sets no
// sslmode, and is refused like the string's own; the string's wins.
func TestPgNameEnvSSLMode(t *testing.T) {
	t.Setenv("PGSSLMODE", "prefer")
	if _, err := pgName("postgres://db1/app"); !errors.Is(err, errWeakSSLMode) {
		t.Fatalf("PGSSLMODE=prefer: err = %v, want the refusal", err)
	}
	if _, err := pgName("postgres://db1/app?sslmode=disable"); err != nil {
		t.Fatalf("sslmode=disable over PGSSLMODE=prefer: %v", err)
	}
}

// TestIsPostgresURL: key/value strings select PostgreSQL; SQLite paths,
// "sqlite:host=x" included, do not.
func TestIsPostgresURL(t *testing.T) {
	for in, want := range map[string]bool{
		"host=db1 dbname=app":          true,
		" dbname = app":                true,
		"postgres://db1/app":           true,
		"POSTGRESQL://db1/app":         true,
		"data/usersvc.db":              false,
		"sqlite:host=x.db":             false,
		"/var/lib/usersvc/host=x/u.db": false,
		"sqlite:/var/lib/usersvc/u.db": false,
	} {
		if got := IsPostgresURL(in); got != want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", in, got, want)
		}
	}
}
