// Command usersvc serves the user API and administers its database.
//
//	usersvc [serve]        migrate, then serve (the default)
//	usersvc migrate        apply pending schema migrations and exit
//	usersvc user create    create a user; prints its id
//	usersvc user list      list users (id, email, role, status), one a line
//	usersvc token create   create an API token; prints it
//	usersvc import FILE    bring users in from NDJSON (docs/import.md)
//	usersvc export         write every user as NDJSON
//
// Configuration comes from flags and USERSVC_* environment variables: a
// flag given on the command line wins, else its variable, else the
// default; a variable whose flag is given is not even parsed. All of it is
// checked before the database is opened.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"

	"usersvc"
	"usersvc/internal/hashgate"
	"usersvc/moving"
	"usersvc/playground"
	"usersvc/server"
	"usersvc/store"
	"usersvc/telemetry"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "usersvc:", describe(err))
		var ex *exitError
		if errors.As(err, &ex) {
			os.Exit(ex.code)
		}
		os.Exit(1)
	}
}

// describe is err as the command line prints it: the message, and for an
// internal, unavailable or timed-out error its cause too (a server writes
// the cause to its log; the command line has only this line).
func describe(err error) string {
	var e *usersvc.Error
	if errors.As(err, &e) && e.Err != nil {
		switch e.Code {
		case usersvc.EInternal, usersvc.EUnavailable, usersvc.ETimeout:
			return err.Error() + " (cause: " + e.Err.Error() + ")"
		}
	}
	return err.Error()
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := command(ctx, args, stdin, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the flags
	}
	return err
}

// usage lists the commands (usersvc help, usersvc -h).
const usage = `usersvc: the user API server and its administration commands

usage:
  usersvc [serve] [flags]   migrate, create the first admin if the database is empty, serve
  usersvc migrate [flags]   apply pending schema migrations and exit
  usersvc user create --name N --email E --country C --time-zone TZ [--role admin|user] [--password-stdin]
  usersvc user list [--role admin|user] [--email E] [--deleted]
  usersvc token create --user ID [--label L] [--ttl 720h]
  usersvc import [--mode create|upsert] [--dry-run] FILE|-
                            bring users in from NDJSON; exit 0, 1 if lines failed, 2 on a usage error
  usersvc export [--with-password-hashes]
                            every user as NDJSON on standard output
  usersvc help              this text

Every command takes the database flags (-database-url, USERSVC_DATABASE_URL);
"usersvc <command> -h" lists a command's flags and their variables.
`

func command(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		_, err := io.WriteString(stdout, usage)
		return err
	}
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
	case "import":
		return importCmd(ctx, args, stdin, stdout, stderr)
	case "export":
		return exportCmd(ctx, args, stdout, stderr)
	case "token":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: usersvc token create --user ID [--label L] [--ttl 720h]")
		}
		return tokenCreate(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (serve, migrate, user create, user list, token create, import, export; usersvc help says more)", cmd)
}

// open connects and migrates. Only serve may create a SQLite database
// (create is true for it): every other command run from the wrong
// directory, or with a mistyped path, would otherwise act on a new empty
// database (list no one, find no one) exactly when someone is recovering
// access; serve says on one line when it created one.
func open(ctx context.Context, c *config, create bool, stderr io.Writer) (*store.Store, error) {
	path := store.SQLitePath(c.DatabaseURL)
	created := false
	if path != "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if !create {
				abs, _ := filepath.Abs(path)
				return nil, fmt.Errorf("no database at %s (only serve and migrate create one); point -database-url or USERSVC_DATABASE_URL at the server's database", abs)
			}
			created = true
		}
	}
	st, err := store.Open(ctx, c.DatabaseURL, store.Options{NoPrepare: c.NoPrepare, ListenURL: c.ListenURL, MaxOpenConns: c.MaxConns, CreateDir: c.DatabaseURL == defaultDatabaseURL, Tracing: c.Tracing})
	if err == nil && created {
		abs, _ := filepath.Abs(path)
		fmt.Fprintf(stderr, "usersvc: created a new SQLite database at %s\n", abs)
	}
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
	st, err := store.Open(ctx, c.DatabaseURL, store.Options{CreateDir: c.DatabaseURL == defaultDatabaseURL})
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
	stopTracing, err := telemetry.Start(ctx, logger) // OTEL_* variables; nothing without an endpoint
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = stopTracing(sctx) // the last spans, within 5 s
	}()
	c.Tracing = telemetry.Enabled()

	st, err := open(ctx, &c, true, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := usersvc.NewService(st)
	if c.ReadURL != "" {
		standby, err := store.OpenStandby(ctx, c.ReadURL, st, store.Options{NoPrepare: c.NoPrepare, MaxOpenConns: c.MaxConns, Tracing: c.Tracing})
		if err != nil {
			return err
		}
		defer standby.Close()
		svc.Reader = standby
	}
	svc.DailyQuota, svc.SessionTTL, svc.AdminGroup, svc.FailoverWait = c.DailyQuota, c.SessionTTL, c.SCIMAdminGroup, c.FailoverWait
	svc.Hashes = hashgate.New(c.HashConcurrency)
	jobs := moving.NewJobs(svc, st)
	if err := useSpool(jobs, c, logger); err != nil {
		return err
	}
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
		fmt.Fprintf(stdout, "Created the first admin (%s). Its API token, shown only this once:\n%s\n", usersvc.BootstrapAdminEmail, token)
	}
	metrics := server.NewMetrics(st.DB())
	svc.Meter.Flushed = metrics.UsageFlushed
	if c.Tracing {
		svc.Meter.Traces = otel.GetTracerProvider() // a flush that writes is a trace of its own
	}
	var draining atomic.Bool
	closing := make(chan struct{})
	srv := server.NewHTTPServer(c.Addr, server.New(svc, server.Config{CORSOrigins: c.CORSOrigins, Introspection: c.Introspection, Logger: logger,
		Metrics: metrics, MetricsToken: c.MetricsToken, Draining: &draining, Closing: closing, Tracing: c.Tracing, TraceResolvers: c.TraceResolvers, Imports: jobs}), server.DefaultTimeouts())
	srv.RegisterOnShutdown(func() { close(closing) })
	// The service's background work (usage flushes, the change watcher)
	// and the import jobs' (interrupted jobs failed and old ones removed at
	// start; at the end, running jobs stopped and recorded) run until the
	// last request has been served, so the last flush writes that
	// request's count and no job is left running.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	var runWG sync.WaitGroup
	runWG.Add(2)
	go func() {
		defer runWG.Done()
		svc.Run(runCtx, usersvc.RunOptions{Logger: logger})
	}()
	go func() {
		defer runWG.Done()
		jobs.Run(runCtx, logger)
	}()
	defer func() { stopRun(); runWG.Wait() }()
	serving := &server.Serving{Public: srv, PublicLn: ln, Draining: &draining, DrainDelay: c.DrainDelay, Logger: logger}
	logger.Info("serving", "addr", ln.Addr().String(), "database", st.Dialect(), "standby_reads", c.ReadURL != "")
	if metricsLn != nil {
		serving.Internal, serving.InternalLn = server.NewHTTPServer(c.MetricsAddr, metrics.Handler(), server.DefaultTimeouts()), metricsLn
		logger.Info("serving metrics", "addr", metricsLn.Addr().String())
	}
	if !playground.Available() {
		logger.Warn(playground.BuildHint)
	}
	return serving.Serve(ctx, stop) // stop: a second SIGINT/SIGTERM ends the process at once
}
