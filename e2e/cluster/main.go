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
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
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

// cluster is the running set of processes.
type cluster struct {
	dir   string
	dbURL string
	// poolURL, in pooler mode, is the replicas' database URL (pgbouncer);
	// dbURL stays their direct USERSVC_LISTEN_URL.
	poolURL  string
	pooler   *exec.Cmd
	replicas []*replica
	proxy    *exec.Cmd
	front    string
}

type replica struct {
	name, addr string
	cmd        *exec.Cmd
	done       chan error
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

func (c *cluster) env(extra ...string) []string {
	return append(append(os.Environ(), "USERSVC_DATABASE_URL="+c.dbURL, "USERSVC_LOG_FORMAT=json"), extra...)
}

func (c *cluster) cli(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, *bin, args...)
	cmd.Env = c.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

// start runs a replica and waits until it is ready.
func (c *cluster) start(r *replica) error {
	logf, err := os.OpenFile(filepath.Join(c.dir, r.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(*bin, "serve")
	cmd.Env = c.env("USERSVC_ADDR="+r.addr, "USERSVC_DRAIN_DELAY="+drain.String())
	if *procs > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", *procs))
	}
	if c.poolURL != "" {
		cmd.Env = append(cmd.Env, "USERSVC_DATABASE_URL="+c.poolURL, "USERSVC_PG_NO_PREPARE=true", "USERSVC_LISTEN_URL="+c.dbURL)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	r.cmd, r.done = cmd, make(chan error, 1)
	go func() { r.done <- cmd.Wait(); logf.Close() }()
	if err := harness.WaitHTTP("http://"+r.addr+"/readyz", 30*time.Second); err != nil {
		return fmt.Errorf("%s did not get ready: %w (log: %s)", r.name, err, filepath.Join(c.dir, r.name+".log"))
	}
	return nil
}

// restart stops a replica gracefully (SIGTERM) and starts it again.
func (c *cluster) restart(r *replica) error {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		if err != nil {
			return fmt.Errorf("%s exited with %v", r.name, err)
		}
	case <-time.After(45 * time.Second):
		_ = r.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 45 s", r.name)
	}
	return c.start(r)
}

func (c *cluster) startProxy() error {
	cfg := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  # Retry nothing: a request that fails is a failure the client sees.
  retries 0
frontend usersvc
  bind 127.0.0.1:%d
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
`, *port)
	for _, r := range c.replicas {
		cfg += fmt.Sprintf("  server %s %s check\n", r.name, r.addr)
	}
	// The same balancer in front of the first replica alone (port + 20),
	// and in front of all three routing each token to one replica (port +
	// 21, docs/deploy.md), for measuring them side by side with the same
	// client.
	cfg += fmt.Sprintf(`frontend sticky
  bind 127.0.0.1:%d
  default_backend sticky
backend sticky
  balance hdr(Authorization)
  hash-type consistent
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
`, *port+21)
	for _, r := range c.replicas {
		cfg += fmt.Sprintf("  server %s %s check\n", r.name, r.addr)
	}
	cfg += fmt.Sprintf(`frontend one
  bind 127.0.0.1:%d
  default_backend one
backend one
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
  server %s %s check
`, *port+20, c.replicas[0].name, c.replicas[0].addr)
	path := filepath.Join(c.dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return err
	}
	if out, err := exec.Command(*haproxy, "-c", "-f", path).CombinedOutput(); err != nil {
		return fmt.Errorf("haproxy -c: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(c.dir, "haproxy.log"))
	if err != nil {
		return err
	}
	c.proxy = exec.Command(*haproxy, "-db", "-f", path)
	c.proxy.Stdout, c.proxy.Stderr = logf, logf
	return c.proxy.Start()
}

// startPgbouncer runs pgbouncer in transaction mode in front of the
// cluster's database, with 4 server connections for the replicas' 32, and
// points poolURL at it.
func (c *cluster) startPgbouncer() error {
	u, err := url.Parse(c.dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	host, pgPort := u.Hostname(), u.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	listen := *port + 10
	// pgbouncer refuses to run as root: it drops to the postgres user (-u),
	// which must read its files.
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s user=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = %s
`, name, host, pgPort, name, user, listen, filepath.Join(c.dir, "userlist.txt"), filepath.Join(c.dir, "pgbouncer.log"))
	for f, body := range map[string]string{"pgbouncer.ini": cfg, "userlist.txt": fmt.Sprintf("%q \"\"\n", user), "pgbouncer.log": ""} {
		if err := os.WriteFile(filepath.Join(c.dir, f), []byte(body), 0o666); err != nil {
			return err
		}
		_ = os.Chmod(filepath.Join(c.dir, f), 0o666)
	}
	args := []string{filepath.Join(c.dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres"}, args...)
	}
	c.pooler = exec.Command(*bouncer, args...)
	out, err := os.Create(filepath.Join(c.dir, "pgbouncer.out"))
	if err != nil {
		return err
	}
	c.pooler.Stdout, c.pooler.Stderr = out, out
	if err := c.pooler.Start(); err != nil {
		return fmt.Errorf("pgbouncer: %w", err)
	}
	pu := *u
	pu.Host = fmt.Sprintf("127.0.0.1:%d", listen)
	c.poolURL = pu.String()
	db, err := sql.Open("postgres", c.poolURL)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err = db.Ping(); err == nil {
			log.Printf("pgbouncer (transaction mode, 4 server connections) at %s", pu.Host)
			return nil
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(c.dir, "pgbouncer.out"))
			l, _ := os.ReadFile(filepath.Join(c.dir, "pgbouncer.log"))
			return fmt.Errorf("pgbouncer did not answer: %v\n%s%s", err, b, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *cluster) stopAll() {
	if c.proxy != nil && c.proxy.Process != nil {
		_ = c.proxy.Process.Kill()
		_ = c.proxy.Wait()
	}
	if c.pooler != nil && c.pooler.Process != nil {
		defer func() { _ = c.pooler.Process.Kill(); _ = c.pooler.Wait() }() // after the replicas
	}
	for _, r := range c.replicas {
		if r.cmd == nil || r.cmd.Process == nil {
			continue
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			_ = r.cmd.Process.Kill()
		}
	}
}

// ---- the rolling-restart test ----

type loadUser struct {
	id, email, password, token string
	mu                         sync.Mutex
	tags                       map[string]string // acknowledged
	requests                   int64             // answered requests carrying this user's token
}

type client struct {
	base string
	http *http.Client
}

func (cl *client) do(method, path, token, ctype, body string) (int, map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&m)
	return resp.StatusCode, m, nil
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

func rollingRestartTest(ctx context.Context, c *cluster, adminToken string) error {
	cl := &client{base: c.front, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	// Users with passwords, each signed in once for a session token.
	var us []*loadUser
	for i := 0; i < *users; i++ {
		u := &loadUser{email: fmt.Sprintf("load%d@cluster.test", i), password: fmt.Sprintf("password number %d", i), tags: map[string]string{}}
		body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("Load %d", i), "email": u.email, "country": "ES", "timeZone": "UTC", "password": u.password})
		st, m, err := cl.do("POST", "/api/users", adminToken, "application/json", string(body))
		if err != nil || st != 201 {
			return fmt.Errorf("creating user %d: %d %v %v", i, st, m, err)
		}
		u.id, _ = m["id"].(string)
		st, m, err = cl.do("POST", "/api/Auth/Token", "", "application/json", fmt.Sprintf(`{"userName":%q,"password":%q}`, u.email, u.password))
		if err != nil || st != 200 {
			return fmt.Errorf("signing user %d in: %d %v %v", i, st, m, err)
		}
		u.token, _ = m["token"].(string)
		u.requests++ // a sign-in counts against the user's quota
		us = append(us, u)
	}
	log.Printf("%d users ready; load for %s while each replica restarts", len(us), *duration)

	var (
		requests, failures atomic.Int64
		failMu             sync.Mutex
		failSamples        []string
		tagSeq             atomic.Int64
	)
	fail := func(what string) {
		failures.Add(1)
		failMu.Lock()
		if len(failSamples) < 20 {
			failSamples = append(failSamples, what)
		}
		failMu.Unlock()
	}
	loadCtx, stopLoad := context.WithTimeout(ctx, *duration)
	defer stopLoad()

	// The subscriber follows user 0 and reconnects whenever its socket ends.
	sub := &subscriber{base: c.front, user: us[0]}
	subDone := make(chan error, 1)
	go func() { subDone <- sub.run(loadCtx) }()

	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				u := us[randInt(len(us))]
				u.mu.Lock()
				full := len(u.tags) >= 95
				u.mu.Unlock()
				if randInt(10) < 2 && !full {
					k := fmt.Sprintf("t%d", tagSeq.Add(1))
					// tags are written by admins (an owner may not change them)
					st, m, err := cl.do("PATCH", "/api/users/"+u.id, adminToken, "application/json-patch+json", fmt.Sprintf(`[{"op":"add","path":"/tags/%s","value":"v"}]`, k))
					requests.Add(1)
					if err != nil || st != 200 {
						fail(fmt.Sprintf("PATCH %s: %d %v %v", u.id, st, m["error"], err))
						continue
					}
					u.mu.Lock()
					u.tags[k] = "v"
					u.mu.Unlock()
				} else if n := randInt(10); n < 2 && *mode == "pooler" {
					// GraphQL: the caller's own user (metered), or an
					// admin's page of users with their histories.
					token, q := u.token, `{"query":"{ me { id name tags } }"}`
					if n == 1 {
						token, q = adminToken, `{"query":"{ users(first: 20) { edges { node { id history(first: 3) { totalCount edges { node { action } } } } } } }"}`
					}
					st, m, err := cl.do("POST", "/graphql", token, "application/json", q)
					requests.Add(1)
					if err != nil || st != 200 || m["errors"] != nil {
						fail(fmt.Sprintf("GraphQL %s: %d %v %v", u.id, st, m["errors"], err))
						continue
					}
					if n == 0 {
						u.mu.Lock()
						u.requests++
						u.mu.Unlock()
					}
				} else {
					st, m, err := cl.do("GET", "/api/users/"+u.id, u.token, "", "")
					requests.Add(1)
					if err != nil || st != 200 {
						fail(fmt.Sprintf("GET %s: %d %v %v", u.id, st, m["error"], err))
						continue
					}
					u.mu.Lock()
					u.requests++
					u.mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() { // sign-ins: bcrypt-bound, a few a second
		defer wg.Done()
		for loadCtx.Err() == nil {
			u := us[1+randInt(len(us)-1)]
			st, m, err := cl.do("POST", "/api/Auth/Token", "", "application/json", fmt.Sprintf(`{"userName":%q,"password":%q}`, u.email, u.password))
			requests.Add(1)
			if err != nil || st != 200 {
				fail(fmt.Sprintf("sign-in %s: %d %v %v", u.id, st, m["error"], err))
			} else {
				u.mu.Lock()
				u.requests++ // a sign-in counts against the user's quota
				u.mu.Unlock()
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()

	// Restart each replica in turn, the last well before the load ends, so
	// that a subscription on it has time to reconnect and receive again:
	// replica i at (i+1)/(n+2) of the run.
	start := time.Now()
	var restartErr error
	if *mode == "pooler" {
		<-loadCtx.Done()
	}
	for i, r := range c.replicas {
		if *mode == "pooler" {
			break
		}
		at := start.Add(*duration * time.Duration(i+1) / time.Duration(len(c.replicas)+2))
		select {
		case <-time.After(time.Until(at)):
		case <-loadCtx.Done():
		}
		if loadCtx.Err() != nil {
			restartErr = fmt.Errorf("the load ended before %s could be restarted", r.name)
			break
		}
		log.Printf("restarting %s", r.name)
		if err := c.restart(r); err != nil {
			restartErr = err
			break
		}
		log.Printf("%s is back", r.name)
	}
	wg.Wait()
	stopLoad()
	subErr := <-subDone
	if restartErr != nil {
		return restartErr
	}
	log.Printf("load done: %d requests, %d failed", requests.Load(), failures.Load())

	var problems []string
	if n := failures.Load(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d client requests failed, e.g. %s", n, requests.Load(), strings.Join(failSamples, "; ")))
	}
	if subErr != nil {
		problems = append(problems, "subscription: "+subErr.Error())
	}

	// After the load: wait past the usage bound (written within 1 s, re-read
	// within the next), then check tags and counts through the balancer.
	time.Sleep(3 * time.Second)
	missingTags, wrongUsage := 0, 0
	for _, u := range us {
		st, m, err := cl.do("GET", "/api/users/"+u.id, adminToken, "", "")
		if err != nil || st != 200 {
			return fmt.Errorf("reading %s: %d %v", u.id, st, err)
		}
		stored, _ := m["tags"].(map[string]any)
		for k := range u.tags {
			if stored[k] != "v" {
				missingTags++
			}
		}
		want := u.requests + 1 // the check itself counts
		most := want
		if u == us[0] {
			// Each connection_init counts, and so does each subscribe
			// the server took: certainly those an event answered, at
			// most every one sent (one sent just before a restart may
			// never have been read).
			want += sub.inits.Load() + sub.subsAnswered.Load()
			most = want + sub.subsSent.Load() - sub.subsAnswered.Load()
		}
		st, m, err = cl.do("GET", "/api/users/"+u.id, u.token, "", "")
		if err != nil || st != 200 {
			return fmt.Errorf("reading %s as itself: %d %v", u.id, st, err)
		}
		if got, _ := m["apiUsage"].(json.Number).Int64(); got < want || got > most {
			wrongUsage++
			if wrongUsage <= 5 {
				problems = append(problems, fmt.Sprintf("%s: apiUsage %d, want %d to %d", u.id, got, want, most))
			}
		}
	}
	if missingTags > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged tags are not stored", missingTags))
	}
	if wrongUsage > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d users' apiUsage is not exact", wrongUsage, len(us)))
	}
	log.Printf("subscription: %d connections, %d events, %d after a reconnect", sub.inits.Load(), sub.events.Load(), sub.afterReconnect.Load())
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n  "))
	}
	if *mode == "pooler" {
		fmt.Printf("pooler: 1 passed, 0 failed (%d requests through pgbouncer in transaction mode over %d replicas, 0 failed; %d users' tags and usage exact)\n",
			requests.Load(), len(c.replicas), len(us))
		return nil
	}
	fmt.Printf("cluster: 1 passed, 0 failed (%d requests, 0 failed; 3 restarts; %d users' tags and usage exact; subscription reconnected %d time(s))\n",
		requests.Load(), len(us), sub.inits.Load()-1)
	return nil
}

// subscriber follows a user over graphql-transport-ws through the balancer
// and, like the graphql-ws client, reconnects and subscribes again when its
// socket ends.
type subscriber struct {
	base string
	user *loadUser
	// inits counts connections acknowledged (each counts one request);
	// eventsSinceConnect, events on the current connection; afterReconnect,
	// events on any connection but the first.
	inits, events, eventsSinceConnect, afterReconnect atomic.Int64
	// subsSent counts subscribe messages written, subsAnswered those an
	// event answered (each subscribe counts one request too).
	subsSent, subsAnswered atomic.Int64
}

func (s *subscriber) run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := s.once(ctx)
		if ctx.Err() != nil {
			break
		}
		log.Printf("subscription socket ended (%v); reconnecting", err)
		time.Sleep(200 * time.Millisecond)
	}
	if *mode == "pooler" { // nothing restarts: events arrived on one socket
		if s.events.Load() == 0 {
			return errors.New("no event arrived")
		}
		return nil
	}
	if s.inits.Load() < 2 {
		return fmt.Errorf("the subscription's replica was never restarted under it (%d connection)", s.inits.Load())
	}
	if s.afterReconnect.Load() == 0 {
		return errors.New("no event arrived after the subscription reconnected")
	}
	return nil
}

func (s *subscriber) once(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(s.base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	send := func(v string) error { return conn.Write(ctx, websocket.MessageText, []byte(v)) }
	if err := send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + s.user.token + `"}}`); err != nil {
		return err
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "connection_ack":
			s.inits.Add(1)
			s.eventsSinceConnect.Store(0)
			if err := send(`{"id":"1","type":"subscribe","payload":{"query":"subscription { userChanged { id version: modification } }"}}`); err != nil {
				return err
			}
			s.subsSent.Add(1)
		case "ping":
			_ = send(`{"type":"pong"}`)
		case "next":
			s.events.Add(1)
			if s.eventsSinceConnect.Add(1) == 1 {
				s.subsAnswered.Add(1)
			}
			if s.inits.Load() > 1 {
				s.afterReconnect.Add(1)
			}
		case "error", "complete":
			return fmt.Errorf("%s: %s", m.Type, m.Payload)
		}
	}
}
