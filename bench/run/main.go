// Command run is `make bench`: it builds a PostgreSQL database of users and
// tokens (deterministic), starts usersvc and the hand-written reference
// server in turn, loads each with wrk, and prints req/s, p50, p99, server
// CPU per request, peak and idle RSS, and start-to-ready time, with each
// ratio to the reference. Every run is bounded by -duration per scenario.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"usersvc/store"
)

var (
	pgURL    = flag.String("pg", envOr("USERSVC_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL URL to create the bench database from")
	dbName   = flag.String("dbname", "usersvc_bench", "bench database (dropped and created)")
	users    = flag.Int("users", 100_000, "users to create")
	tokens   = flag.Int("tokens", 1_000, "tokens to create (token i belongs to user i)")
	duration = flag.Duration("duration", 10*time.Second, "measured load per scenario")
	warmup   = flag.Duration("warmup", 2*time.Second, "warm-up per scenario")
	conns    = flag.Int("connections", 64, "wrk connections")
	threads  = flag.Int("threads", 2, "wrk threads")
	only     = flag.String("only", "", "comma-separated scenario names to run (default all)")
	keep     = flag.Bool("keep", false, "keep the bench database afterwards")
	loadgen  = flag.String("loadgen", "auto", "load generator: wrk, go, or auto (wrk when installed)")
	nRounds  = flag.Int("rounds", 1, "measure the selected scenarios this many times over (every second round in reverse order), then print each scenario's median over the rounds: this machine's throughput drifts by tens of percent within minutes, so one round's ratio can be far off")
	before   = flag.String("before", "", "also measure this usersvc binary (built from an earlier tree), each usersvc scenario right before this tree's: a before/after in one run")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func secret(i int) string {
	sum := sha256.Sum256([]byte("bench-token-" + strconv.Itoa(i)))
	return "usv_" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func userID(i int) string { return fmt.Sprintf("usr-bench%07d", i) }

func main() {
	flag.Parse()
	if *loadgen == "auto" {
		*loadgen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			*loadgen = "wrk"
		}
	}
	if *loadgen == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			must(fmt.Errorf("wrk not found: apt-get install wrk, or -loadgen go"))
		}
	}
	fmt.Fprintf(os.Stderr, "load generator: %s\n", *loadgen)
	work, err := os.MkdirTemp("", "usersvc-bench-")
	must(err)
	defer os.RemoveAll(work)
	benchURL := setupDB()
	fmt.Fprintln(os.Stderr, "building binaries")
	must(run("go", "build", "-o", filepath.Join(work, "usersvc"), "./cmd/usersvc"))
	if *before != "" {
		abs, err := filepath.Abs(*before)
		must(err)
		must(os.Symlink(abs, filepath.Join(work, "usersvc-before")))
	}
	must(run("go", "build", "-o", filepath.Join(work, "reference"), "./bench/reference"))
	scripts := writeScripts(work)
	traced := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + otlpSink(), "OTEL_TRACES_SAMPLER=always_on"}

	all := []scenario{
		{"reference GET", "reference", "get", 0, nil},
		{"reference PATCH", "reference", "patch", 0, nil},
		{"REST GET", "usersvc", "get", 0, nil},
		// Every request sampled and exported (OTLP over HTTP to a sink in
		// this process that reads and drops each batch): the cost of
		// tracing on, next to the line above with it off.
		{"REST GET, traced (every request sampled, OTLP export)", "usersvc", "get", 0, traced},
		{"GraphQL user", "usersvc", "graphql", 0, nil},
		{"PATCH (one replace)", "usersvc", "patch", 0, nil},
		{"PUT", "usersvc", "put", 0, nil},
		{"REST GET, one token", "usersvc", "onetoken", 0, nil},
		{"REST GET another user (admin, random of all users)", "usersvc", "other", 0, nil},
		{"GraphQL users page of 50 (admin)", "usersvc", "users", 0, nil},
		// 8 connections: one client address may have at most 20 sign-ins
		// in flight (the throttle counts a running attempt as a failure).
		{"sign-in, 8 connections (bcrypt cost 12; no target)", "usersvc", "signin", 8, nil},
		{"pgbench -M prepared: single-row UPDATE", "pgbench", "pgbench", 0, nil},
		{"pgbench -M prepared: UPDATE + history INSERT (one CTE)", "pgbench", "pgbench-history", 0, nil},
		{"pgbench -M prepared: the statement one PATCH sends", "pgbench", "pgbench-patch", 0, nil},
	}
	if *before != "" {
		var both []scenario
		for _, s := range all {
			if s.server == "usersvc" {
				b := s
				b.name, b.server = s.name+" (before)", "usersvc-before"
				both = append(both, b)
				s.name += " (after)"
			}
			both = append(both, s)
		}
		all = both
	}
	var rounds [][]result
	for round := 1; round <= *nRounds; round++ {
		if *nRounds > 1 {
			fmt.Fprintf(os.Stderr, "== round %d of %d\n", round, *nRounds)
			fmt.Printf("\n### Round %d of %d\n\n", round, *nRounds)
		}
		// Every second round runs the scenarios in reverse order: the
		// machine's drift within a round then favours neither of two
		// scenarios compared (a traced GET always after the untraced one
		// would pay for any slowdown that comes late in the round).
		order := all
		if round%2 == 0 {
			order = slices.Clone(all)
			slices.Reverse(order)
		}
		results := runScenarios(order, work, benchURL, scripts)
		printTable(results)
		rounds = append(rounds, results)
	}
	if len(rounds) > 1 {
		printMedians(rounds)
	}
	printTracingCost(rounds)
	if *only == "" || strings.Contains(","+*only+",", ",import,") {
		fmt.Fprintln(os.Stderr, "== usersvc import, 100,000 lines")
		printImports(measureImports(work))
	}
	if !*keep {
		admin, err := sql.Open("postgres", *pgURL)
		must(err)
		defer admin.Close()
		_, err = admin.Exec("DROP DATABASE IF EXISTS " + *dbName + " WITH (FORCE)")
		must(err)
	}
}

// runScenarios measures each selected scenario once, in order.
func runScenarios(all []scenario, work, benchURL string, scripts map[string]string) []result {
	var results []result
	for _, s := range all {
		if *only != "" && !strings.Contains(","+*only+",", ","+s.script+",") && !strings.Contains(","+*only+",", ","+strings.TrimSuffix(s.server, "-before")+",") {
			continue
		}
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		if writes[s.script] {
			resetWrites(benchURL)
		}
		var r result
		if s.server == "pgbench" {
			r = measurePgbench(work, benchURL, s.script)
		} else {
			c := *conns
			if s.conns > 0 {
				c = s.conns
			}
			r = measure(work, s.server, benchURL, s.script, scripts[s.script], c, s.env)
		}
		r.name = s.name
		results = append(results, r)
	}
	return results
}

type scenario struct {
	name, server, script string
	conns                int      // 0: -connections
	env                  []string // more environment for the server
}

// setupDB drops and creates the bench database, migrates it and seeds it.
func setupDB() string {
	admin, err := sql.Open("postgres", *pgURL)
	must(err)
	defer admin.Close()
	fmt.Fprintf(os.Stderr, "creating %s: %d users, %d tokens\n", *dbName, *users, *tokens)
	_, err = admin.Exec("DROP DATABASE IF EXISTS " + *dbName + " WITH (FORCE)")
	must(err)
	_, err = admin.Exec("CREATE DATABASE " + *dbName)
	must(err)
	u, err := url.Parse(*pgURL)
	must(err)
	u.Path = "/" + *dbName
	ctx := context.Background()
	st, err := store.Open(ctx, u.String(), store.Options{})
	must(err)
	must(st.Migrate(ctx))
	db := st.DB()
	_, err = db.Exec(`INSERT INTO users (id, name, email, email_key, country, time_zone, disabled, tags, privileges,
	  admin_devices, creation, modification, password_hash, role, version)
	  SELECT 'usr-bench' || lpad(i::text, 7, '0'), 'User ' || i, 'user' || i || '@example.com', 'user' || i || '@example.com',
	    'ES', 'Europe/Madrid', false, '{"fleet":"bench"}'::jsonb, '["tracks.read"]'::jsonb, 0,
	    timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second',
	    '', CASE WHEN i = 1 THEN 'admin' ELSE 'user' END, 1
	  FROM generate_series(1, $1) AS i`, *users)
	must(err)
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), 12)
	must(err)
	_, err = db.Exec(`UPDATE users SET password_hash = $1 WHERE id <= $2`, string(hash), userID(*tokens))
	must(err)
	tx, err := db.Begin()
	must(err)
	stmt, err := tx.Prepare(`INSERT INTO tokens (hash, label, created_at, revoked, user_id, kind) VALUES ($1, 'bench', now(), false, $2, 'token')`)
	must(err)
	for i := 1; i <= *tokens; i++ {
		sum := sha256.Sum256([]byte(secret(i)))
		_, err := stmt.Exec(hex.EncodeToString(sum[:]), userID(i))
		must(err)
	}
	must(tx.Commit())
	_, err = db.Exec("ANALYZE")
	must(err)
	_, err = db.Exec("CREATE SCHEMA bench_seed")
	must(err)
	_, err = db.Exec("CREATE TABLE bench_seed.users AS SELECT * FROM users WHERE id <= $1", userID(*tokens))
	must(err)
	must(st.Close())
	return u.String()
}

// writes are the scenarios that write users; each starts from the state
// setupDB left (resetWrites).
var writes = map[string]bool{"patch": true, "put": true, "pgbench": true, "pgbench-history": true, "pgbench-patch": true}

// resetWrites puts the database back as setupDB left it before a scenario
// that writes, so every write scenario, whichever runs first, meets the
// same tables: the users the tokens own get their seeded values back,
// the history goes, every table is rewritten compactly (VACUUM FULL: no
// dead rows, no bloated indexes, the same free space per page)
// and a CHECKPOINT makes every scenario pay the same full-page writes.
// Without it each scenario ran on the bloat of the ones before it, and
// the reference PATCH, which runs first, on the cleanest tables: in one
// run the same binary measured twice in a row lost 0.10x and PostgreSQL
// CPU per write rose 20-30% the second time.
func resetWrites(dbURL string) {
	db, err := sql.Open("postgres", dbURL)
	must(err)
	defer db.Close()
	var cols []string
	rows, err := db.Query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'bench_seed' AND table_name = 'users' AND column_name <> 'id' ORDER BY ordinal_position`)
	must(err)
	for rows.Next() {
		var c string
		must(rows.Scan(&c))
		cols = append(cols, c)
	}
	must(rows.Err())
	seeded := make([]string, len(cols))
	for i, c := range cols {
		seeded[i] = "s." + c
	}
	for _, q := range []string{
		"UPDATE users u SET (" + strings.Join(cols, ", ") + ") = (" + strings.Join(seeded, ", ") + ") FROM bench_seed.users s WHERE u.id = s.id",
		"TRUNCATE audits",
		"VACUUM FULL",
		"ANALYZE",
		"CHECKPOINT",
	} {
		if _, err := db.Exec(q); err != nil {
			fmt.Fprintf(os.Stderr, "reset before a write scenario: %s: %v\n", q, err)
		}
	}
}

// benchPassword is the password of the users that own tokens (sign-in).
const benchPassword = "bench password"

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// writeScripts writes the wrk Lua scripts; each thread walks the tokens.
func writeScripts(dir string) map[string]string {
	var creds strings.Builder
	creds.WriteString("local creds = {\n")
	for i := 1; i <= *tokens; i++ {
		fmt.Fprintf(&creds, "{%q,%q},\n", userID(i), secret(i))
	}
	creds.WriteString("}\nlocal n = 0\n")
	// Each wrk thread walks its own share of the tokens (thread t takes
	// every threads-th one from t), and tid goes into written values: two
	// threads never write the same user at once, and every write changes
	// its user (a write of the value a user already holds is a no-op,
	// which the reference PATCH would still send to the database).
	fmt.Fprintf(&creds, "local threads = %d\nlocal next_tid = 0\nfunction setup(thread) thread:set(\"tid\", next_tid); next_tid = next_tid + 1 end\n", *threads)
	creds.WriteString("local function next_cred() n = n + 1; return creds[((n * threads + tid) % #creds) + 1] end\n")
	fmt.Fprintf(&creds, "local users = %d\nmath.randomseed(os.time())\n", *users)
	bodies := map[string]string{
		"get": `request = function() local c = next_cred()
  return wrk.format("GET", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2]}) end`,
		"onetoken": `request = function() local c = creds[1]
  return wrk.format("GET", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2]}) end`,
		"graphql": `request = function() local c = next_cred()
  local body = '{"query":"query($id: ID!) { user(id: $id) { id name email country timeZone tags privileges role } }","variables":{"id":"' .. c[1] .. '"}}'
  return wrk.format("POST", "/graphql", {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json"}, body) end`,
		"patch": `request = function() local c = next_cred()
  local body = '[{"op":"replace","path":"/description","value":"d' .. tid .. '-' .. n .. '"}]'
  return wrk.format("PATCH", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json-patch+json"}, body) end`,
		"other": `request = function() local c = creds[1]
  local id = string.format("usr-bench%07d", math.random(1, users))
  return wrk.format("GET", "/api/users/" .. id, {["Authorization"] = "Bearer " .. c[2]}) end`,
		"users": `request = function() local c = creds[1]
  local body = '{"query":"{ users(first: 50) { totalCount edges { cursor node { id name email country timeZone tags role } } } }"}'
  return wrk.format("POST", "/graphql", {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json"}, body) end`,
		"signin": `request = function() local c = next_cred()
  local i = tonumber(string.sub(c[1], 10))
  local body = '{"userName":"user' .. i .. '@example.com","password":"` + benchPassword + `"}'
  return wrk.format("POST", "/api/Auth/Token", {["Content-Type"] = "application/json"}, body) end`,
		"put": `request = function() local c = next_cred()
  local i = tonumber(string.sub(c[1], 10))
  local body = '{"name":"User ' .. i .. '","email":"user' .. i .. '@example.com","country":"ES","timeZone":"Europe/Madrid","description":"p' .. tid .. '-' .. n .. '"}'
  return wrk.format("PUT", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json"}, body) end`,
	}
	out := map[string]string{}
	for name, body := range bodies {
		p := filepath.Join(dir, name+".lua")
		must(os.WriteFile(p, []byte(creds.String()+body+"\n"), 0o644))
		out[name] = p
	}
	return out
}

type result struct {
	name             string
	rps, p50, p99    float64 // req/s, ms, ms
	requests, errors int64
	cpuPerReq        float64 // microseconds of server CPU per request
	pgCPUPerReq      float64 // microseconds of PostgreSQL CPU (every server process) per request
	peakRSS, idleRSS int64   // KiB
	ready            time.Duration
}

func measure(work, server, dbURL, scenario, script string, conns int, env []string) result {
	port := 18500
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var cmd *exec.Cmd
	if server == "reference" {
		cmd = exec.Command(filepath.Join(work, "reference"), "-addr", addr, "-db", dbURL)
	} else {
		cmd = exec.Command(filepath.Join(work, server), "serve")
		cmd.Env = append(os.Environ(), "USERSVC_ADDR="+addr, "USERSVC_DATABASE_URL="+dbURL, "USERSVC_LOG_FORMAT=json",
			"USERSVC_DAILY_QUOTA=1000000000")
		cmd.Env = append(cmd.Env, env...)
	}
	logf, err := os.Create(filepath.Join(work, server+".log"))
	must(err)
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	must(cmd.Start())
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	var ready time.Duration
	for i := 0; i < 2000; i++ { // at most 10 s
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ready = time.Since(start)
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ready == 0 {
		must(fmt.Errorf("%s did not become ready (see %s)", server, logf.Name()))
	}
	time.Sleep(time.Second)
	idle := procStatus(cmd.Process.Pid, "VmRSS")
	load := func(d time.Duration) (result, string) {
		if *loadgen == "go" {
			r := goLoad(addr, scenario, conns, d)
			return r, fmt.Sprintf("%d requests, %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors\n", r.requests, r.rps, r.p50, r.p99, r.errors)
		}
		out, err := exec.Command("wrk", "-t", strconv.Itoa(*threads), "-c", strconv.Itoa(conns), "-d", d.String(),
			"--latency", "-s", script, "http://"+addr).CombinedOutput()
		must(err)
		return parseWrk(string(out)), string(out)
	}
	load(*warmup)
	cpu0, pg0 := procCPU(cmd.Process.Pid), postgresCPU()
	r, out := load(*duration)
	cpu1, pg1 := procCPU(cmd.Process.Pid), postgresCPU()
	r.idleRSS, r.peakRSS, r.ready = idle, procStatus(cmd.Process.Pid, "VmHWM"), ready
	if r.requests > 0 {
		r.cpuPerReq = (cpu1 - cpu0) / float64(r.requests) * 1e6
		r.pgCPUPerReq = (pg1 - pg0) / float64(r.requests) * 1e6
	}
	fmt.Fprint(os.Stderr, out)
	return r
}

var (
	reRPS   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reP50   = regexp.MustCompile(`\s50%\s+([\d.]+)(us|ms|s)`)
	reP99   = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	reTotal = regexp.MustCompile(`(\d+) requests in`)
	reNon2  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reErr   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func ms(m []string) float64 {
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	}
	return v
}

func parseWrk(out string) result {
	var r result
	if m := reRPS.FindStringSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	r.p50, r.p99 = ms(reP50.FindStringSubmatch(out)), ms(reP99.FindStringSubmatch(out))
	if m := reTotal.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reNon2.FindStringSubmatch(out); m != nil {
		r.errors, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.errors += n
		}
	}
	return r
}

// procCPU is the process's user+system CPU time in seconds.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// postgresCPU is the CPU time in seconds of every PostgreSQL server
// process on this machine (the postmaster's children: backends, WAL
// writer, ...); the difference over a run is what PostgreSQL spent on it.
// Backends that exit during a run take their time with them: the
// services measured keep pooled connections.
func postgresCPU() float64 {
	entries, _ := os.ReadDir("/proc")
	var total float64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		total += procCPU(pid)
	}
	return total
}

func procStatus(pid int, key string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// findResult is the result named name in rs, or nil.
func findResult(rs []result, name string) *result {
	for i := range rs {
		if rs[i].name == name {
			return &rs[i]
		}
	}
	return nil
}

// baseline is the reference scenario r compares with among rs (one
// round): the hand-written PATCH for writes, the hand-written GET for the
// rest; nil for pgbench.
func baseline(r result, rs []result) *result {
	switch {
	case strings.HasPrefix(r.name, "pgbench"):
		return nil
	case strings.HasPrefix(r.name, "PATCH") || strings.HasPrefix(r.name, "PUT") || r.name == "reference PATCH":
		return findResult(rs, "reference PATCH")
	}
	return findResult(rs, "reference GET")
}

// printMedians prints, for each scenario, the median over the rounds of
// each column and of its ratio to its baseline in the same round.
func printMedians(rounds [][]result) {
	fmt.Printf("\n### Median of %d rounds\n\n", len(rounds))
	fmt.Printf("| scenario | req/s | vs reference (each round) | median ratio | p99 ms | CPU µs/req | PostgreSQL CPU µs/req |\n|---|---:|---|---:|---:|---:|---:|\n")
	for _, first := range rounds[0] {
		var rps, p99, cpu, pg, ratios []float64
		var each []string
		for _, rs := range rounds {
			rp := findResult(rs, first.name) // rounds run in alternating order
			if rp == nil {
				continue
			}
			r := *rp
			rps, p99, cpu, pg = append(rps, r.rps), append(p99, r.p99), append(cpu, r.cpuPerReq), append(pg, r.pgCPUPerReq)
			if b := baseline(r, rs); b != nil && b.rps > 0 {
				ratios = append(ratios, r.rps/b.rps)
				each = append(each, fmt.Sprintf("%.2f", r.rps/b.rps))
			}
		}
		ratio := "-"
		if len(ratios) > 0 {
			ratio = fmt.Sprintf("%.2fx", median(ratios))
		}
		fmt.Printf("| %s | %.0f | %s | %s | %.2f | %.0f | %.0f |\n", first.name, median(rps), strings.Join(each, ", "), ratio, median(p99), median(cpu), median(pg))
	}
}

// median is the middle of v (sorted in place), 0 for none.
func median(v []float64) float64 {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// printTracingCost prints tracing's cost for each binary measured: the
// traced GET's throughput over the same binary's untraced GET in each
// round (the two run within a minute of each other, so the machine's
// drift between rounds cancels), their median, and the median of the
// server CPU it adds.
func printTracingCost(rounds [][]result) {
	const get, traced = "REST GET", "REST GET, traced (every request sampled, OTLP export)"
	for _, suffix := range []string{"", " (before)", " (after)"} {
		var ratios, extra []float64
		var each []string
		for _, rs := range rounds {
			u, t := findResult(rs, get+suffix), findResult(rs, traced+suffix)
			if u == nil || t == nil || u.rps == 0 {
				continue
			}
			ratios, extra = append(ratios, t.rps/u.rps), append(extra, t.cpuPerReq-u.cpuPerReq)
			each = append(each, fmt.Sprintf("%.2f", t.rps/u.rps))
		}
		if len(ratios) > 0 {
			fmt.Printf("tracing every request%s: traced over untraced GET %s; median %.2f (target >= 0.90), server CPU %+.1f µs/req (median)\n",
				suffix, strings.Join(each, ", "), median(ratios), median(extra))
		}
	}
}

func printTable(rs []result) {
	find := func(name string) *result { return findResult(rs, name) }
	refPatch := find("reference PATCH")
	fmt.Printf("| scenario | req/s | vs reference | p50 ms | p99 ms | CPU µs/req | PostgreSQL CPU µs/req | peak RSS MiB | idle RSS MiB | ready ms | errors |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		base := baseline(r, rs) // writes against the hand-written write
		ratio := "-"
		if base != nil && base.rps > 0 {
			ratio = fmt.Sprintf("%.2fx", r.rps/base.rps)
		}
		fmt.Printf("| %s | %.0f | %s | %.2f | %.2f | %.0f | %.0f | %.1f | %.1f | %.0f | %d |\n", r.name, r.rps, ratio, r.p50, r.p99,
			r.cpuPerReq, r.pgCPUPerReq, float64(r.peakRSS)/1024, float64(r.idleRSS)/1024, float64(r.ready.Microseconds())/1000, r.errors)
	}
	fmt.Printf("\n(pgbench's p50 column is its average latency; PATCH and PUT compare with the reference PATCH.)\n")
	for _, r := range rs {
		if refPatch == nil || refPatch.rps == 0 || !(strings.HasPrefix(r.name, "PATCH") || strings.HasPrefix(r.name, "PUT")) {
			continue
		}
		fmt.Printf("%s: %.2fx the reference PATCH (target 0.8x), p99 %.1f ms (target 40 ms), server CPU %.2fx (target <= 2x), PostgreSQL CPU %.2fx (target <= 1.5x)\n",
			r.name, r.rps/refPatch.rps, r.p99, r.cpuPerReq/refPatch.cpuPerReq, r.pgCPUPerReq/refPatch.pgCPUPerReq)
	}
	if h, p := find("pgbench -M prepared: UPDATE + history INSERT (one CTE)"), find("pgbench -M prepared: the statement one PATCH sends"); h != nil && p != nil && h.rps > 0 {
		fmt.Printf("the statement one PATCH sends: %.2fx pgbench's UPDATE + history INSERT (target 0.7x)\n", p.rps/h.rps)
	}
}

// measurePgbench is what the database allows for a write: pgbench with
// prepared statements, one random user per transaction, with synchronous
// commit (the server's default), at the same connection count. script
// picks the statement: a single-row UPDATE; an UPDATE and a history
// INSERT in one CTE; or the very statement usersvc saves a PATCH with
// (store.PostgresSaveStatement), its parameters filled in as a PATCH of
// one's description fills them.
func measurePgbench(work, dbURL, script string) result {
	id := `'usr-bench' || lpad(:i::text, 7, '0')`
	var stmt string
	switch script {
	case "pgbench":
		stmt = "UPDATE users SET description = 'pgbench' WHERE id = " + id + ";"
	case "pgbench-history":
		stmt = "WITH saved AS (UPDATE users SET description = 'pgbench', modification = now(), version = version + 1 WHERE id = " + id +
			" RETURNING id) INSERT INTO audits (user_id, at, actor, action, address, patch) SELECT id, now(), id, 'patch', '127.0.0.1', " +
			`'[{"op":"replace","path":"/description","value":"pgbench"}]'::jsonb FROM saved;`
	case "pgbench-patch":
		stmt = patchStatement(id)
	}
	file := filepath.Join(work, script+".sql")
	must(os.WriteFile(file, []byte(fmt.Sprintf("\\set i random(1, %d)\n%s\n", *users, strings.Join(strings.Fields(stmt), " "))), 0o644))
	secs := int(duration.Seconds())
	if secs < 1 {
		secs = 1
	}
	out, err := exec.Command("pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(*conns), "-j", strconv.Itoa(*threads),
		"-T", strconv.Itoa(secs), "-r", "-f", file, dbURL).CombinedOutput()
	fmt.Fprint(os.Stderr, string(out))
	must(err)
	var r result
	if m := regexp.MustCompile(`tps = ([\d.]+)`).FindStringSubmatch(string(out)); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := regexp.MustCompile(`number of transactions actually processed: (\d+)`).FindStringSubmatch(string(out)); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := regexp.MustCompile(`latency average = ([\d.]+) ms`).FindStringSubmatch(string(out)); m != nil {
		r.p50, _ = strconv.ParseFloat(m[1], 64) // pgbench reports the average, shown in the p50 column
	}
	return r
}

// patchStatement is store.PostgresSaveStatement with its parameters filled
// in as a PATCH of one's own description fills them: every column is
// written (most with its own value), the version guard matches, and the
// history entry holds the patch.
func patchStatement(id string) string {
	stmt := store.PostgresSaveStatement()
	fill := map[string]string{"description": "'pgbench'", "modification": "now()", "version": "version + 1"}
	set := regexp.MustCompile(`(\w+) = \$(\d+)`)
	stmt = set.ReplaceAllStringFunc(stmt, func(m string) string {
		col := set.FindStringSubmatch(m)[1]
		switch {
		case col == "id":
			return "id = " + id
		case col == "version" && strings.Contains(m, "$2"):
			return "version = version" // the guard: the version read is the stored one
		case fill[col] != "":
			return col + " = " + fill[col]
		}
		return col + " = " + col
	})
	entry := []string{"now()", "'usr-bench0000001'", "'patch'", "'127.0.0.1'", `'[{"op":"replace","path":"/description","value":"pgbench"}]'`}
	rest := regexp.MustCompile(`\$(\d+)`)
	n := 0
	stmt = rest.ReplaceAllStringFunc(stmt, func(string) string { n++; return entry[min(n, len(entry))-1] })
	return stmt + ";"
}

// otlpSink serves OTLP over HTTP on a free loopback port, reading every
// export and answering it with an empty (successful) response, and
// returns its URL: the traced scenario pays for recording, encoding and
// sending its spans, and not for a collector's work.
func otlpSink() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		}))
	}()
	return "http://" + l.Addr().String()
}
