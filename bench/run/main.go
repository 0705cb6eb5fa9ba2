// Command run is `make bench`: it builds a PostgreSQL database of users and
// tokens (deterministic), starts usersvc and the hand-written reference
// server in turn, loads each with wrk, and prints req/s, p50, p99, server
// CPU per request, peak and idle RSS, and start-to-ready time, with each
// ratio to the reference. Every run is bounded by -duration per scenario.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/lib/pq"
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

// cleanups run before a failure ends the program (a cluster of the
// bench's own must not outlive it).
var cleanups []func()

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		os.Exit(1)
	}
}

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
	dbs := map[string]string{"": setupDB(*pgURL, *dbName, migrateHere)}
	fmt.Fprintln(os.Stderr, "building binaries")
	must(run("go", "build", "-o", filepath.Join(work, "usersvc"), "./cmd/usersvc"))
	if *before != "" {
		abs, err := filepath.Abs(*before)
		must(err)
		must(os.Symlink(abs, filepath.Join(work, "usersvc-before")))
		dbs["usersvc-before"] = setupDB(*pgURL, *dbName+"_before", migrateWith(abs))
	}
	must(run("go", "build", "-o", filepath.Join(work, "reference"), "./bench/reference"))
	scripts := writeScripts(work)
	traced, sampled := tracingScenarios()

	all := []scenario{
		{"reference GET", "reference", "get", 0, nil, ""},
		{"reference PATCH", "reference", "patch", 0, nil, ""},
		// Tracing's cost: the GET with every request traced and at the
		// recommended ratio (tracing.go), each right beside the GET with
		// tracing off whichever way a round runs.
		traced,
		{"REST GET", "usersvc", "get", 0, nil, ""},
		sampled,
		{"GraphQL user", "usersvc", "graphql", 0, nil, ""},
		{"PATCH (one replace)", "usersvc", "patch", 0, nil, ""},
		{"PUT", "usersvc", "put", 0, nil, ""},
		{"REST GET, one token", "usersvc", "onetoken", 0, nil, ""},
		{"REST GET another user (admin, random of all users)", "usersvc", "other", 0, nil, ""},
		{"SCIM GET filter userName eq (admin, random of all users)", "usersvc", "scimfilter", 0, nil, ""},
		{"GraphQL users page of 50 (admin)", "usersvc", "users", 0, nil, ""},
		// 8 connections: one client address may have at most 20 sign-ins
		// in flight (the throttle counts a running attempt as a failure).
		{"sign-in, 8 connections (bcrypt cost 12; no target)", "usersvc", "signin", 8, nil, ""},
		// Reads from a standby: the same two reads on a primary and
		// standby of the bench's own (standby.go), without and with
		// USERSVC_READ_URL.
		{"REST GET another user, own primary only", "usersvc", "other", 0, nil, pairPrimary},
		{"REST GET another user, own primary + standby reads", "usersvc", "other", 0, nil, pairStandby},
		{"GraphQL users page of 50, own primary only", "usersvc", "users", 0, nil, pairPrimary},
		{"GraphQL users page of 50, own primary + standby reads", "usersvc", "users", 0, nil, pairStandby},
		// SCIM against REST (scim.go), each pair side by side, the admin's
		// token throughout; the SCIM filter GET is measured beside the
		// REST GET of another user (above).
		{"REST PATCH disabled true/false (admin, another user)", "usersvc", "restdisable", 0, nil, ""},
		{"SCIM PATCH active false/true (admin, another user)", "usersvc", "scimpatch", 0, nil, ""},
		{"REST page of 100 (limit=100, first page, no count)", "usersvc", "restpage", 0, nil, ""},
		{"SCIM page of 100 with totalResults (startIndex=1)", "usersvc", "scimpage", 0, nil, ""},
		{"SCIM page of 100 with totalResults (random startIndex)", "usersvc", "scimdeep", 0, nil, ""},
		{"pgbench -M prepared: single-row UPDATE", "pgbench", "pgbench", 0, nil, ""},
		{"pgbench -M prepared: UPDATE + history INSERT (one CTE)", "pgbench", "pgbench-history", 0, nil, ""},
		{"pgbench -M prepared: the statement one PATCH sends", "pgbench", "pgbench-patch", 0, nil, ""},
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
	if pair := startPair(all); pair != nil {
		defer pair.Stop()
		dbs[pairPrimary], dbs[pairStandby] = pairDBs(pair)
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
		results := runScenarios(order, work, dbs, scripts)
		printTable(results)
		rounds = append(rounds, results)
	}
	if len(rounds) > 1 {
		printMedians(rounds)
	}
	printTracingCost(rounds)
	printSCIM(rounds)
	if *only == "" || strings.Contains(","+*only+",", ",import,") {
		fmt.Fprintln(os.Stderr, "== usersvc import, 100,000 lines")
		printImports(measureImports(work))
	}
	if !*keep {
		admin, err := sql.Open("postgres", *pgURL)
		must(err)
		defer admin.Close()
		for _, name := range []string{*dbName, *dbName + "_before"} {
			_, err = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			must(err)
		}
	}
}

// runScenarios measures each selected scenario once, in order.
// dbs maps a server to its bench database: "usersvc-before" has its own
// (-before), every other server uses dbs[""].
func runScenarios(all []scenario, work string, dbs map[string]string, scripts map[string]string) []result {
	var results []result
	for _, s := range all {
		if !selected(s) {
			continue
		}
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		benchURL, ok := dbs[s.server]
		if !ok {
			benchURL = dbs[""]
		}
		if s.db != "" {
			benchURL = dbs[pairPrimary]
		}
		if s.db == pairStandby {
			s.env = append(s.env, "USERSVC_READ_URL="+dbs[pairStandby])
		}
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
	// db: "" the bench database; pairPrimary its copy on the bench's own
	// primary; pairStandby that too, with reads from its standby.
	db string
}

// selected reports whether -only selects s (by script or server, or
// "scim": the SCIM scenarios and their REST twins).
func selected(s scenario) bool {
	if strings.Contains(","+*only+",", ",scim,") && inSCIMGroup(s) {
		return true
	}
	return *only == "" || strings.Contains(","+*only+",", ","+s.script+",") || strings.Contains(","+*only+",", ","+strings.TrimSuffix(s.server, "-before")+",")
}

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}
