package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"usersvc/e2e/internal/harness"
)

// scaleUser is a user of the scale run: its session token and how many of
// its requests were answered (each one counts in its usage).
type scaleUser struct {
	id, token string
	answered  atomic.Int64
}

// scaleRun measures what docs/deploy.md promises at scale, on the running
// three-replica cluster (print, not pass/fail, except where noted):
//
//  1. writes: self-PATCH through HAProxy to three replicas and to the
//     first alone, same client and connections, interleaved 3,1,3,1;
//  2. metering: -users users (3000) each reading themselves across the
//     three replicas, then, 2 s after the load, each user asks one replica
//     (user i the replica i mod 3) for their usage, which must be exact;
//  3. a kill -9 of one replica under the same load: the counts lost (the
//     answered requests the database never counted), against the bound of
//     1 s of that replica's counts.
func scaleRun(ctx context.Context, c *cluster, adminToken string) error {
	tr := &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}
	front3 := &client{base: c.front, http: &http.Client{Transport: tr}}
	front1 := &client{base: fmt.Sprintf("http://127.0.0.1:%d", *port+20), http: &http.Client{Transport: tr}}
	sticky := &client{base: fmt.Sprintf("http://127.0.0.1:%d", *port+21), http: &http.Client{Transport: tr}}
	if err := harness.WaitHTTP(front1.base+"/readyz", 10*time.Second); err != nil {
		return err
	}
	us, err := scaleUsers(front3, adminToken, *users)
	if err != nil {
		return err
	}
	log.Printf("%d users ready, each signed in with an API key", len(us))

	// 1. Writes: three replicas against one, same 48 connections.
	const conns = 48
	var seq atomic.Int64
	patch := func(cl *client) func(u *scaleUser) bool {
		return func(u *scaleUser) bool {
			st, _, err := cl.do("PATCH", "/api/users/"+u.id, u.token, "application/json-patch+json",
				fmt.Sprintf(`[{"op":"replace","path":"/description","value":"d%d"}]`, seq.Add(1)))
			return err == nil && st == 200
		}
	}
	db, err := sql.Open("postgres", c.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	rates := map[string][]float64{}
	for _, run := range []string{"3", "1", "3 sticky", "3", "1", "3 sticky"} {
		cl := map[string]*client{"3": front3, "1": front1, "3 sticky": sticky}[run]
		idle0, total0 := cpuTimes()
		waits := sampleWaits(ctx, db, 8*time.Second)
		ok, failed := scaleLoad(ctx, us, conns, 8*time.Second, patch(cl))
		idle1, total1 := cpuTimes()
		if failed > 0 {
			return fmt.Errorf("writes on %s replica(s): %d failed", run, failed)
		}
		rates[run] = append(rates[run], float64(ok)/8)
		log.Printf("self-PATCH, %s replica(s), %d connections, %d users: %.0f req/s; machine CPU idle %.0f%%; PostgreSQL active backends' waits: %s",
			run, conns, len(us), float64(ok)/8, 100*float64(idle1-idle0)/float64(max(1, total1-total0)), <-waits)
	}

	// 2. Metering at this many users.
	get := func(u *scaleUser) bool {
		st, _, err := front3.do("GET", "/api/users/"+u.id, u.token, "", "")
		return err == nil && st == 200
	}
	ok, failed := scaleLoad(ctx, us, conns, 15*time.Second, get)
	loadEnd := time.Now()
	log.Printf("metering load: %d users, %.0f req/s for 15 s (%d failed)", len(us), float64(ok)/15, failed)
	time.Sleep(time.Until(loadEnd.Add(2 * time.Second)))
	var exact, wrong atomic.Int64
	var samples []string
	var mu sync.Mutex
	checkStart := time.Now()
	scaleEach(us, 32, func(i int, u *scaleUser) {
		r := c.replicas[i%len(c.replicas)]
		cl := &client{base: "http://" + r.addr, http: front3.http}
		st, m, err := cl.do("GET", "/api/users/"+u.id, u.token, "", "")
		if err != nil || st != 200 {
			wrong.Add(1)
			return
		}
		u.answered.Add(1)
		got, _ := m["apiUsage"].(json.Number).Int64()
		if got == u.answered.Load() {
			exact.Add(1)
			return
		}
		wrong.Add(1)
		mu.Lock()
		if len(samples) < 5 {
			samples = append(samples, fmt.Sprintf("%s on %s: %d, want %d", u.id, r.name, got, u.answered.Load()))
		}
		mu.Unlock()
	})
	log.Printf("metering: 2 s after the load, checked over %.1f s: %d of %d users exact on the replica asked (%s)",
		time.Since(checkStart).Seconds(), exact.Load(), len(us), strings.Join(samples, "; "))

	// 3. kill -9 of one replica under load: what the database lost.
	stored := func() (int64, error) {
		var n int64
		err := db.QueryRow(`SELECT coalesce(sum(count), 0) FROM usages WHERE day = 'total'`).Scan(&n)
		return n, err
	}
	time.Sleep(2 * time.Second) // everything so far is written
	before, err := stored()
	if err != nil {
		return err
	}
	var answeredBefore int64
	for _, u := range us {
		answeredBefore += u.answered.Load()
	}
	victim := c.replicas[1]
	killCtx, stopKill := context.WithCancel(ctx)
	defer stopKill()
	go func() {
		select {
		case <-time.After(5 * time.Second):
			log.Printf("kill -9 %s", victim.name)
			_ = victim.cmd.Process.Signal(syscall.SIGKILL)
		case <-killCtx.Done():
		}
	}()
	ok, failed = scaleLoad(ctx, us, conns, 10*time.Second, get)
	<-victim.done
	rate := float64(ok) / 10
	time.Sleep(3 * time.Second) // the survivors write what they counted
	after, err := stored()
	if err != nil {
		return err
	}
	var answered int64
	for _, u := range us {
		answered += u.answered.Load()
	}
	// The database had counted everything answered before this load (and
	// the checks' answers, read above); what it misses now is lost.
	lost := (answered - answeredBefore) - (after - before)
	perReplica := rate / float64(len(c.replicas))
	log.Printf("kill -9 under %.0f req/s (%d failed while HAProxy noticed): %d answered counts lost, %.2f s of one replica's counts (bound: 1 s)",
		rate, failed, lost, float64(lost)/perReplica)
	if err := c.start(victim); err != nil {
		return err
	}

	for _, r := range rates {
		sort.Float64s(r)
	}
	fmt.Printf("scale: self-PATCH with %d users: 3 replicas round-robin %.0f-%.0f req/s, 3 replicas by token %.0f-%.0f req/s, 1 replica %.0f-%.0f req/s; metering %d/%d users exact 2 s after the load; kill -9 lost %d counts (%.2f s of a replica's)\n",
		len(us), rates["3"][0], rates["3"][1], rates["3 sticky"][0], rates["3 sticky"][1], rates["1"][0], rates["1"][1], exact.Load(), len(us), lost, float64(lost)/perReplica)
	if exact.Load() != int64(len(us)) {
		return fmt.Errorf("metering: %d of %d users were not exact 2 s after the load", wrong.Load(), len(us))
	}
	return nil
}

// scaleUsers creates n users through cl, each with an API key it signs in
// with (no bcrypt: fast at thousands).
func scaleUsers(cl *client, adminToken string, n int) ([]*scaleUser, error) {
	us := make([]*scaleUser, n)
	var firstErr error
	var mu sync.Mutex
	scaleEach(us, 16, func(i int, _ *scaleUser) {
		fail := func(err error) {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
		email := fmt.Sprintf("scale%d@cluster.test", i)
		body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("Scale %d", i), "email": email, "country": "ES", "timeZone": "UTC"})
		st, m, err := cl.do("POST", "/api/users", adminToken, "application/json", string(body))
		if err != nil || st != 201 {
			fail(fmt.Errorf("creating user %d: %d %v %v", i, st, m, err))
			return
		}
		u := &scaleUser{id: m["id"].(string)}
		st, m, err = cl.do("POST", "/api/users/"+u.id+"/apiKeys", adminToken, "application/json", `{"label":"scale"}`)
		if err != nil || st != 201 {
			fail(fmt.Errorf("API key for user %d: %d %v %v", i, st, m, err))
			return
		}
		st, m, err = cl.do("POST", "/api/Auth/Token", "", "application/json", fmt.Sprintf(`{"userName":%q,"apiKey":%q}`, email, m["key"]))
		if err != nil || st != 200 {
			fail(fmt.Errorf("signing user %d in: %d %v %v", i, st, m, err))
			return
		}
		u.token = m["token"].(string)
		u.answered.Add(1) // the sign-in counts
		us[i] = u
	})
	return us, firstErr
}

// scaleEach runs fn for every user on workers goroutines.
func scaleEach(us []*scaleUser, workers int, fn func(i int, u *scaleUser)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(us); i = int(next.Add(1)) - 1 {
				fn(i, us[i])
			}
		}()
	}
	wg.Wait()
}

// scaleLoad runs do on conns goroutines for d, each request for a random
// user, and counts answered (and failed) requests; an answered request
// counts in its user's usage.
func scaleLoad(ctx context.Context, us []*scaleUser, conns int, d time.Duration, do func(u *scaleUser) bool) (ok, failed int64) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var okN, failN atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				u := us[randInt(len(us))]
				if do(u) {
					u.answered.Add(1)
					okN.Add(1)
				} else {
					failN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return okN.Load(), failN.Load()
}

// cpuTimes reads the machine's idle and total CPU time (/proc/stat).
func cpuTimes() (idle, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return idle, total
}

// sampleWaits samples the wait events of PostgreSQL's active backends
// every 50 ms for d and sends a summary (the most frequent first).
func sampleWaits(ctx context.Context, db *sql.DB, d time.Duration) <-chan string {
	out := make(chan string, 1)
	go func() {
		counts := map[string]int{}
		samples := 0
		end := time.Now().Add(d)
		for time.Now().Before(end) && ctx.Err() == nil {
			rows, err := db.QueryContext(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
				WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
			if err == nil {
				for rows.Next() {
					var w string
					if rows.Scan(&w) == nil {
						counts[w]++
					}
				}
				rows.Close()
				samples++
			}
			time.Sleep(50 * time.Millisecond)
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
		var parts []string
		for _, k := range keys[:min(4, len(keys))] {
			parts = append(parts, fmt.Sprintf("%s %.1f", k, float64(counts[k])/float64(max(1, samples))))
		}
		out <- strings.Join(parts, ", ") + " (mean per sample)"
	}()
	return out
}
