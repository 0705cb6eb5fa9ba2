package server_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
	"usersvc/server"
	"usersvc/store"
)

// failoverEnv is a service on PostgreSQL behind a proxy, its store
// sending every statement as text (NoPrepare), so the proxy can lose the
// answer to one named statement.
type failoverEnv struct {
	*testenv.Env
	proxy *testenv.Proxy
	h     func(method, token, body string, headers ...string) *testenv.Response
}

func startFailover(t *testing.T, dbURL string) *failoverEnv {
	t.Helper()
	proxy := testenv.NewProxy(t, testenv.PostgresAddr(t, dbURL))
	st, err := store.Open(context.Background(), proxy.ProxyURL(dbURL), store.Options{NoPrepare: true, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t.Cleanup(proxy.Cut) // before the store closes
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock := &testenv.Clock{}
	clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	svc := testenv.NewService(st, clock)
	e := &testenv.Env{DB: testenv.DB{Name: "postgres", URL: dbURL}, Store: st, Svc: svc, Clock: clock, Jobs: moving.NewJobs(svc, st)}
	e.Bob, e.BobToken = e.NewUser(t, "Bob", "bob@example.com", "UTC", usersvc.RoleUser)
	h := server.New(svc, server.Config{RequestTimeout: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f := &failoverEnv{Env: e, proxy: proxy}
	f.h = func(method, token, body string, headers ...string) *testenv.Response {
		return bounded(t, func() *testenv.Response {
			return testenv.Do(t, h, method, "/api/users/"+e.Bob.ID, token, body, headers...)
		})
	}
	return f
}

// rename is Bob renaming himself with a JSON Patch.
func (f *failoverEnv) rename(name string, headers ...string) *testenv.Response {
	return f.h("PATCH", f.BobToken, `[{"op":"replace","path":"/name","value":"`+name+`"}]`,
		append(headers, "Content-Type: application/json-patch+json")...)
}

// state is Bob's name, ETag and number of history entries, read past the
// proxy.
func (f *failoverEnv) state(t *testing.T) (name, etag string, entries int) {
	t.Helper()
	r := f.h("GET", f.BobToken, "")
	if r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	return r.JSON["name"].(string), r.Header.Get("ETag"), len(f.Audit(t, f.Bob.ID))
}

// unavailable checks a 503 answer in the envelope with Retry-After.
func unavailable(t *testing.T, when string, r *testenv.Response) {
	t.Helper()
	if r.Status != 503 || r.Header.Get("Retry-After") != "5" || r.JSON["error"] != "The database is unavailable; try again shortly." {
		t.Fatalf("%s: %d Retry-After %q %s", when, r.Status, r.Header.Get("Retry-After"), r.Body)
	}
}

// TestWriteWaitsForPrimary: a write that meets no database (connections
// refused) waits for it up to FailoverWait and succeeds, once, when it
// comes back within the bound; past the bound it answers 503 with
// Retry-After and changes nothing.
func TestWriteWaitsForPrimary(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	f := startFailover(t, testenv.NewSchema(t, base))
	f.Svc.FailoverWait = 8 * time.Second
	if r := f.rename("Before"); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	_, etag, entries := f.state(t)

	f.proxy.Cut()
	done := make(chan *testenv.Response, 1)
	go func() { done <- f.rename("During") }()
	time.Sleep(time.Second) // the write meets refused connections meanwhile
	f.proxy.Resume()
	if r := <-done; r.Status != 200 || r.JSON["name"] != "During" {
		t.Fatalf("a write during a short outage: %d %s", r.Status, r.Body)
	}
	name, etag2, entries2 := f.state(t)
	if name != "During" || etag2 == etag || entries2 != entries+1 {
		t.Fatalf("after the outage: name %q, ETag %s -> %s, history %d -> %d entries (want one more)", name, etag, etag2, entries, entries2)
	}

	f.Svc.FailoverWait = 300 * time.Millisecond
	f.proxy.Cut()
	unavailable(t, "past the bound", f.rename("Never"))
	f.proxy.Resume()
	if name, etag3, entries3 := f.state(t); name != "During" || etag3 != etag2 || entries3 != entries2 {
		t.Fatalf("a write refused past the bound changed Bob: %q %s %d", name, etag3, entries3)
	}

	f.Svc.FailoverWait = 0
	f.proxy.Cut()
	unavailable(t, "no wait", f.rename("Never"))
	f.proxy.Resume()
}

// TestWriteWaitsForReadWrite: a primary demoted under the service (its
// sessions ended with 57P01, new ones read-only: 25006, or refused by
// target_session_attrs=read-write) makes writes wait until a read-write
// server takes them. The database's read-only mode is a role's setting
// here, the role being the service's own; its pooled sessions end as a
// shutdown ends them, and are found ended before they are used.
func TestWriteWaitsForReadWrite(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // after the role is dropped (cleanups run last first)
	role := "t_ro_" + time.Now().Format("150405") + "_" + randomSuffix()
	exec := func(q string) {
		t.Helper()
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN")
	t.Cleanup(func() {
		// After the subtests' stores closed and schemas were dropped.
		_, _ = admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		if _, err := admin.Exec("DROP OWNED BY " + role); err != nil {
			t.Errorf("dropping what %s owns: %v", role, err)
		}
		if _, err := admin.Exec("DROP ROLE IF EXISTS " + role); err != nil {
			t.Errorf("dropping %s: %v", role, err)
		}
	})
	// end ends the role's sessions, as a primary's shutdown does, and
	// waits for them to be gone.
	end := func() {
		t.Helper()
		exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'")
		for range 100 {
			var n int
			if err := admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role).Scan(&n); err != nil || n == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the role's sessions did not end")
	}

	for _, tsa := range []string{"", "read-write"} {
		t.Run("target_session_attrs="+tsa, func(t *testing.T) {
			u, _ := url.Parse(testenv.NewSchema(t, base))
			exec("ALTER SCHEMA " + u.Query().Get("search_path") + " OWNER TO " + role)
			u.User = url.User(role)
			v := u.Query()
			if tsa != "" {
				v.Set("target_session_attrs", tsa)
			}
			u.RawQuery = v.Encode()
			f := startFailover(t, u.String())
			f.Svc.FailoverWait = 8 * time.Second
			if r := f.rename("Before"); r.Status != 200 {
				t.Fatalf("before: %d %s", r.Status, r.Body)
			}
			_, _, entries := f.state(t)
			exec("ALTER ROLE " + role + " SET default_transaction_read_only = on")
			end()
			done := make(chan *testenv.Response, 1)
			go func() { done <- f.rename("Demoted") }()
			time.Sleep(time.Second)
			// The read-only sessions stay: a connection that met 25006 is
			// not used again.
			exec("ALTER ROLE " + role + " RESET default_transaction_read_only")
			if r := <-done; r.Status != 200 || r.JSON["name"] != "Demoted" {
				t.Fatalf("a write while the server was read-only: %d %s", r.Status, r.Body)
			}
			if name, _, entries2 := f.state(t); name != "Demoted" || entries2 != entries+1 {
				t.Fatalf("after: %q, history %d -> %d entries (want one more)", name, entries, entries2)
			}
		})
	}
}

// TestLostAnswerIsNotRetried: when the answer to a write's statement is
// lost (the connection drops after the server ran it), the outcome is
// unknown: the write answers 503 at once, neither the service nor
// database/sql runs it again, and the client's retry with If-Match (the
// version it read before) answers 412, so the change is applied once.
func TestLostAnswerIsNotRetried(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	f := startFailover(t, testenv.NewSchema(t, base))
	f.Svc.FailoverWait = 8 * time.Second
	if r := f.rename("Before"); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	_, etag, entries := f.state(t)

	f.proxy.LoseAnswer("WITH saved AS (") // the version-guarded update and its history entry
	// Run again, the write would find the name already set and answer 200.
	unavailable(t, "lost answer", f.rename("Once", "If-Match: "+etag))
	name, etag2, entries2 := f.state(t)
	if name != "Once" || entries2 != entries+1 {
		t.Fatalf("the write whose answer was lost: name %q, history %d -> %d entries (want it applied once)", name, entries, entries2)
	}
	if r := f.rename("Once", "If-Match: "+etag); r.Status != 412 {
		t.Fatalf("the client's retry with If-Match: %d %s (want 412: it had committed)", r.Status, r.Body)
	}
	if _, etag3, entries3 := f.state(t); etag3 != etag2 || entries3 != entries2 {
		t.Fatalf("the retry changed Bob: %s -> %s, %d -> %d entries", etag2, etag3, entries2, entries3)
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
