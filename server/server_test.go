package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
	"usersvc/playground"
	"usersvc/server"
)

func TestRequestLogAndRoutes(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var logs testenv.SyncBuffer
		h := server.New(e.Svc, server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		secret := "correct horse battery"
		r := testenv.Do(t, h, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken,
			`[{"op":"replace","path":"/password","value":"`+secret+`"}]`, "Content-Type: application/json-patch+json", "X-Request-Id: req-42")
		if r.Status != 200 || r.Header.Get("X-Request-Id") != "req-42" {
			t.Fatalf("patch: %d %v", r.Status, r.Header)
		}
		testenv.Do(t, h, "GET", "/api/users/"+e.Alice.ID+"?access_token="+e.AliceToken, "", "")
		out := logs.String()
		if !strings.Contains(out, `"request_id":"req-42"`) || !strings.Contains(out, `"user":"`+e.Alice.ID+`"`) {
			t.Fatalf("log lacks request id or user: %s", out)
		}
		if strings.Contains(out, e.AliceToken) || strings.Contains(out, secret) {
			t.Fatalf("log leaks a secret: %s", out)
		}
		if n := strings.Count(out, `"msg":"request"`); n != 2 {
			t.Fatalf("%d request lines for 2 requests", n)
		}
		// A hostile request id is replaced.
		if r := testenv.Do(t, h, "GET", "/healthz", "", "", "X-Request-Id: a b\tc"); r.Header.Get("X-Request-Id") == "a b\tc" {
			t.Fatal("request id not sanitized")
		}
		if r := testenv.Do(t, h, "GET", "/", "", ""); r.Status != 302 || r.Header.Get("Location") != "/playground" {
			t.Fatalf("/: %d %s", r.Status, r.Header.Get("Location"))
		}
		r = testenv.Do(t, h, "GET", "/playground", "", "")
		if r.Status != 200 || !strings.Contains(string(r.Body), `id="token"`) || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("/playground: %d %v", r.Status, r.Header)
		}
		if strings.Contains(string(r.Body), "https://") {
			t.Fatalf("the playground page loads something from elsewhere: %s", r.Body)
		}
		// The GraphiQL assets are committed, so every build embeds them.
		if !playground.Available() || strings.Contains(string(r.Body), "make playground") {
			t.Fatalf("GraphiQL assets are not embedded: %s", r.Body)
		}
		for _, asset := range []string{"graphiql.js", "graphiql.css"} {
			if a := testenv.Do(t, h, "GET", "/playground/"+asset, "", ""); a.Status != 200 || len(a.Body) < 100000 {
				t.Fatalf("%s: %d, %d bytes", asset, a.Status, len(a.Body))
			}
		}
		if r := testenv.Do(t, h, "POST", "/api/users/"+e.Alice.ID, e.AliceToken, ""); r.Status != 405 || r.JSON["success"] != false {
			t.Fatalf("POST on a user: %d %s", r.Status, r.Body)
		}
		if r := testenv.Do(t, h, "GET", "/api/nothing", e.AliceToken, ""); r.Status != 404 || r.JSON["success"] != false {
			t.Fatalf("unknown route: %d %s", r.Status, r.Body)
		}
	})
}

func TestMetrics(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		m := server.NewMetrics(e.Store.DB())
		e.Svc.Meter.Flushed = m.UsageFlushed
		h := server.New(e.Svc, server.Config{Metrics: m, MetricsToken: "s3cret", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		testenv.Do(t, h, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, "")
		testenv.Do(t, h, "GET", "/api/users/usr-nope", e.AliceToken, "")
		testenv.Do(t, h, "POST", "/graphql", e.AliceToken, `{"query":"query Mine { me { id } }"}`)
		for i := range 3 { // not signed in: no series of their own
			testenv.Do(t, h, "POST", "/graphql", "", fmt.Sprintf(`{"query":"mutation Flood%d { login(email: \"x@example.com\", password: \"wrong password\") { token } }"}`, i))
		}
		if err := e.Svc.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r := testenv.Do(t, h, "GET", "/metrics", "", ""); r.Status != 401 {
			t.Fatalf("metrics without the token: %d", r.Status)
		}
		r := testenv.Do(t, h, "GET", "/metrics", "s3cret", "")
		body := string(r.Body)
		for _, want := range []string{
			`usersvc_http_requests_total{method="GET",route="/api/users/{userId}",status="200"} 1`,
			`usersvc_http_requests_total{method="GET",route="/api/users/{userId}",status="404"} 1`,
			`usersvc_http_request_duration_seconds_bucket{method="POST",route="/graphql"`,
			`usersvc_graphql_operations_total{operation="Mine"} 1`,
			`go_sql_open_connections{db_name="usersvc"}`,
			`usersvc_usage_flushes_total{result="ok"} 1`,
			`usersvc_usage_flushed_users_total 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(body, e.Alice.ID) {
			t.Error("a user id became a label")
		}
		if strings.Contains(body, `operation="Flood`) || !strings.Contains(body, `usersvc_graphql_operations_total{operation="anonymous"} 3`) {
			t.Error("operations of callers not signed in named their own series")
		}
	})
}

// TestSlowClientsAreCut: a client that never finishes its headers loses
// the connection after the read-header timeout.
func TestSlowClientsAreCut(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := server.NewHTTPServer("", h, server.Timeouts{ReadHeader: 200 * time.Millisecond, Read: time.Second, Write: time.Second, Idle: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound, so a broken server fails instead of hanging
	buf := make([]byte, 1024)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server kept a slow client's connection open")
			}
			return // closed by the server
		}
	}
}

// TestRequestDeadline: work past the request deadline is abandoned with 503.
func TestRequestDeadline(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		h := server.New(e.Svc, server.Config{RequestTimeout: time.Nanosecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		r := testenv.Do(t, h, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, "")
		if r.Status != 503 || r.JSON["error"] != "The request took too long." {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

// TestRequestLogNamesCaller: the request line of an authenticated request
// names its caller, on both transports.
func TestRequestLogNamesCaller(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, c := range []struct{ name, method, path, body string }{
			{"REST", "GET", "/api/users/" + e.Alice.ID, ""},
			{"GraphQL", "POST", "/graphql", `{"query":"{ me { id } }"}`},
		} {
			var logs testenv.SyncBuffer
			h := server.New(e.Svc, server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			if r := testenv.Do(t, h, c.method, c.path, e.AliceToken, c.body); r.Status != 200 {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
			}
			if out := logs.String(); !strings.Contains(out, `"msg":"request"`) || !strings.Contains(out, `"user":"`+e.Alice.ID+`"`) {
				t.Errorf("%s: the request line does not name the caller: %s", c.name, out)
			}
		}
	})
}
