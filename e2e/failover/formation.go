package main

// The pg_auto_failover formation scripts/failover.sh made: its monitor
// (through pg_autoctl), its nodes, and a probe that measures the
// database's own unavailability.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// node is one data node: its port and data directory.
type node struct {
	port   int
	pgdata string
}

type formation struct {
	autoctl string // the wrapper running pg_autoctl as postgres
	monitor string // the monitor's URI
	nodes   []node
}

// autoctlRun runs pg_autoctl with args, bounded by limit.
func (f *formation) autoctlRun(limit time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, f.autoctl, args...).CombinedOutput()
	return string(out), err
}

type nodeState struct {
	Port     int    `json:"nodeport"`
	Current  string `json:"current_group_state"`
	Assigned string `json:"assigned_group_state"`
	TLI      int    `json:"reported_tli"`
}

// state is the monitor's view of the nodes.
func (f *formation) state() ([]nodeState, error) {
	out, err := f.autoctlRun(10*time.Second, "show", "state", "--json", "--monitor", f.monitor)
	if err != nil {
		return nil, fmt.Errorf("pg_autoctl show state: %v\n%s", err, out)
	}
	var s []nodeState
	if i := strings.Index(out, "["); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("pg_autoctl show state: %v\n%s", err, out)
	}
	return s, nil
}

// stable waits until one node is primary and every other secondary, as
// assigned, for at most limit; it returns the primary's port.
func (f *formation) stable(limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	var last []nodeState
	for time.Now().Before(deadline) {
		s, err := f.state()
		if err == nil {
			last = s
			primary, ok := 0, len(s) == len(f.nodes)
			for _, n := range s {
				switch {
				case n.Current != n.Assigned:
					ok = false
				case n.Current == "primary":
					primary = n.Port
				case n.Current != "secondary":
					ok = false
				}
			}
			if ok && primary != 0 {
				return primary, nil
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	return 0, fmt.Errorf("the formation did not settle within %s: %+v", limit, last)
}

// kill9 kills the postmaster of the node on port (its postmaster.pid's
// first line) with SIGKILL.
func (f *formation) kill9(port int) (int, error) {
	i := slices.IndexFunc(f.nodes, func(n node) bool { return n.port == port })
	if i < 0 {
		return 0, fmt.Errorf("no node on port %d", port)
	}
	b, err := os.ReadFile(filepath.Join(f.nodes[i].pgdata, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return 0, err
	}
	return pid, syscall.Kill(pid, syscall.SIGKILL)
}

// probeDSN is a key/value string lib/pq reads: every node, the primary
// wanted, a new connection bounded to 1 s.
func (f *formation) probeDSN() string {
	var hosts, ports []string
	for _, n := range f.nodes {
		hosts = append(hosts, "127.0.0.1")
		ports = append(ports, strconv.Itoa(n.port))
	}
	return fmt.Sprintf("host=%s port=%s dbname=%s user=postgres sslmode=disable target_session_attrs=read-write connect_timeout=1",
		strings.Join(hosts, ","), strings.Join(ports, ","), *dbName)
}

// probe writes through a new connection to the primary every 200 ms and
// records when each write was acknowledged: the database's own
// availability for writes, with nothing of usersvc in between. Writes run
// side by side (at most 20 at once), each bounded to 10 s: a commit that
// waits for a synchronous standby is waited for, not cancelled (a
// cancelled wait would report the commit, made locally, as a success).
type probe struct {
	mu   sync.Mutex
	oks  []time.Time
	runs int
}

// createProbeTable makes the probe's table.
func createProbeTable(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("CREATE TABLE IF NOT EXISTS failover_probe (at timestamptz NOT NULL)")
	return err
}

func (p *probe) run(ctx context.Context, dsn string) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, 20)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			continue // 20 writes waiting: the database is not taking them
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			p.once(dsn)
		}()
	}
}

const probeBound = 10 * time.Second

func (p *probe) once(dsn string) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return
	}
	defer db.Close()
	start := time.Now()
	c, cancel := context.WithTimeout(context.Background(), probeBound)
	defer cancel()
	// A row written and committed as the service's writes are: only a
	// primary takes it, and with a synchronous standby its commit waits
	// for the standby (after a crash, until the standby connects again).
	_, err = db.ExecContext(c, "INSERT INTO failover_probe VALUES (now())")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs++
	if err == nil && time.Since(start) < probeBound-500*time.Millisecond {
		p.oks = append(p.oks, time.Now())
	}
}

func (p *probe) successes() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.oks)
}

// longestGap is the longest time between two successive instants of ts
// (sorted) within [from, to], the ends counting as instants: how long
// nothing succeeded.
func longestGap(ts []time.Time, from, to time.Time) time.Duration {
	prev, gap := from, time.Duration(0)
	for _, t := range ts {
		if t.Before(from) || t.After(to) {
			continue
		}
		gap = max(gap, t.Sub(prev))
		prev = t
	}
	return max(gap, to.Sub(prev))
}
