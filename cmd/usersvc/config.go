package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"usersvc"
	"usersvc/moving"
	"usersvc/store"
)

// defaultDatabaseURL is the SQLite file make run uses; only its folder is
// created when missing.
const defaultDatabaseURL = "data/usersvc.db"

// config is everything the process reads from flags and environment.
type config struct {
	Addr          string
	DatabaseURL   string
	CORSOrigins   []string
	LogFormat     string
	Introspection bool
	DailyQuota    int64
	SessionTTL    time.Duration
	MetricsToken  string
	DrainDelay    time.Duration
	FailoverWait  time.Duration
	NoPrepare     bool
	// Tracing is on when the OTEL_* environment names an endpoint
	// (telemetry.Enabled); it is not a flag of its own.
	Tracing bool
	// TraceResolvers adds a span per resolved GraphQL field when tracing.
	TraceResolvers bool
	ListenURL      string
	// ReadURL, when set, is a PostgreSQL standby serving the plain reads
	// (store.Standby); never migrated, listened on or metered.
	ReadURL     string
	MaxConns    int
	MetricsAddr string
	// HashConcurrency bounds the password hashes running at once; 0 is
	// one per core (GOMAXPROCS).
	HashConcurrency int
	// SpoolDir and SpoolMax: where POST /api/users/import bodies wait for
	// their job, and the bytes they may hold at once.
	SpoolDir string
	SpoolMax int64
	// SCIMAdminGroup is the displayName of the group whose members are
	// admins (usersvc.Service.AdminGroup); "" for none.
	SCIMAdminGroup string
	corsOrigins    string // as given: comma-separated
}

// settings is one command's flags, some of which a USERSVC_* environment
// variable sets too. The precedence: a flag given on the command line
// wins; else its variable, when set; else the flag's default. A variable
// is parsed only when it is used, so a bad one that a flag overrides is
// ignored. Every value is checked before parse returns, so nothing is
// opened with a setting that is wrong.
type settings struct {
	fs   *flag.FlagSet
	envs []envFlag
	help io.Writer // where -h prints the flags
	// args is how many arguments may follow the flags (import's FILE).
	args int
}

// envFlag ties a flag to its environment variable.
type envFlag struct {
	name, env string
	// want says what a valid value is ("must be true or false"), for the
	// error naming the flag or variable it came from; ok (nil: anything
	// that parses) checks the parsed value.
	want string
	ok   func() bool
	// check, when set, checks the parsed value instead of ok and says
	// what is wrong with it.
	check func() error
}

func newSettings(name string, help io.Writer) *settings {
	return &settings{fs: flag.NewFlagSet(name, flag.ContinueOnError), help: help}
}

// bind makes the environment variable env set the registered flag name
// when the command line does not; the flag's usage ends with [env] (or
// [env=example]) for -h.
func (s *settings) bind(name, env, want string, ok func() bool) {
	s.envs = append(s.envs, envFlag{name: name, env: env, want: want, ok: ok})
}

// bindCheck is bind for a value whose check says what is wrong with it.
func (s *settings) bindCheck(name, env string, check func() error) {
	s.envs = append(s.envs, envFlag{name: name, env: env, check: check})
}

// parse parses args, then takes every bound flag the command line did not
// set from its environment variable, then checks every bound value.
func (s *settings) parse(args []string) error {
	s.fs.SetOutput(io.Discard) // errors are one line, returned
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) && s.help != nil {
			fmt.Fprintf(s.help, "usage: usersvc %s [flags]\n", s.fs.Name())
			s.fs.SetOutput(s.help)
			s.fs.PrintDefaults()
		}
		return err
	}
	if s.fs.NArg() > s.args {
		return fmt.Errorf("unexpected argument %q", s.fs.Arg(s.args))
	}
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, e := range s.envs {
		from := "-" + e.name
		if v, ok := os.LookupEnv(e.env); ok && !given[e.name] {
			from = e.env
			if err := s.fs.Set(e.name, v); err != nil {
				if e.want == "" {
					return fmt.Errorf("%s: %v", e.env, err)
				}
				return fmt.Errorf("%s %s", e.env, e.want)
			}
		}
		if e.ok != nil && !e.ok() {
			return fmt.Errorf("%s %s", from, e.want)
		}
		if e.check != nil {
			if err := e.check(); err != nil {
				return fmt.Errorf("%s: %v", from, err)
			}
		}
	}
	return nil
}

// parseOrigins splits a comma-separated list of CORS origins.
func parseOrigins(v string) ([]string, error) {
	var list []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return nil, fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
		}
		list = append(list, o)
	}
	return list, nil
}

// commonFlags registers the flags every subcommand shares.
func commonFlags(s *settings, c *config) {
	fs := s.fs
	fs.StringVar(&c.DatabaseURL, "database-url", defaultDatabaseURL, "postgres:// URL (libpq's multi-host form too) or key/value string, or a SQLite file path (optionally sqlite:path) [USERSVC_DATABASE_URL]")
	s.bind("database-url", "USERSVC_DATABASE_URL", "must not be empty", func() bool { return strings.TrimSpace(c.DatabaseURL) != "" })
	s.bind("database-url", "USERSVC_DATABASE_URL", "must be a postgres:// or postgresql:// URL, or a SQLite file path (optionally sqlite:path)", func() bool {
		return strings.TrimSpace(c.DatabaseURL) == "" || store.IsPostgresURL(c.DatabaseURL) || store.CheckURL(c.DatabaseURL) == nil
	})
	s.bindCheck("database-url", "USERSVC_DATABASE_URL", func() error { return checkPostgresURL(c.DatabaseURL, false) })
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json [USERSVC_LOG_FORMAT]")
	s.bind("log-format", "USERSVC_LOG_FORMAT", "must be text or json", func() bool { return c.LogFormat == "text" || c.LogFormat == "json" })
	fs.BoolVar(&c.NoPrepare, "pg-no-prepare", false, "PostgreSQL: send every statement unprepared (behind pgbouncer in transaction mode) [USERSVC_PG_NO_PREPARE=true]")
	s.bind("pg-no-prepare", "USERSVC_PG_NO_PREPARE", "must be true or false", nil)
	fs.IntVar(&c.MaxConns, "pg-max-conns", 16, "PostgreSQL: writes run at once, first come first served (the pool holds 4 more connections, the change-log follower up to 3) [USERSVC_PG_MAX_CONNS]")
	s.bind("pg-max-conns", "USERSVC_PG_MAX_CONNS", "must be a whole number >= 1", func() bool { return c.MaxConns >= 1 })
	fs.StringVar(&c.ListenURL, "listen-url", "", "PostgreSQL: a direct URL for the change listener when the main one goes through a pooler in transaction mode [USERSVC_LISTEN_URL]")
	s.bindCheck("listen-url", "USERSVC_LISTEN_URL", func() error { return checkPostgresURL(c.ListenURL, true) })
}

// checkPostgresURL checks a PostgreSQL URL or key/value string
// (store.CheckURL: libpq's multi-host form, no sslmode=prefer or allow);
// only is set for a setting that takes nothing else (the listen URL).
func checkPostgresURL(url string, only bool) error {
	switch {
	case url == "":
		return nil
	case !store.IsPostgresURL(url):
		if only {
			return fmt.Errorf("%q is not a postgres:// URL or key/value connection string", url)
		}
		return nil
	}
	return store.CheckURL(url)
}

// serveConfig reads serve's configuration from args and the environment,
// and checks all of it.
func serveConfig(args []string, help io.Writer) (config, error) {
	var c config
	err := serveSettings(&c, help).parse(args) // fills c
	return c, err
}

// serveSettings declares serve's flags and their variables into c.
func serveSettings(c *config, help io.Writer) *settings {
	s := newSettings("serve", help)
	fs := s.fs
	commonFlags(s, c)
	fs.StringVar(&c.Addr, "addr", ":8080", "listen address [USERSVC_ADDR]")
	s.bind("addr", "USERSVC_ADDR", "", nil)
	fs.StringVar(&c.corsOrigins, "cors-origins", "", "comma-separated allowed CORS origins [USERSVC_CORS_ORIGINS]")
	s.bindCheck("cors-origins", "USERSVC_CORS_ORIGINS", func() (err error) {
		c.CORSOrigins, err = parseOrigins(c.corsOrigins)
		return err
	})
	fs.BoolVar(&c.Introspection, "introspection", true, "enable GraphQL introspection [USERSVC_INTROSPECTION]")
	s.bind("introspection", "USERSVC_INTROSPECTION", "must be true or false", nil)
	fs.Int64Var(&c.DailyQuota, "daily-quota", 10000, "default requests per user per local day [USERSVC_DAILY_QUOTA]")
	s.bind("daily-quota", "USERSVC_DAILY_QUOTA", "must be a whole number >= 0", func() bool { return c.DailyQuota >= 0 })
	fs.DurationVar(&c.SessionTTL, "session-ttl", 24*time.Hour, "lifetime of sign-in tokens [USERSVC_SESSION_TTL]")
	s.bind("session-ttl", "USERSVC_SESSION_TTL", "must be a positive duration such as 24h", func() bool { return c.SessionTTL > 0 })
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "serve /metrics on the public address to this bearer token; empty: not there [USERSVC_METRICS_TOKEN]")
	s.bind("metrics-token", "USERSVC_METRICS_TOKEN", "", nil)
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "internal listen address serving /metrics without a token; empty: none [USERSVC_METRICS_ADDR]")
	s.bind("metrics-addr", "USERSVC_METRICS_ADDR", "", nil)
	fs.BoolVar(&c.TraceResolvers, "trace-resolvers", false, "with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), also a span per GraphQL field a resolver computes [USERSVC_TRACE_RESOLVERS]")
	s.bind("trace-resolvers", "USERSVC_TRACE_RESOLVERS", "must be true or false", nil)
	fs.IntVar(&c.HashConcurrency, "hash-concurrency", 0, "password hashes (sign-in checks, new passwords) run at once in the process; 0: one per core (GOMAXPROCS) [USERSVC_HASH_CONCURRENCY]")
	s.bind("hash-concurrency", "USERSVC_HASH_CONCURRENCY", "must be a whole number >= 0", func() bool { return c.HashConcurrency >= 0 })
	fs.DurationVar(&c.DrainDelay, "drain-delay", 0, "on SIGTERM, how long /readyz says 503 while requests are still served, before the listener closes; set it above the load balancer's health-check fall time [USERSVC_DRAIN_DELAY]")
	s.bind("drain-delay", "USERSVC_DRAIN_DELAY", "must be a duration >= 0 such as 2s", func() bool { return c.DrainDelay >= 0 })
	fs.DurationVar(&c.FailoverWait, "failover-wait", usersvc.DefaultFailoverWait, "how long a write that failed before the database applied anything waits for a new primary, running again; 0: answer 503 at once [USERSVC_FAILOVER_WAIT]")
	s.bind("failover-wait", "USERSVC_FAILOVER_WAIT", "must be a duration >= 0 such as 5s", func() bool { return c.FailoverWait >= 0 })
	fs.StringVar(&c.SpoolDir, "spool-dir", "", "directory where import bodies wait for their job; files a crash left are removed at start; empty: usersvc-spool in the OS temp directory [USERSVC_SPOOL_DIR]")
	s.bind("spool-dir", "USERSVC_SPOOL_DIR", "", nil)
	fs.Int64Var(&c.SpoolMax, "spool-max-bytes", moving.DefaultSpoolMax, "bytes the spooled import bodies may hold at once; an upload past it answers 503 (413 when it alone is larger) [USERSVC_SPOOL_MAX_BYTES]")
	s.bind("spool-max-bytes", "USERSVC_SPOOL_MAX_BYTES", "must be a whole number >= 1", func() bool { return c.SpoolMax >= 1 })
	fs.StringVar(&c.SCIMAdminGroup, "scim-admin-group", "", "displayName (any case) of the group whose members are admins: joining it promotes, leaving it demotes; give every process the same; empty: none [USERSVC_SCIM_ADMIN_GROUP]")
	s.bind("scim-admin-group", "USERSVC_SCIM_ADMIN_GROUP", "", nil)
	fs.StringVar(&c.ReadURL, "read-url", "", "PostgreSQL: a standby (such as ?target_session_attrs=prefer-standby) serving lists, histories, exports and reads of other users, never older than the call; empty: every read on the database URL [USERSVC_READ_URL]")
	s.bindCheck("read-url", "USERSVC_READ_URL", func() error {
		if c.ReadURL != "" && !store.IsPostgresURL(c.DatabaseURL) {
			return errors.New("reads from a standby need PostgreSQL, and the database URL is a SQLite file: leave it empty")
		}
		return checkPostgresURL(c.ReadURL, true)
	})
	return s
}

func (c *config) logger(w io.Writer) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
