package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type result struct {
	name             string
	rps, p50, p99    float64 // req/s, ms, ms
	requests, errors int64
	cpuPerReq        float64 // microseconds of server CPU per request
	pgCPUPerReq      float64 // microseconds of PostgreSQL CPU (every server process) per request
	pairPrimaryCPU   float64 // of which the bench's own primary's (standby.go), per request
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
		// --timeout 30s: wrk's 2 s default gave up on sign-ins queued for
		// a hash slot (8 at once on 2 cores at bcrypt cost 12 take 1-2 s),
		// and the server counts a check cut after its hash started as a
		// failed attempt, so later rounds met the throttle.
		out, err := exec.Command("wrk", "-t", strconv.Itoa(*threads), "-c", strconv.Itoa(conns), "-d", d.String(),
			"--timeout", "30s", "--latency", "-s", script, "http://"+addr).CombinedOutput()
		must(err)
		return parseWrk(string(out)), string(out)
	}
	load(*warmup)
	cpu0, pg0, pp0 := procCPU(cmd.Process.Pid), postgresCPU(), postgresCPUOf(pairPrimaryPID)
	r, out := load(*duration)
	cpu1, pg1, pp1 := procCPU(cmd.Process.Pid), postgresCPU(), postgresCPUOf(pairPrimaryPID)
	r.idleRSS, r.peakRSS, r.ready = idle, procStatus(cmd.Process.Pid, "VmHWM"), ready
	if r.requests > 0 {
		r.cpuPerReq = (cpu1 - cpu0) / float64(r.requests) * 1e6
		r.pgCPUPerReq = (pg1 - pg0) / float64(r.requests) * 1e6
		r.pairPrimaryCPU = (pp1 - pp0) / float64(r.requests) * 1e6
	}
	fmt.Fprint(os.Stderr, out)
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

// postgresCPUOf is the CPU time in seconds of the postmaster pid and its
// children (0 for pid 0).
func postgresCPUOf(pid int) float64 {
	if pid == 0 {
		return 0
	}
	total := procCPU(pid)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += procCPU(child)
		}
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
