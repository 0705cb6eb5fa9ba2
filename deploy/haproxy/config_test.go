package haproxy_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usersvc/deploy/haproxy"
)

// TestConfigInDocs: the configuration docs/deploy.md lists is Config's,
// for its three replicas.
func TestConfigInDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	want := haproxy.Config("/etc/haproxy/errors/usersvc-503.http", "127.0.0.1:18080",
		[]string{"127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"})
	blocks := regexp.MustCompile("(?s)```\n(defaults\n.*?)```\n").FindAllSubmatch(doc, -1)
	if len(blocks) != 1 {
		t.Fatalf("docs/deploy.md has %d listings starting with defaults, want 1", len(blocks))
	}
	if got := string(blocks[0][1]); got != want {
		t.Fatalf("docs/deploy.md lists\n%s\nConfig writes\n%s", got, want)
	}
}

// replica stands for a usersvc process: /readyz answers 200 while ready,
// /readyz?database=skip while live (up and not draining); anything else
// is answered by it, named in X-Replica.
type replica struct {
	name        string
	ready, live atomic.Bool
	addr        string
}

func (r *replica) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/readyz" {
		ok := r.ready.Load()
		if req.URL.Query().Get("database") == "skip" {
			ok = r.live.Load()
		}
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return
	}
	w.Header().Set("X-Replica", r.name)
	_, _ = io.WriteString(w, "served by "+r.name)
}

// TestBackups starts HAProxy with Config in front of two replicas whose
// checks answer as each case says, and checks which replicas take
// requests: the ready ones; while none is ready, every live one (the
// backups); with none live, HAProxy itself, with the errorfile.
func TestBackups(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy is not installed (apt-get install haproxy): only the file itself was checked")
	}
	a, b := &replica{name: "a"}, &replica{name: "b"}
	for _, r := range []*replica{a, b} {
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		r.addr = strings.TrimPrefix(srv.URL, "http://")
	}
	p := startHAProxy(t, bin, []string{a.addr, b.addr})

	type state struct{ ready, live bool }
	for _, c := range []struct {
		name string
		a, b state
		want string // the replicas that answer, "" for the errorfile
	}{
		{"both ready", state{true, true}, state{true, true}, "ab"},
		{"one ready, the other live: backups stay out", state{true, true}, state{false, true}, "a"},
		{"one ready, the other draining", state{false, false}, state{true, true}, "b"},
		{"none ready, both live: every backup", state{false, true}, state{false, true}, "ab"},
		{"none ready, one live", state{false, false}, state{false, true}, "b"},
		{"none live", state{false, false}, state{false, false}, ""},
		{"ready again", state{true, true}, state{true, true}, "ab"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a.ready.Store(c.a.ready)
			a.live.Store(c.a.live)
			b.ready.Store(c.b.ready)
			b.live.Store(c.b.live)
			// The checks (every 500 ms, fall 2, rise 2) take a second or
			// two to see the change: until HAProxy shows each server so,
			// for at most 15 s.
			want := map[string]bool{
				"replicas/r1": c.a.ready, "replicas/r2": c.b.ready,
				"live/r1": c.a.live, "live/r2": c.b.live,
				"replicas/r1-live": c.a.live, "replicas/r2-live": c.b.live,
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				got := p.states(t)
				if maps.Equal(got, want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("servers up: %v, want %v", got, want)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got, problem := answerers(t, p.front, 20); problem != "" || got != c.want {
				t.Fatalf("answered by %q (%s), want %q", got, problem, c.want)
			}
		})
	}
}

// answerers sends n requests through the balancer and returns which
// replicas answered them (sorted, each once; "" when the errorfile
// answered every one), or what was wrong: an answer that is neither a
// replica's nor the errorfile, or a mix of both.
func answerers(t *testing.T, front string, n int) (string, string) {
	t.Helper()
	seen := map[string]bool{}
	errorfile := 0
	for range n {
		resp, err := http.Get("http://" + front + "/api/users/me")
		if err != nil {
			return "", err.Error()
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return "", err.Error()
		}
		switch name := resp.Header.Get("X-Replica"); {
		case name != "" && resp.StatusCode == 200:
			seen[name] = true
		case resp.StatusCode == http.StatusServiceUnavailable && bytes.Equal(body, restUnavailable(t).Body.Bytes()):
			checkAnswer(t, resp, body)
			errorfile++
		default:
			return "", "unexpected answer " + resp.Status + ": " + string(body)
		}
	}
	if errorfile > 0 && errorfile < n {
		return "", "the errorfile answered some requests, replicas others"
	}
	got := ""
	for _, name := range []string{"a", "b"} {
		if seen[name] {
			got += name
		}
	}
	return got, ""
}

// proxy is a running HAProxy: its address and its admin socket.
type proxy struct{ front, socket string }

// startHAProxy runs HAProxy with Config (and the errorfile) in front of
// servers, with an admin socket, and returns once it answers.
func startHAProxy(t *testing.T, bin string, servers []string) *proxy {
	t.Helper()
	dir := t.TempDir()
	errorfile := filepath.Join(dir, "503.http")
	if err := os.WriteFile(errorfile, haproxy.Error503, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proxy{front: freePort(t), socket: filepath.Join(dir, "admin.sock")}
	cfg := "global\n  stats socket " + p.socket + "\n" + haproxy.Config(errorfile, p.front, servers)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 100 { // until HAProxy listens (bounded)
		resp, err := http.Get("http://" + p.front + "/")
		if err == nil {
			resp.Body.Close()
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no answer from haproxy\n%s", log.String())
	return nil
}

// states asks HAProxy (show stat) which servers are up: backend/server
// to true for UP, false for DOWN; a server between the two (UP 1/2, DOWN
// 1/2: a check changed, not enough yet) is left out.
func (p *proxy) states(t *testing.T) map[string]bool {
	t.Helper()
	conn, err := net.Dial("unix", p.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(conn).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("show stat: %v", err)
	}
	col := slices.Index(rows[0], "status")
	if col < 0 {
		t.Fatalf("show stat has no status column: %v", rows[0])
	}
	out := map[string]bool{}
	for _, row := range rows[1:] {
		if row[1] == "FRONTEND" || row[1] == "BACKEND" {
			continue
		}
		switch row[col] {
		case "UP":
			out[row[0]+"/"+row[1]] = true
		case "DOWN":
			out[row[0]+"/"+row[1]] = false
		}
	}
	return out
}
