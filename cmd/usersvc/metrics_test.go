package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"usersvc/internal/testenv"
)

// serveFor starts serve with args on 127.0.0.1:0 until the test ends, and
// returns the addresses it bound, read from its "serving" log lines: the
// public one and, when args ask for one, the metrics one. The kernel picks
// the ports as the server binds them, so no other process can take one
// between a test choosing it and the server binding it.
func serveFor(t *testing.T, args ...string) (public, metrics string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errb testenv.SyncBuffer
	db := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	go func() {
		done <- run(ctx, append([]string{"serve", "-database-url", db, "-addr", "127.0.0.1:0"}, args...), nil, &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	wantMetrics := slices.Contains(args, "-metrics-addr")
	for i := 0; i < 300; i++ { // bounded wait for the listener, not a timing assertion
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, errb.String())
		default:
		}
		log := errb.String()
		public, metrics = logAddr(log, `msg=serving addr=`), logAddr(log, `msg="serving metrics" addr=`)
		if public != "" && (metrics != "" || !wantMetrics) {
			if r, err := http.Get("http://" + public + "/healthz"); err == nil {
				r.Body.Close()
				return public, metrics
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server did not start:\n%s", errb.String())
	return "", ""
}

// logAddr is the address after prefix in a text log, or "".
func logAddr(log, prefix string) string {
	_, rest, ok := strings.Cut(log, prefix)
	if !ok {
		return ""
	}
	if f := strings.Fields(rest); len(f) > 0 {
		return f[0]
	}
	return ""
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestMetricsAddress: /metrics is not on the public address by default; an
// internal address serves it (and nothing else) without a token; with a
// metrics token the public address serves it to that token only.
func TestMetricsAddress(t *testing.T) {
	t.Run("default: not public", func(t *testing.T) {
		pub, _ := serveFor(t)
		if code, _ := get(t, "http://"+pub+"/metrics", ""); code != 404 {
			t.Fatalf("public /metrics: %d, want 404", code)
		}
	})
	t.Run("internal address", func(t *testing.T) {
		pub, internal := serveFor(t, "-metrics-addr", "127.0.0.1:0")
		get(t, "http://"+pub+"/healthz", "")
		if code, _ := get(t, "http://"+pub+"/metrics", ""); code != 404 {
			t.Fatalf("public /metrics: %d, want 404", code)
		}
		code, body := get(t, "http://"+internal+"/metrics", "")
		if code != 200 || !strings.Contains(body, `usersvc_http_requests_total{method="GET",route="/healthz",status="200"}`) {
			t.Fatalf("internal /metrics: %d %.300s", code, body)
		}
		for _, p := range []string{"/healthz", "/api/users", "/graphql", "/"} {
			if code, _ := get(t, "http://"+internal+p, ""); code != 404 {
				t.Fatalf("internal %s: %d, want 404", p, code)
			}
		}
	})
	t.Run("token on the public address", func(t *testing.T) {
		t.Setenv("USERSVC_METRICS_TOKEN", "m3trics")
		pub, _ := serveFor(t)
		if code, _ := get(t, "http://"+pub+"/metrics", ""); code != 401 {
			t.Fatalf("public /metrics without the token: %d, want 401", code)
		}
		if code, _ := get(t, "http://"+pub+"/metrics", "wrong"); code != 401 {
			t.Fatalf("public /metrics with a wrong token: %d, want 401", code)
		}
		if code, body := get(t, "http://"+pub+"/metrics", "m3trics"); code != 200 || !strings.Contains(body, "usersvc_http_requests_total") {
			t.Fatalf("public /metrics with the token: %d %.200s", code, body)
		}
	})
	t.Run("internal address in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		db := "sqlite:" + filepath.Join(t.TempDir(), "busy.db")
		var out, errb testenv.SyncBuffer
		err = run(context.Background(), []string{"serve", "-database-url", db, "-addr", "127.0.0.1:0", "-metrics-addr", l.Addr().String()}, nil, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("serve with the metrics address taken: %v", err)
		}
		if out.String() != "" { // no first admin whose token nobody can use
			t.Fatalf("stdout: %q", out.String())
		}
	})
}
