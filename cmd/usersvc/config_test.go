package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEnvPrecedence: a flag on the command line wins over its environment
// variable, which wins over the default; a bad variable that a flag
// overrides is ignored, and one that is used is an error naming it.
func TestEnvPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    func(c config) any // the setting under test
		value   any                // its expected value, when no error
		wantErr string
	}{
		{"default", nil, nil, func(c config) any { return c.DailyQuota }, int64(10000), ""},
		{"env", map[string]string{"USERSVC_DAILY_QUOTA": "7"}, nil, func(c config) any { return c.DailyQuota }, int64(7), ""},
		{"admin group off by default", nil, nil, func(c config) any { return c.SCIMAdminGroup }, "", ""},
		{"admin group from env", map[string]string{"USERSVC_SCIM_ADMIN_GROUP": "Fleet Admins"}, nil, func(c config) any { return c.SCIMAdminGroup }, "Fleet Admins", ""},
		{"admin group flag wins", map[string]string{"USERSVC_SCIM_ADMIN_GROUP": "A"}, []string{"-scim-admin-group", "B"}, func(c config) any { return c.SCIMAdminGroup }, "B", ""},
		{"flag wins over a good env", map[string]string{"USERSVC_DAILY_QUOTA": "7"}, []string{"-daily-quota", "5"}, func(c config) any { return c.DailyQuota }, int64(5), ""},
		{"flag overrides a bad env", map[string]string{"USERSVC_DAILY_QUOTA": "lots"}, []string{"-daily-quota", "5"}, func(c config) any { return c.DailyQuota }, int64(5), ""},
		{"flag overrides an env out of range", map[string]string{"USERSVC_DAILY_QUOTA": "-3"}, []string{"-daily-quota", "0"}, func(c config) any { return c.DailyQuota }, int64(0), ""},
		{"bad env, no flag", map[string]string{"USERSVC_DAILY_QUOTA": "lots"}, nil, nil, nil, "USERSVC_DAILY_QUOTA must be a whole number >= 0"},
		{"env out of range, no flag", map[string]string{"USERSVC_DAILY_QUOTA": "-3"}, nil, nil, nil, "USERSVC_DAILY_QUOTA must be a whole number >= 0"},
		{"flag out of range over a good env", map[string]string{"USERSVC_DAILY_QUOTA": "7"}, []string{"-daily-quota", "-1"}, nil, nil, "-daily-quota must be a whole number >= 0"},

		{"bool: flag overrides a bad env", map[string]string{"USERSVC_INTROSPECTION": "maybe"}, []string{"-introspection=false"}, func(c config) any { return c.Introspection }, false, ""},
		{"bool: good env", map[string]string{"USERSVC_INTROSPECTION": "false"}, nil, func(c config) any { return c.Introspection }, false, ""},
		{"bool: bad env, no flag", map[string]string{"USERSVC_INTROSPECTION": "maybe"}, nil, nil, nil, "USERSVC_INTROSPECTION must be true or false"},
		{"bool: flag wins over a good env", map[string]string{"USERSVC_PG_NO_PREPARE": "true"}, []string{"-pg-no-prepare=false"}, func(c config) any { return c.NoPrepare }, false, ""},

		{"duration: flag overrides a bad env", map[string]string{"USERSVC_SESSION_TTL": "a day"}, []string{"-session-ttl", "2h"}, func(c config) any { return c.SessionTTL }, 2 * time.Hour, ""},
		{"duration: bad env, no flag", map[string]string{"USERSVC_SESSION_TTL": "a day"}, nil, nil, nil, "USERSVC_SESSION_TTL must be a positive duration such as 24h"},
		{"duration: zero env, no flag", map[string]string{"USERSVC_SESSION_TTL": "0s"}, nil, nil, nil, "USERSVC_SESSION_TTL must be a positive duration such as 24h"},
		{"duration: zero flag", nil, []string{"-session-ttl", "0s"}, nil, nil, "-session-ttl must be a positive duration such as 24h"},
		{"duration: negative drain delay flag", nil, []string{"-drain-delay", "-1s"}, nil, nil, "-drain-delay must be a duration >= 0 such as 2s"},
		{"duration: negative failover wait", map[string]string{"USERSVC_FAILOVER_WAIT": "-1s"}, nil, nil, nil, "USERSVC_FAILOVER_WAIT must be a duration >= 0 such as 5s"},
		{"duration: negative drain delay env", map[string]string{"USERSVC_DRAIN_DELAY": "-1s"}, nil, nil, nil, "USERSVC_DRAIN_DELAY must be a duration >= 0 such as 2s"},

		{"int: flag overrides a bad env", map[string]string{"USERSVC_PG_MAX_CONNS": "0"}, []string{"-pg-max-conns", "4"}, func(c config) any { return c.MaxConns }, 4, ""},
		{"int: bad env, no flag", map[string]string{"USERSVC_PG_MAX_CONNS": "many"}, nil, nil, nil, "USERSVC_PG_MAX_CONNS must be a whole number >= 1"},
		{"int: flag out of range", nil, []string{"-pg-max-conns", "0"}, nil, nil, "-pg-max-conns must be a whole number >= 1"},
		{"hash concurrency: default", nil, nil, func(c config) any { return c.HashConcurrency }, 0, ""},
		{"hash concurrency: env", map[string]string{"USERSVC_HASH_CONCURRENCY": "3"}, nil, func(c config) any { return c.HashConcurrency }, 3, ""},
		{"hash concurrency: negative env", map[string]string{"USERSVC_HASH_CONCURRENCY": "-1"}, nil, nil, nil, "USERSVC_HASH_CONCURRENCY must be a whole number >= 0"},

		{"string: flag overrides a bad env", map[string]string{"USERSVC_LOG_FORMAT": "xml"}, []string{"-log-format", "json"}, func(c config) any { return c.LogFormat }, "json", ""},
		{"string: bad env, no flag", map[string]string{"USERSVC_LOG_FORMAT": "xml"}, nil, nil, nil, "USERSVC_LOG_FORMAT must be text or json"},
		{"string: empty database url env", map[string]string{"USERSVC_DATABASE_URL": " "}, nil, nil, nil, "USERSVC_DATABASE_URL must not be empty"},
		{"database url: a misspelt scheme", map[string]string{"USERSVC_DATABASE_URL": "postgress://db/users"}, nil, nil, nil, "USERSVC_DATABASE_URL must be a postgres:// or postgresql:// URL, or a SQLite file path (optionally sqlite:path)"},
		{"database url: another scheme", nil, []string{"-database-url", "pg://db/users"}, nil, nil, "-database-url must be a postgres:// or postgresql:// URL, or a SQLite file path (optionally sqlite:path)"},
		{"database url: the scheme in capitals is PostgreSQL", map[string]string{"USERSVC_DATABASE_URL": "PostgreSQL://db/users"}, nil, func(c config) any { return c.DatabaseURL }, "PostgreSQL://db/users", ""},
		{"database url: libpq's multi-host URI", map[string]string{"USERSVC_DATABASE_URL": "postgres://127.0.0.1:5502,127.0.0.1:5503/app?target_session_attrs=read-write&sslmode=disable"}, nil, func(c config) any { return c.DatabaseURL }, "postgres://127.0.0.1:5502,127.0.0.1:5503/app?target_session_attrs=read-write&sslmode=disable", ""},
		{"database url: a key/value string", nil, []string{"-database-url", "host=db1,db2 port=5502,5503 dbname=app sslmode=disable"}, func(c config) any { return c.DatabaseURL }, "host=db1,db2 port=5502,5503 dbname=app sslmode=disable", ""},
		{"database url: sslmode=prefer is refused", map[string]string{"USERSVC_DATABASE_URL": "postgres://127.0.0.1:5502,127.0.0.1:5503/app?target_session_attrs=read-write&sslmode=prefer"}, nil, nil, nil, "USERSVC_DATABASE_URL: sslmode=prefer leaks a socket per connection with lib/pq when the server has no TLS: use sslmode=disable (no TLS) or sslmode=require (or verify-ca, verify-full)"},
		{"database url: sslmode=allow is refused", nil, []string{"-database-url", "host=db1 sslmode=allow"}, nil, nil, "-database-url: sslmode=allow leaks a socket per connection with lib/pq when the server has no TLS: use sslmode=disable (no TLS) or sslmode=require (or verify-ca, verify-full)"},
		{"listen url: libpq's multi-host URI", map[string]string{"USERSVC_LISTEN_URL": "postgres://db1:5502,db2:5503/app?sslmode=require"}, nil, func(c config) any { return c.ListenURL }, "postgres://db1:5502,db2:5503/app?sslmode=require", ""},
		{"listen url: sslmode=prefer is refused", map[string]string{"USERSVC_LISTEN_URL": "postgres://db1/app?sslmode=prefer"}, nil, nil, nil, "USERSVC_LISTEN_URL: sslmode=prefer leaks a socket per connection with lib/pq when the server has no TLS: use sslmode=disable (no TLS) or sslmode=require (or verify-ca, verify-full)"},
		{"listen url: not PostgreSQL", nil, []string{"-listen-url", "data/x.db"}, nil, nil, `-listen-url: "data/x.db" is not a postgres:// URL or key/value connection string`},
		{"read url: libpq's multi-host URI with a standby preferred", map[string]string{"USERSVC_DATABASE_URL": "postgres://db1:5502,db2:5503/app?sslmode=require", "USERSVC_READ_URL": "postgres://db1:5502,db2:5503/app?sslmode=require&target_session_attrs=prefer-standby"}, nil, func(c config) any { return c.ReadURL }, "postgres://db1:5502,db2:5503/app?sslmode=require&target_session_attrs=prefer-standby", ""},
		{"read url: refused with SQLite", map[string]string{"USERSVC_READ_URL": "postgres://db2/app?sslmode=disable"}, nil, nil, nil, "USERSVC_READ_URL: reads from a standby need PostgreSQL, and the database URL is a SQLite file: leave it empty"},
		{"read url: not PostgreSQL", map[string]string{"USERSVC_DATABASE_URL": "postgres://db1/app?sslmode=disable"}, []string{"-read-url", "data/x.db"}, nil, nil, `-read-url: "data/x.db" is not a postgres:// URL or key/value connection string`},
		{"read url: an unknown target_session_attrs", map[string]string{"USERSVC_DATABASE_URL": "postgres://db1/app?sslmode=disable", "USERSVC_READ_URL": "postgres://db2/app?sslmode=disable&target_session_attrs=replica"}, nil, nil, nil, `USERSVC_READ_URL: pq: wrong value for "target_session_attrs": "replica" is not supported; supported values are any, read-write, read-only, primary, standby, or prefer-standby`},
		{"database url: a SQLite path", nil, []string{"-database-url", "sqlite:/var/lib/usersvc/u.db"}, func(c config) any { return c.DatabaseURL }, "sqlite:/var/lib/usersvc/u.db", ""},
		{"string: flag wins over a good env", map[string]string{"USERSVC_ADDR": ":1"}, []string{"-addr", ":2"}, func(c config) any { return c.Addr }, ":2", ""},
		{"string: env", map[string]string{"USERSVC_ADDR": ":1"}, nil, func(c config) any { return c.Addr }, ":1", ""},

		{"list: env", map[string]string{"USERSVC_CORS_ORIGINS": " https://a.example, http://b.example:8080 ,"}, nil, func(c config) any { return strings.Join(c.CORSOrigins, "|") }, "https://a.example|http://b.example:8080", ""},
		{"list: flag overrides a bad env", map[string]string{"USERSVC_CORS_ORIGINS": "a.example"}, []string{"-cors-origins", "*"}, func(c config) any { return strings.Join(c.CORSOrigins, "|") }, "*", ""},
		{"list: bad env, no flag", map[string]string{"USERSVC_CORS_ORIGINS": "https://a.example,b.example"}, nil, nil, nil, `USERSVC_CORS_ORIGINS: "b.example" is not an origin (scheme://host[:port])`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := serveConfig(tc.args, nil)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.want(c); got != tc.value {
				t.Fatalf("got %v (%T), want %v (%T)", got, got, tc.value, tc.value)
			}
		})
	}
}

// clearEnv unsets every USERSVC_* variable for the test (restored after).
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "USERSVC_") {
			t.Setenv(k, "") // registers the restore
			os.Unsetenv(k)
		}
	}
}

// TestConfigBeforeDatabase: a bad setting is reported as such even when
// the database cannot be opened: configuration is checked first. The
// control case shows that database really fails to open.
func TestConfigBeforeDatabase(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(notDir, "x.db") // its directory is a file
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"control: good configuration", nil, []string{"serve", "-addr", "127.0.0.1:0"}, "not a directory"},
		{"bad quota flag", nil, []string{"serve", "-daily-quota", "-1"}, "-daily-quota must be a whole number >= 0"},
		{"bad session ttl flag", nil, []string{"serve", "-session-ttl", "0s"}, "-session-ttl must be a positive duration such as 24h"},
		{"bad session ttl env", map[string]string{"USERSVC_SESSION_TTL": "soon"}, []string{"serve"}, "USERSVC_SESSION_TTL must be a positive duration such as 24h"},
		{"bad drain delay", nil, []string{"serve", "-drain-delay", "-2s"}, "-drain-delay must be a duration >= 0 such as 2s"},
		{"bad cors origin", nil, []string{"serve", "-cors-origins", "example.com"}, "is not an origin"},
		{"bad pool size env", map[string]string{"USERSVC_PG_MAX_CONNS": "0"}, []string{"serve"}, "USERSVC_PG_MAX_CONNS must be a whole number >= 1"},
		{"migrate: bad log format", nil, []string{"migrate", "-log-format", "xml"}, "-log-format must be text or json"},
		{"user create: bad role", nil, []string{"user", "create", "--role", "root"}, "--role must be user or admin"},
		{"user list: bad pool size", nil, []string{"user", "list", "-pg-max-conns", "0"}, "-pg-max-conns must be a whole number >= 1"},
		{"token create: no user", nil, []string{"token", "create"}, "--user is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), append(tc.args, "-database-url", db), strings.NewReader(""), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestHelp: -h prints every flag, each with the variable that also sets
// it and its default (not the variable's value), and is not an error.
func TestHelp(t *testing.T) {
	clearEnv(t)
	t.Setenv("USERSVC_DAILY_QUOTA", "7")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"serve", "-h"}, nil, &out, &errb); err != nil {
		t.Fatalf("serve -h: %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("stdout: %q", out.String())
	}
	help := map[string]string{} // flag → its lines
	for _, block := range strings.Split(errb.String(), "\n  -")[1:] {
		name, _, _ := strings.Cut(block, " ")
		name, _, _ = strings.Cut(name, "\n")
		help[name] = block
	}
	want := map[string]string{
		"addr": "[USERSVC_ADDR]", "cors-origins": "[USERSVC_CORS_ORIGINS]", "daily-quota": "[USERSVC_DAILY_QUOTA] (default 10000)",
		"database-url": `[USERSVC_DATABASE_URL] (default "data/usersvc.db")`, "drain-delay": "[USERSVC_DRAIN_DELAY]",
		"failover-wait": "[USERSVC_FAILOVER_WAIT] (default 5s)",
		"introspection": "[USERSVC_INTROSPECTION] (default true)", "listen-url": "[USERSVC_LISTEN_URL]", "read-url": "[USERSVC_READ_URL]",
		"log-format": `[USERSVC_LOG_FORMAT] (default "text")`, "metrics-addr": "[USERSVC_METRICS_ADDR]",
		"metrics-token": "[USERSVC_METRICS_TOKEN]", "pg-max-conns": "[USERSVC_PG_MAX_CONNS] (default 16)",
		"pg-no-prepare": "[USERSVC_PG_NO_PREPARE=true]", "session-ttl": "[USERSVC_SESSION_TTL] (default 24h0m0s)",
		"trace-resolvers": "[USERSVC_TRACE_RESOLVERS]", "hash-concurrency": "[USERSVC_HASH_CONCURRENCY]",
		"spool-dir": "[USERSVC_SPOOL_DIR]", "spool-max-bytes": "[USERSVC_SPOOL_MAX_BYTES] (default 4294967296)",
		"scim-admin-group": "[USERSVC_SCIM_ADMIN_GROUP]",
	}
	if len(help) != len(want) {
		t.Errorf("-h lists %d flags, want %d:\n%s", len(help), len(want), errb.String())
	}
	for name, env := range want {
		if !strings.Contains(help[name], env) {
			t.Errorf("-h for -%s: %q, want it to contain %q", name, help[name], env)
		}
	}
}

// TestCommandList: usersvc help, -h and --help list every command (they
// were "unknown command" and serve's flags), on stdout, without an error.
func TestCommandList(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, nil, &out, &errb); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, want := range []string{"usersvc [serve]", "usersvc migrate", "usersvc user create", "usersvc user list", "usersvc token create", "-h"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: no %q in %q", args, want, out.String())
			}
		}
	}
}
