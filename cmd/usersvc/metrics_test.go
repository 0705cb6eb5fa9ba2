package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"usersvc/internal/testenv"
)

// freeAddr returns a loopback address nothing listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// serveFor starts serve with args until the test ends; it returns once the
// public address answers /healthz.
func serveFor(t *testing.T, addr string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errb testenv.SyncBuffer
	db := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	go func() {
		done <- run(ctx, append([]string{"serve", "-database-url", db, "-addr", addr}, args...), nil, &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for i := 0; i < 300; i++ { // bounded wait for the listener, not a timing assertion
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
			r.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the server did not start")
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
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
		pub := freeAddr(t)
		serveFor(t, pub)
		if code, _ := get(t, "http://"+pub+"/metrics", ""); code != 404 {
			t.Fatalf("public /metrics: %d, want 404", code)
		}
	})
	t.Run("internal address", func(t *testing.T) {
		pub, internal := freeAddr(t), freeAddr(t)
		serveFor(t, pub, "-metrics-addr", internal)
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
		pub := freeAddr(t)
		t.Setenv("USERSVC_METRICS_TOKEN", "m3trics")
		serveFor(t, pub)
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
		err = run(context.Background(), []string{"serve", "-database-url", db, "-addr", freeAddr(t), "-metrics-addr", l.Addr().String()}, nil, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("serve with the metrics address taken: %v", err)
		}
		if out.String() != "" { // no first admin whose token nobody can use
			t.Fatalf("stdout: %q", out.String())
		}
	})
}
