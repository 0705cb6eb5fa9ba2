// Command failover rides two usersvc replicas behind HAProxy through a
// PostgreSQL switchover and a crash, on the pg_auto_failover formation
// scripts/failover.sh creates (a monitor and two data nodes on loopback),
// and checks what a client sees.
//
//	scripts/failover.sh   # make failover: creates the formation, runs this, removes everything
//
// Under a bounded load (PATCHes adding distinct tags, each acknowledged
// one recorded; GETs by users with their own tokens; one graphql-ws
// subscription), it performs `pg_autoctl perform switchover`, waits for
// the formation to settle, then kills the primary's postmaster with
// SIGKILL and waits again. It passes when:
//
//   - no acknowledged write is lost (every tag read back afterwards);
//   - every failed request was our JSON envelope, 503 with Retry-After
//     (no HTML, no 500, no dropped connection);
//   - for each event, the service's outage (the longest time without an
//     acknowledged write) exceeds the database's own (the longest time
//     without a write acknowledged to a probe connecting straight to the
//     primary, every 100 ms) by at most 2 s;
//   - an API key revoked after the events ends its session on both
//     replicas within 1 s;
//   - the subscription, (re)connected after the events, receives every
//     change made afterwards;
//   - each reading user's apiUsage equals the requests a replica answered
//     with its token.
//
// It prints a table of the numbers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq"

	"usersvc/e2e/internal/harness"
)

var (
	bin       = flag.String("bin", "bin/usersvc", "the usersvc binary")
	haproxy   = flag.String("haproxy", "haproxy", "the haproxy binary")
	uri       = flag.String("uri", "", "the formation's URI (pg_autoctl show uri --formation default, with sslmode=disable)")
	monitor   = flag.String("monitor", "", "the monitor's URI")
	autoctl   = flag.String("autoctl", "", "a command that runs pg_autoctl as the postgres user")
	dbName    = flag.String("db", "app", "the formation's database")
	port      = flag.Int("port", 18180, "HAProxy's port; the replicas use the next two")
	users     = flag.Int("users", 80, "users the writes add tags to (95 each at most)")
	warm      = flag.Duration("warm", 5*time.Second, "load before the first event and between events")
	maxExcess = flag.Duration("max-excess", 2*time.Second, "how much longer than the database's the service's outage may be")
	keepLogs  = flag.String("keep-logs", "", "copy the replicas' and HAProxy's logs into this directory at the end")
)

var nodes nodeFlags

// nodeFlags is -node port=pgdata, once per data node.
type nodeFlags []node

func (n *nodeFlags) String() string { return fmt.Sprint(*n) }
func (n *nodeFlags) Set(v string) error {
	p, dir, ok := strings.Cut(v, "=")
	port, err := strconv.Atoi(p)
	if !ok || err != nil {
		return errors.New("want port=pgdata")
	}
	*n = append(*n, node{port: port, pgdata: dir})
	return nil
}

func main() {
	flag.Var(&nodes, "node", "a data node as port=pgdata (repeat)")
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if err := run(); err != nil {
		log.Printf("FAIL: %v", err)
		os.Exit(1)
	}
}

// event is one failover and its window.
type event struct {
	name     string
	from, to time.Time
}

func run() error {
	if *uri == "" || *monitor == "" || *autoctl == "" || len(nodes) < 2 {
		return errors.New("-uri, -monitor, -autoctl and two -node are needed (scripts/failover.sh gives them)")
	}
	f := &formation{autoctl: *autoctl, monitor: *monitor, nodes: nodes}
	dir, err := os.MkdirTemp("", "usersvc-failover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *keepLogs != "" {
		defer func() { _ = os.CopyFS(*keepLogs, os.DirFS(dir)) }()
	}
	rs := &replicas{dir: dir, env: []string{"USERSVC_DATABASE_URL=" + *uri, "USERSVC_LOG_FORMAT=json"}}
	defer rs.stopAll()
	adminToken, err := rs.bootstrap()
	if err != nil {
		return err
	}
	for i := 1; i <= 2; i++ {
		if err := rs.start(fmt.Sprintf("r%d", i), fmt.Sprintf("127.0.0.1:%d", *port+i)); err != nil {
			return err
		}
	}
	front := fmt.Sprintf("http://127.0.0.1:%d", *port)
	proxy, err := harness.StartHAProxy(*haproxy, dir, harness.HAProxyConfig(dir+"/503.http", *port, rs.addrs()))
	if err != nil {
		return err
	}
	defer func() { _ = proxy.Process.Kill(); _ = proxy.Wait() }()
	if err := harness.WaitHTTP(front+"/readyz", 20*time.Second); err != nil {
		return fmt.Errorf("haproxy: %w", err)
	}
	time.Sleep(1500 * time.Millisecond) // both replicas pass their first checks (rise 2 x 500 ms)

	cl := &client{base: front, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	l := &load{cl: cl, admin: adminToken, failTimes: map[string][]time.Time{}, endedWith: map[int]int{}}
	if err := setUsers(l, rs); err != nil {
		return err
	}
	subUser, err := newUser(cl, adminToken, "subscriber")
	if err != nil {
		return err
	}
	subToken, err := rs.token(subUser)
	if err != nil {
		return err
	}
	revoke, err := newRevocable(cl, rs, adminToken)
	if err != nil {
		return err
	}
	log.Printf("%d users to write to, %d reading themselves; load, then the events", len(l.users), len(l.meters))

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := createProbeTable(f.probeDSN()); err != nil {
		return fmt.Errorf("the probe's table: %w", err)
	}
	pr := &probe{}
	sub := &subscriber{base: front, token: subToken}
	done := make(chan struct{})
	go func() { pr.run(ctx, f.probeDSN()); done <- struct{}{} }()
	go func() { sub.run(ctx); done <- struct{}{} }()
	workers := 0
	for range 3 {
		workers++
		go func() { l.writer(ctx); done <- struct{}{} }()
	}
	for range 2 {
		workers++
		go func() { l.reader(ctx); done <- struct{}{} }()
	}
	wait := func() {
		stop()
		for range workers + 2 {
			<-done
		}
	}

	events, err := runEvents(f)
	time.Sleep(*warm)
	if err != nil {
		wait()
		return err
	}
	missedMarks, subErr := sub.check(cl, subUser, adminToken)
	revokeTimes, revokeErr := revoke.check(rs)
	wait()
	time.Sleep(3 * time.Second) // the replicas write their usage counts within 1 s
	return report(l, pr, sub, events, missedMarks, subErr, revokeTimes, revokeErr)
}

// runEvents performs the switchover, then the kill, each after *warm of
// load and followed by the formation settling.
func runEvents(f *formation) ([]event, error) {
	primary, err := f.stable(60 * time.Second)
	if err != nil {
		return nil, err
	}
	time.Sleep(*warm)
	var events []event

	from := time.Now()
	log.Printf("switchover (primary on %d)", primary)
	if out, err := f.autoctlRun(120*time.Second, "perform", "switchover", "--monitor", f.monitor); err != nil {
		return nil, fmt.Errorf("pg_autoctl perform switchover: %v\n%s", err, out)
	}
	if primary, err = f.stable(120 * time.Second); err != nil {
		return nil, err
	}
	log.Printf("settled: primary on %d", primary)
	time.Sleep(*warm)
	events = append(events, event{name: "switchover", from: from, to: time.Now()})

	from = time.Now()
	pid, err := f.kill9(primary)
	if err != nil {
		return nil, fmt.Errorf("kill -9 of the primary's postmaster: %w", err)
	}
	log.Printf("kill -9 %d (the postmaster on %d)", pid, primary)
	time.Sleep(3 * time.Second) // the monitor and the keeper notice
	if primary, err = f.stable(120 * time.Second); err != nil {
		return nil, err
	}
	log.Printf("settled: primary on %d", primary)
	time.Sleep(*warm)
	events = append(events, event{name: "kill -9 primary", from: from, to: time.Now()})
	return events, nil
}
