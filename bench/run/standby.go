package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"usersvc/internal/testenv"
)

// The standby scenarios' databases: the bench database on a primary of
// the bench's own, and the same database on its streaming standby.
const (
	pairPrimary = "pair-primary"
	pairStandby = "pair-standby"
)

// pairConf matches the pair's servers to a default PostgreSQL 15 (the
// shared server the other scenarios run on) where it matters for reads:
// durable commits and the default buffers and connections.
var pairConf = []string{"fsync = on", "shared_buffers = 128MB", "max_connections = 100"}

// pairPrimaryPID is the pair's primary's postmaster (0 without a pair).
var pairPrimaryPID int

// startPair starts a primary and a streaming standby on free ports when a
// selected scenario reads from them, or nil (saying so when the server
// programs are missing: those scenarios are then skipped).
func startPair(all []scenario) *testenv.Replicated {
	need := false
	for _, s := range all {
		need = need || s.db != "" && selected(s)
	}
	if !need {
		return nil
	}
	fmt.Fprintln(os.Stderr, "starting a primary and a streaming standby of the bench's own")
	pair, skip, err := testenv.NewReplicated(pairConf, nil)
	if skip != "" {
		must(fmt.Errorf("the standby scenarios need PostgreSQL's server programs: %s (leave them out with -only)", skip))
	}
	must(err)
	pairPrimaryPID = pair.PrimaryPID()
	return pair
}

// printPairCPU says, for the scenarios on the pair, how much of
// PostgreSQL's CPU per request the primary spent (the rest: the standby,
// and the shared server's idle processes).
func printPairCPU(rs []result) {
	for _, r := range rs {
		if strings.Contains(r.name, "own primary") {
			fmt.Printf("%s: PostgreSQL CPU %.0f µs/req, of which the primary %.0f\n", r.name, r.pgCPUPerReq, r.pairPrimaryCPU)
		}
	}
}

// pairDBs seeds the bench database on the pair's primary, waits for the
// standby to replay it, and returns the URL of each (the standby's with
// target_session_attrs=standby, as an operator would give it).
func pairDBs(pair *testenv.Replicated) (primary, standby string) {
	cleanups = append(cleanups, pair.Stop)
	primary = setupDB(pair.PrimaryURL, *dbName, migrateHere)
	must(pair.WaitReplayed(2 * time.Minute))
	p, err := url.Parse(primary)
	must(err)
	s, err := url.Parse(pair.StandbyURL)
	must(err)
	s.Path = p.Path
	q := s.Query()
	q.Set("target_session_attrs", "standby")
	s.RawQuery = q.Encode()
	return primary, s.String()
}
