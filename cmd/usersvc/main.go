// Command usersvc serves the user API and administers its database.
//
//	usersvc [serve]        migrate, then serve (the default)
//	usersvc migrate        apply pending schema migrations and exit
//	usersvc user create    create a user; prints its id
//	usersvc user list      list users (id, email, role, status), one a line
//	usersvc token create   create an API token; prints it
//
// Configuration comes from flags and USERSVC_* environment variables: a
// flag given on the command line wins, else its variable, else the
// default; a variable whose flag is given is not even parsed. All of it is
// checked before the database is opened.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"usersvc"
	"usersvc/playground"
	"usersvc/server"
	"usersvc/store"
)

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
	NoPrepare     bool
	ListenURL     string
	MaxConns      int
	MetricsAddr   string
	corsOrigins   string // as given: comma-separated
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
	if s.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", s.fs.Arg(0))
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
	fs.StringVar(&c.DatabaseURL, "database-url", "data/usersvc.db", "postgres:// URL, or a SQLite file path (optionally sqlite:path) [USERSVC_DATABASE_URL]")
	s.bind("database-url", "USERSVC_DATABASE_URL", "must not be empty", func() bool { return strings.TrimSpace(c.DatabaseURL) != "" })
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json [USERSVC_LOG_FORMAT]")
	s.bind("log-format", "USERSVC_LOG_FORMAT", "must be text or json", func() bool { return c.LogFormat == "text" || c.LogFormat == "json" })
	fs.BoolVar(&c.NoPrepare, "pg-no-prepare", false, "PostgreSQL: send every statement unprepared (behind pgbouncer in transaction mode) [USERSVC_PG_NO_PREPARE=true]")
	s.bind("pg-no-prepare", "USERSVC_PG_NO_PREPARE", "must be true or false", nil)
	fs.IntVar(&c.MaxConns, "pg-max-conns", 16, "PostgreSQL: the connection pool's size (the listener and its heartbeats take 2 more) [USERSVC_PG_MAX_CONNS]")
	s.bind("pg-max-conns", "USERSVC_PG_MAX_CONNS", "must be a whole number >= 1", func() bool { return c.MaxConns >= 1 })
	fs.StringVar(&c.ListenURL, "listen-url", "", "PostgreSQL: a direct URL for the change listener when the main one goes through a pooler in transaction mode [USERSVC_LISTEN_URL]")
	s.bind("listen-url", "USERSVC_LISTEN_URL", "", nil)
}

// serveConfig reads serve's configuration from args and the environment,
// and checks all of it.
func serveConfig(args []string, help io.Writer) (config, error) {
	var c config
	s := newSettings("serve", help)
	fs := s.fs
	commonFlags(s, &c)
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
	fs.DurationVar(&c.DrainDelay, "drain-delay", 0, "on SIGTERM, how long /readyz says 503 while requests are still served, before the listener closes; set it above the load balancer's health-check fall time [USERSVC_DRAIN_DELAY]")
	s.bind("drain-delay", "USERSVC_DRAIN_DELAY", "must be a duration >= 0 such as 2s", func() bool { return c.DrainDelay >= 0 })
	return c, s.parse(args)
}

func (c *config) logger(w io.Writer) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "usersvc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := command(ctx, args, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the flags
	}
	return err
}

func command(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, stderr)
	case "user":
		if len(args) > 0 && args[0] == "list" {
			return userList(ctx, args[1:], stdout, stderr)
		}
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: usersvc user create --name N --email E --country C --time-zone TZ [--role admin|user] [--password-stdin] | usersvc user list [--role admin|user] [--email E] [--deleted]")
		}
		return userCreate(ctx, args[1:], stdin, stdout, stderr)
	case "token":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: usersvc token create --user ID [--label L] [--ttl 720h]")
		}
		return tokenCreate(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (serve, migrate, user create, user list, token create)", cmd)
}

// open connects and migrates.
func open(ctx context.Context, c *config) (*store.Store, error) {
	st, err := store.Open(ctx, c.DatabaseURL, store.Options{NoPrepare: c.NoPrepare, ListenURL: c.ListenURL, MaxOpenConns: c.MaxConns})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func migrate(ctx context.Context, args []string, stderr io.Writer) error {
	var c config
	s := newSettings("migrate", stderr)
	commonFlags(s, &c)
	if err := s.parse(args); err != nil {
		return err
	}
	st, err := store.Open(ctx, c.DatabaseURL, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.ApplyMigrations(ctx)
	if err != nil {
		return err
	}
	if res.Baseline != "" {
		fmt.Fprintf(stderr, "recorded %s as applied: the database already had its schema\n", res.Baseline)
	}
	for _, f := range res.Applied {
		fmt.Fprintf(stderr, "applied %s\n", f)
	}
	fmt.Fprintf(stderr, "schema is up to date at version %s\n", res.Version)
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := serveConfig(args, stderr) // all of it checked before the database is touched
	if err != nil {
		return err
	}
	logger := c.logger(stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := open(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := usersvc.NewService(st)
	svc.DailyQuota, svc.SessionTTL = c.DailyQuota, c.SessionTTL
	// Bind first: the first admin's one-time token is printed only by a
	// process that can serve, never by one that is about to exit.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	var metricsLn net.Listener
	if c.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", c.MetricsAddr); err != nil {
			return err
		}
		defer metricsLn.Close()
	}
	token, created, err := svc.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("creating the first admin: %w", err)
	}
	if created {
		fmt.Fprintf(stdout, "Created the first admin (%s). Its API token, shown only this once:\n%s\n", usersvc.BootstrapAdmin.Email, token)
	}
	metrics := server.NewMetrics(st.DB())
	svc.Meter.Flushed = metrics.UsageFlushed
	var draining atomic.Bool
	closing := make(chan struct{})
	srv := server.NewHTTPServer(c.Addr, server.New(svc, server.Config{CORSOrigins: c.CORSOrigins, Introspection: c.Introspection, Logger: logger,
		Metrics: metrics, MetricsToken: c.MetricsToken, Draining: &draining, Closing: closing}), server.DefaultTimeouts)
	srv.RegisterOnShutdown(func() { close(closing) })
	// The service's background work (usage flushes, the change watcher)
	// runs until the last request has been served, so its last flush
	// writes that request's count.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		svc.Run(runCtx, usersvc.RunOptions{Logger: logger})
	}()
	defer func() { stopRun(); <-runDone }()
	serving := &server.Serving{Public: srv, PublicLn: ln, Draining: &draining, DrainDelay: c.DrainDelay, Logger: logger}
	logger.Info("serving", "addr", ln.Addr().String(), "database", st.Dialect())
	if metricsLn != nil {
		serving.Internal, serving.InternalLn = server.NewHTTPServer(c.MetricsAddr, metrics.Handler(), server.DefaultTimeouts), metricsLn
		logger.Info("serving metrics", "addr", metricsLn.Addr().String())
	}
	if !playground.Available() {
		logger.Warn(playground.BuildHint)
	}
	return serving.Serve(ctx, stop) // stop: a second SIGINT/SIGTERM ends the process at once
}

func userCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	var in usersvc.NewUserInput
	var role string
	var pwStdin bool
	s := newSettings("user create", stderr)
	fs := s.fs
	commonFlags(s, &c)
	fs.StringVar(&in.Name, "name", "", "name")
	fs.StringVar(&in.Email, "email", "", "email")
	fs.StringVar(&in.Country, "country", "", "country")
	fs.StringVar(&in.TimeZone, "time-zone", "", "IANA time zone")
	fs.StringVar(&role, "role", "user", "user or admin")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := s.parse(args); err != nil {
		return err
	}
	if role != "user" && role != "admin" {
		return fmt.Errorf("--role must be user or admin, not %q", role)
	}
	in.Role = usersvc.Role(role)
	if pwStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading the password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		in.Password = &pw
	}
	st, err := open(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := usersvc.NewService(st).CreateUser(usersvc.SystemContext(ctx), in.Document())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, u.ID)
	return nil
}

// userList prints the users matching the filter, one a line: id, email,
// role and whether they can use the API now (an operator finds an admin's
// id with it to issue a token: see README, Recovering admin access).
func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	var role, email string
	var deleted bool
	s := newSettings("user list", stderr)
	fs := s.fs
	commonFlags(s, &c)
	fs.StringVar(&role, "role", "", "only users with this role (user or admin)")
	fs.StringVar(&email, "email", "", "only the user with this email (case-insensitive)")
	fs.BoolVar(&deleted, "deleted", false, "list soft-deleted users instead of live ones")
	if err := s.parse(args); err != nil {
		return err
	}
	f := usersvc.UserFilter{Deleted: deleted}
	switch role {
	case "":
	case "user", "admin":
		r := usersvc.Role(role)
		f.Role = &r
	default:
		return fmt.Errorf("--role must be user or admin, not %q", role)
	}
	if email != "" {
		f.Email = &email
	}
	st, err := open(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := usersvc.NewService(st)
	sys := usersvc.SystemContext(ctx)
	first := int64(100)
	var after *string
	for {
		page, err := svc.ListUsers(sys, f, &first, after, false)
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, svc.AccountStatus(u))
		}
		if page.NextCursor == nil {
			return nil
		}
		after = page.NextCursor
	}
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	var userID, label string
	var ttl time.Duration
	s := newSettings("token create", stderr)
	fs := s.fs
	commonFlags(s, &c)
	fs.StringVar(&userID, "user", "", "the owner's user id")
	fs.StringVar(&label, "label", "", "a label for the token")
	fs.DurationVar(&ttl, "ttl", 720*time.Hour, "lifetime; 0 for none")
	if err := s.parse(args); err != nil {
		return err
	}
	if userID == "" {
		return errors.New("--user is required")
	}
	st, err := open(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, err := usersvc.NewService(st).CreateToken(usersvc.SystemContext(ctx), userID, label, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
