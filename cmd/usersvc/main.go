// Command usersvc serves the user API and administers its database.
//
//	usersvc [serve]        migrate, then serve (the default)
//	usersvc migrate        apply pending schema migrations and exit
//	usersvc user create    create a user; prints its id
//	usersvc user list      list users (id, email, role, status), one a line
//	usersvc token create   create an API token; prints it
//
// Configuration comes from flags and USERSVC_* environment variables (flags win).
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
	"net/http"
	"os"
	"os/signal"
	"strconv"
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
	envErr        error // a bad environment value seen while registering flags
	MetricsAddr   string
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// commonFlags registers the flags every subcommand shares.
func commonFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.DatabaseURL, "database-url", envOr("USERSVC_DATABASE_URL", "data/usersvc.db"), "postgres:// URL, or a SQLite file path (optionally sqlite:path) [USERSVC_DATABASE_URL]")
	fs.StringVar(&c.LogFormat, "log-format", envOr("USERSVC_LOG_FORMAT", "text"), "log format: text or json [USERSVC_LOG_FORMAT]")
	noPrepare, err := strconv.ParseBool(envOr("USERSVC_PG_NO_PREPARE", "false"))
	if err != nil {
		c.envErr = errors.New("USERSVC_PG_NO_PREPARE must be true or false")
	}
	fs.BoolVar(&c.NoPrepare, "pg-no-prepare", noPrepare, "PostgreSQL: send every statement unprepared (behind pgbouncer in transaction mode) [USERSVC_PG_NO_PREPARE=true]")
	maxConns, err := strconv.Atoi(envOr("USERSVC_PG_MAX_CONNS", "16"))
	if err != nil || maxConns < 1 {
		c.envErr = errors.New("USERSVC_PG_MAX_CONNS must be a whole number >= 1")
	}
	fs.IntVar(&c.MaxConns, "pg-max-conns", maxConns, "PostgreSQL: the connection pool's size (the listener and its heartbeats take 2 more) [USERSVC_PG_MAX_CONNS]")
	fs.StringVar(&c.ListenURL, "listen-url", envOr("USERSVC_LISTEN_URL", ""), "PostgreSQL: a direct URL for the change listener when the main one goes through a pooler in transaction mode [USERSVC_LISTEN_URL]")
}

func (c *config) check() error {
	if c.envErr != nil {
		return c.envErr
	}
	if c.MaxConns < 1 {
		return errors.New("-pg-max-conns must be >= 1")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("USERSVC_LOG_FORMAT / -log-format must be text or json, not %q", c.LogFormat)
	}
	if strings.TrimSpace(c.DatabaseURL) == "" {
		return errors.New("USERSVC_DATABASE_URL / -database-url must not be empty")
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return fmt.Errorf("USERSVC_CORS_ORIGINS: %q is not an origin (scheme://host[:port])", o)
		}
	}
	return nil
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
			return userList(ctx, args[1:], stdout)
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

func parse(fs *flag.FlagSet, args []string, c *config) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c.check()
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
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	commonFlags(fs, &c)
	if err := parse(fs, args, &c); err != nil {
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
	var c config
	var origins string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&c.Addr, "addr", envOr("USERSVC_ADDR", ":8080"), "listen address [USERSVC_ADDR]")
	fs.StringVar(&origins, "cors-origins", envOr("USERSVC_CORS_ORIGINS", ""), "comma-separated allowed CORS origins [USERSVC_CORS_ORIGINS]")
	introspection, err := strconv.ParseBool(envOr("USERSVC_INTROSPECTION", "true"))
	if err != nil {
		return errors.New("USERSVC_INTROSPECTION must be true or false")
	}
	fs.BoolVar(&c.Introspection, "introspection", introspection, "enable GraphQL introspection [USERSVC_INTROSPECTION]")
	quota, err := strconv.ParseInt(envOr("USERSVC_DAILY_QUOTA", "10000"), 10, 64)
	if err != nil || quota < 0 {
		return errors.New("USERSVC_DAILY_QUOTA must be a whole number >= 0")
	}
	fs.Int64Var(&c.DailyQuota, "daily-quota", quota, "default requests per user per local day [USERSVC_DAILY_QUOTA]")
	ttl, err := time.ParseDuration(envOr("USERSVC_SESSION_TTL", "24h"))
	if err != nil || ttl <= 0 {
		return errors.New("USERSVC_SESSION_TTL must be a positive duration such as 24h")
	}
	fs.DurationVar(&c.SessionTTL, "session-ttl", ttl, "lifetime of sign-in tokens [USERSVC_SESSION_TTL]")
	fs.StringVar(&c.MetricsToken, "metrics-token", envOr("USERSVC_METRICS_TOKEN", ""), "serve /metrics on the public address to this bearer token; empty: not there [USERSVC_METRICS_TOKEN]")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", envOr("USERSVC_METRICS_ADDR", ""), "internal listen address serving /metrics without a token; empty: none [USERSVC_METRICS_ADDR]")
	drain, err := time.ParseDuration(envOr("USERSVC_DRAIN_DELAY", "0s"))
	if err != nil || drain < 0 {
		return errors.New("USERSVC_DRAIN_DELAY must be a duration >= 0 such as 2s")
	}
	fs.DurationVar(&c.DrainDelay, "drain-delay", drain, "on SIGTERM, how long /readyz says 503 while requests are still served, before the listener closes; set it above the load balancer's health-check fall time [USERSVC_DRAIN_DELAY]")
	if err := parse(fs, args, &c); err != nil {
		return err
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if err := c.check(); err != nil {
		return err
	}
	// Every setting is checked before the database is touched.
	if c.DailyQuota < 0 || c.SessionTTL <= 0 {
		return errors.New("-daily-quota must be >= 0 and -session-ttl positive")
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
	meterCtx, stopMeter := context.WithCancel(context.WithoutCancel(ctx))
	meterDone := make(chan struct{})
	go func() {
		defer close(meterDone)
		svc.Meter.Run(meterCtx, time.Second, func(err error) { logger.Error("writing usage counts", "err", err) })
	}()
	defer func() { stopMeter(); <-meterDone }() // the last flush, after the last request
	go func() {
		// Other processes' user changes reach the token cache as notices
		// (PostgreSQL), so cached entries may live 30 s.
		if err := svc.WatchChanges(meterCtx, 30*time.Second); err != nil {
			logger.Error("watching user changes; token cache kept at 1 s", "err", err)
		}
	}()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "database", st.Dialect())
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = server.NewHTTPServer(c.MetricsAddr, metrics.Handler(), server.DefaultTimeouts)
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
		logger.Info("serving metrics", "addr", metricsLn.Addr().String())
	}
	if !playground.Available() {
		logger.Warn(playground.BuildHint)
	}
	select {
	case err := <-errc: // a listener could not start or failed: stop the other
		_ = srv.Close()
		if metricsSrv != nil {
			_ = metricsSrv.Close()
		}
		return err
	case <-ctx.Done():
	}
	stop() // a second SIGINT/SIGTERM ends the process at once
	// Drain: report not ready and keep serving while the load balancer
	// notices, then stop accepting and finish what is in flight.
	draining.Store(true)
	if c.DrainDelay > 0 {
		logger.Info("draining", "for", c.DrainDelay.String())
		time.Sleep(c.DrainDelay)
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if metricsSrv != nil { // last, so the shutdown itself can be watched
		_ = metricsSrv.Shutdown(shutCtx)
	}
	return err
}

func userCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	var in usersvc.NewUserInput
	var role string
	var pwStdin bool
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&in.Name, "name", "", "name")
	fs.StringVar(&in.Email, "email", "", "email")
	fs.StringVar(&in.Country, "country", "", "country")
	fs.StringVar(&in.TimeZone, "time-zone", "", "IANA time zone")
	fs.StringVar(&role, "role", "user", "user or admin")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args, &c); err != nil {
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
func userList(ctx context.Context, args []string, stdout io.Writer) error {
	var c config
	var role, email string
	var deleted bool
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&role, "role", "", "only users with this role (user or admin)")
	fs.StringVar(&email, "email", "", "only the user with this email (case-insensitive)")
	fs.BoolVar(&deleted, "deleted", false, "list soft-deleted users instead of live ones")
	if err := parse(fs, args, &c); err != nil {
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
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&userID, "user", "", "the owner's user id")
	fs.StringVar(&label, "label", "", "a label for the token")
	fs.DurationVar(&ttl, "ttl", 720*time.Hour, "lifetime; 0 for none")
	if err := parse(fs, args, &c); err != nil {
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
