package main

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestServeWithReadURL: serve with USERSVC_READ_URL starts on a real
// standby, migrates the primary only and answers lists through the
// standby; a read URL on a schema that was never migrated stays so (the
// reads it cannot answer go to the primary); a read URL on a server of
// another cluster stops the start.
func TestServeWithReadURL(t *testing.T) {
	clearEnv(t)
	cl := testenv.StartReplicated(t)
	primaryURL, standbyURL := cl.Schema(t)
	t.Setenv("USERSVC_READ_URL", standbyURL)
	standby, err := sql.Open("postgres", cl.StandbyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close()
	token := serveAndList(t, primaryURL, "", func() {
		var sessions int
		if err := standby.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").Scan(&sessions); err != nil || sessions == 0 {
			t.Errorf("sessions of serve on the standby: %d, %v; want some", sessions, err)
		}
	})

	// The primary itself as the read URL, on an empty schema: serve starts
	// and leaves it empty.
	empty := testenv.NewSchema(t, cl.PrimaryURL)
	t.Setenv("USERSVC_READ_URL", empty)
	serveAndList(t, primaryURL, token, func() {})
	u, _ := url.Parse(empty)
	var tables int
	primary, err := sql.Open("postgres", cl.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()
	if err := primary.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", u.Query().Get("search_path")).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("tables in the read URL's schema after serve: %d, %v; want none (never migrated)", tables, err)
	}

	if base, _ := testenv.PostgresURL(); base != "" {
		t.Setenv("USERSVC_READ_URL", base)
		err := run(context.Background(), []string{"serve", "-database-url", primaryURL, "-addr", "127.0.0.1:0"}, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "read URL: the read URL's server is not a standby of the database's") {
			t.Errorf("serve with a read URL on another cluster: %v; want a refusal", err)
		}
	}
}

// serveAndList starts serve on db, lists users with token (the first
// admin's, which it prints on the first start, when token is ""), stops
// it (after during) and returns the token.
func serveAndList(t *testing.T, db, token string, during func()) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, w := io.Pipe()
	var logs testenv.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-database-url", db, "-addr", addr}, nil, w, &logs)
		w.Close()
	}()
	lines := bufio.NewScanner(stdout)
	if token == "" {
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), usersvc.TokenPrefix) {
				token = lines.Text()
				break
			}
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	var body []byte
	status := 0
	for range 100 { // serve binds before it prints; with a token given, wait for it to listen
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/users?limit=5", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			status = res.StatusCode
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve: %v\n%s", err, logs.String())
		case <-ctx.Done():
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}
	during()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if status != 200 || !strings.Contains(string(body), usersvc.BootstrapAdminEmail) {
		t.Fatalf("GET /api/users: %d %s\n%s", status, body, logs.String())
	}
	return token
}
