// Command cluster runs three usersvc replicas on one PostgreSQL database
// behind HAProxy (from Debian's packages), on loopback.
//
//	go run ./e2e/cluster -mode serve   # make cluster: run until Ctrl-C
//	go run ./e2e/cluster -mode test    # the rolling-restart test (scripts/live.sh)
//	go run ./e2e/cluster -mode pooler -pgbouncer /usr/sbin/pgbouncer
//
// The pooler mode runs two replicas whose database URL is pgbouncer in
// transaction mode (fewer server connections than replica connections,
// so they are shared), with USERSVC_PG_NO_PREPARE=true and the change
// listener and migrations on a direct USERSVC_LISTEN_URL, under the same
// mixed load plus GraphQL queries and no restarts; it passes on the same
// terms (no failed request, tags and usage exact).
//
// The test runs a mixed load (GETs, PATCHes adding distinct tags, sign-ins)
// through HAProxy for -duration while it restarts every replica in turn
// (SIGTERM, wait for exit, start again), with HAProxy retrying nothing
// (retries 0, no redispatch). It passes when no client request failed,
// every acknowledged tag is stored, every user's apiUsage is exact (the subscriber's within the subscribes it cannot know were read)
// afterwards, and a subscription that lost its replica reconnected and kept
// receiving. Everything is bounded in time; the database it creates is
// dropped at the end.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"usersvc/e2e/internal/harness"
)

var (
	mode     = flag.String("mode", "test", "serve (run until interrupted), test (the rolling-restart test), pooler (two replicas through pgbouncer in transaction mode) or scale (writes on 1 vs 3 replicas; metering at -users 3000 with a kill -9)")
	bouncer  = flag.String("pgbouncer", "pgbouncer", "the pgbouncer binary (pooler mode)")
	pgURL    = flag.String("postgres", envOr("USERSVC_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server to create the cluster's database on")
	bin      = flag.String("bin", "bin/usersvc", "the usersvc binary")
	haproxy  = flag.String("haproxy", "haproxy", "the haproxy binary")
	port     = flag.Int("port", 18080, "HAProxy's port; replicas use the next three")
	duration = flag.Duration("duration", 30*time.Second, "load duration in test mode")
	drain    = flag.Duration("drain", 3*time.Second, "each replica's -drain-delay (above the health check's fall time, 2 x 500 ms, with a second to spare for a busy machine)")
	users    = flag.Int("users", 50, "users under load")
	procs    = flag.Int("replica-procs", 0, "GOMAXPROCS of each replica (0: Go's default, every core)")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if err := run(); err != nil {
		log.Printf("FAIL: %v", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "usersvc-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbURL, dropDB, err := createDatabase(*pgURL)
	if err != nil {
		return err
	}
	defer dropDB()
	c := &cluster{dir: dir, dbURL: dbURL, front: fmt.Sprintf("http://127.0.0.1:%d", *port)}
	defer c.stopAll()

	if out, err := c.cli("migrate"); err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	out, err := c.cli("user", "create", "--name", "Admin", "--email", "admin@cluster.test", "--country", "ES", "--time-zone", "UTC", "--role", "admin")
	if err != nil {
		return fmt.Errorf("admin: %v\n%s", err, out)
	}
	adminID := strings.TrimSpace(out)
	out, err = c.cli("token", "create", "--user", adminID, "--label", "cluster", "--ttl", "0")
	if err != nil {
		return fmt.Errorf("admin token: %v\n%s", err, out)
	}
	adminToken := strings.TrimSpace(out)

	n := 3
	if *mode == "pooler" {
		n = 2
		if err := c.startPgbouncer(); err != nil {
			return err
		}
	}
	for i := 1; i <= n; i++ {
		r := &replica{name: fmt.Sprintf("r%d", i), addr: fmt.Sprintf("127.0.0.1:%d", *port+i)}
		c.replicas = append(c.replicas, r)
		if err := c.start(r); err != nil {
			return err
		}
	}
	if err := c.startProxy(); err != nil {
		return err
	}
	if err := harness.WaitHTTP(c.front+"/readyz", 20*time.Second); err != nil {
		return fmt.Errorf("haproxy: %w", err)
	}
	time.Sleep(1500 * time.Millisecond) // every replica passes its first health checks (rise 2 x 500 ms)

	if *mode == "serve" {
		fmt.Printf("usersvc cluster: %s (HAProxy) -> %s, %s, %s on %s\nadmin token: %s\nCtrl-C stops it and drops the database.\n",
			c.front, c.replicas[0].addr, c.replicas[1].addr, c.replicas[2].addr, redact(dbURL), adminToken)
		<-ctx.Done()
		return nil
	}
	if *mode == "scale" {
		return scaleRun(ctx, c, adminToken)
	}
	return rollingRestartTest(ctx, c, adminToken)
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the database"
	}
	p.User = nil
	return p.Redacted()
}

// createDatabase makes a fresh database on the server at base and returns
// its URL and a function that drops it.
func createDatabase(base string) (string, func(), error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "usersvc_cluster_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating the cluster's database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			log.Printf("dropping %s: %v", name, err)
		}
		admin.Close()
	}
	return u.String(), drop, nil
}
