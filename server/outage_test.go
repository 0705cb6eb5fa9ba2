package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
	"usersvc/server"
)

// bounded runs one request and fails the test if it does not come back:
// a bound against hangs, not a measurement.
func bounded(t *testing.T, do func() *testenv.Response) *testenv.Response {
	t.Helper()
	done := make(chan *testenv.Response, 1)
	go func() { done <- do() }()
	select {
	case r := <-done:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("the request hung on the unavailable database")
		return nil
	}
}

// gqlCode reads errors[0].extensions.code of a GraphQL answer.
func gqlCode(r *testenv.Response) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

// TestFrozenDatabase: with the database frozen (PostgreSQL behind a proxy
// that stops forwarding but keeps every socket open) or refusing
// connections, REST and GraphQL answer 503 with Retry-After within the
// request bound and /readyz answers 503 (/readyz?database=skip 200: the
// process takes requests); once the database is back, everything works
// again. The log names the driver's error and the request id; the
// answers do not.
func TestFrozenDatabase(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	proxy := testenv.NewProxy(t, testenv.PostgresAddr(t, base))
	e := testenv.Start(t, testenv.DB{Name: "postgres", URL: proxy.ProxyURL(testenv.NewSchema(t, base))})
	t.Cleanup(proxy.Cut) // before the store closes: a hung call ends, and Close need not wait for it
	var logs testenv.SyncBuffer
	h := server.New(e.Svc, server.Config{RequestTimeout: time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	get := func(id string) *testenv.Response {
		return bounded(t, func() *testenv.Response {
			return testenv.Do(t, h, "GET", "/api/users/"+e.Bob.ID, e.AdminToken, "", "X-Request-Id: "+id)
		})
	}
	gql := func(id string) *testenv.Response {
		return bounded(t, func() *testenv.Response {
			b, _ := json.Marshal(map[string]any{"query": `{ user(id: "` + e.Bob.ID + `") { id } }`})
			return testenv.Do(t, h, "POST", "/graphql", e.AdminToken, string(b), "X-Request-Id: "+id)
		})
	}
	ready := func() int {
		return bounded(t, func() *testenv.Response { return testenv.Do(t, h, "GET", "/readyz", "", "") }).Status
	}
	healthy := func(when string) {
		t.Helper()
		if r := get("ok"); r.Status != 200 {
			t.Fatalf("%s: REST %d %s", when, r.Status, r.Body)
		}
		if r := gql("ok"); r.Status != 200 || gqlCode(r) != "" {
			t.Fatalf("%s: GraphQL %d %s", when, r.Status, r.Body)
		}
		if s := ready(); s != 200 {
			t.Fatalf("%s: readyz %d", when, s)
		}
	}
	// down checks the outage from both transports. causes are the driver
	// errors the log may name: a cut resets a pooled connection the
	// request already held ("connection reset by peer") or refuses the
	// new one it dials ("connection refused"), whichever the pool hands it.
	down := func(when, id string, causes ...string) {
		t.Helper()
		names := func(s string) bool {
			return slices.ContainsFunc(causes, func(c string) bool { return strings.Contains(s, c) })
		}
		r := get(id + "-rest")
		if r.Status != 503 || r.Header.Get("Retry-After") != "5" || r.JSON["error"] != "The database is unavailable; try again shortly." {
			t.Fatalf("%s: REST %d Retry-After %q %s", when, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
		g := gql(id + "-gql")
		if g.Status != 503 || g.Header.Get("Retry-After") != "5" || gqlCode(g) != "UNAVAILABLE" {
			t.Fatalf("%s: GraphQL %d Retry-After %q %s", when, g.Status, g.Header.Get("Retry-After"), g.Body)
		}
		for _, b := range [][]byte{r.Body, g.Body} {
			if names(string(b)) || strings.Contains(string(b), "pq:") {
				t.Fatalf("%s: the answer shows the cause: %s", when, b)
			}
		}
		if s := ready(); s != 503 {
			t.Fatalf("%s: readyz %d", when, s)
		}
		// The process still takes requests: a balancer's backup check.
		if r := testenv.Do(t, h, "GET", "/readyz?database=skip", "", ""); r.Status != 200 {
			t.Fatalf("%s: readyz?database=skip %d %s", when, r.Status, r.Body)
		}
		out := logs.String()
		for _, rid := range []string{id + "-rest", id + "-gql"} {
			if !slices.ContainsFunc(strings.Split(out, "\n"), func(line string) bool {
				return strings.Contains(line, `"request_id":"`+rid+`"`) && names(line)
			}) {
				t.Fatalf("%s: no log line names request %s and one of the causes %q:\n%s", when, rid, causes, out)
			}
		}
	}

	healthy("before")
	proxy.Freeze()
	down("frozen", "frozen", "i/o timeout")
	proxy.Resume()
	healthy("after thawing")
	proxy.Cut()
	down("cut", "cut", "connection refused", "connection reset by peer")
	proxy.Resume()
	healthy("after reconnecting")
}

// TestLockedSQLiteDatabase: SQLite has no server to lose; what can make it
// unavailable is another process holding the database file's write lock
// longer than the request may wait. Writes then answer 503 with
// Retry-After on both transports (reads go on: WAL), and once the lock is
// released writes work again.
func TestLockedSQLiteDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	e := testenv.Start(t, testenv.DB{Name: "sqlite", URL: "sqlite:" + path})
	var logs testenv.SyncBuffer
	h := server.New(e.Svc, server.Config{RequestTimeout: time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	patch := func(name string) *testenv.Response {
		return bounded(t, func() *testenv.Response {
			return testenv.Do(t, h, "PATCH", "/api/users/"+e.Bob.ID, e.AdminToken,
				`[{"op":"replace","path":"/name","value":"`+name+`"}]`, "Content-Type: application/json-patch+json", "X-Request-Id: locked-rest")
		})
	}
	mutate := func(name string) *testenv.Response {
		return bounded(t, func() *testenv.Response {
			b, _ := json.Marshal(map[string]any{"query": `mutation($id: ID!, $n: JSON) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: $n}]) { name } }`,
				"variables": map[string]any{"id": e.Bob.ID, "n": name}})
			return testenv.Do(t, h, "POST", "/graphql", e.AdminToken, string(b), "X-Request-Id: locked-gql")
		})
	}
	if _, err := lock.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	// The request's bound (1 s here) is shorter than SQLite's busy timeout
	// (10 s), so the answer is the timeout's; past the busy timeout it
	// would be "unavailable" (TestClassify).
	r := patch("Locked")
	if r.Status != 503 || r.Header.Get("Retry-After") != "5" || r.JSON["error"] != "The request took too long." {
		t.Fatalf("PATCH with the file locked: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	g := mutate("Locked")
	if g.Status != 503 || g.Header.Get("Retry-After") != "5" || gqlCode(g) != "TIMEOUT" {
		t.Fatalf("mutation with the file locked: %d Retry-After %q %s", g.Status, g.Header.Get("Retry-After"), g.Body)
	}
	for _, id := range []string{"locked-rest", "locked-gql"} {
		if !strings.Contains(logs.String(), `"request_id":"`+id+`","err":"The request took too long. cause: context deadline exceeded"`) {
			t.Fatalf("no warning with the cause for %s:\n%s", id, logs.String())
		}
	}
	if _, err := lock.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if r := patch("Unlocked"); r.Status != 200 || r.JSON["name"] != "Unlocked" {
		t.Fatalf("PATCH after the lock: %d %s", r.Status, r.Body)
	}
}

// TestInternalErrorLogsCause: an internal error is logged with the
// driver's text and the request id, on both transports; the answers say
// only "Internal server error.".
func TestInternalErrorLogsCause(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var logs testenv.SyncBuffer
		h := server.New(e.Svc, server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if _, err := e.Store.DB().Exec("DROP TABLE audits"); err != nil {
			t.Fatal(err)
		}
		cause := map[string]string{"sqlite": "no such table: audits", "postgres": `pq: relation \"audits\" does not exist`}[db.Name]
		r := testenv.Do(t, h, "PATCH", "/api/users/"+e.Bob.ID, e.AdminToken,
			`[{"op":"replace","path":"/name","value":"Robert"}]`, "Content-Type: application/json-patch+json", "X-Request-Id: broken-rest")
		if r.Status != 500 || r.JSON["error"] != "Internal server error." {
			t.Fatalf("REST: %d %s", r.Status, r.Body)
		}
		b, _ := json.Marshal(map[string]any{"query": `mutation($id: ID!) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: "Robert"}]) { name } }`,
			"variables": map[string]any{"id": e.Bob.ID}})
		g := testenv.Do(t, h, "POST", "/graphql", e.AdminToken, string(b), "X-Request-Id: broken-gql")
		if gqlCode(g) != "INTERNAL" || !strings.Contains(string(g.Body), `"message":"Internal server error."`) {
			t.Fatalf("GraphQL: %d %s", g.Status, g.Body)
		}
		for _, body := range [][]byte{r.Body, g.Body} {
			if strings.Contains(string(body), "audits") {
				t.Fatalf("the answer shows the cause: %s", body)
			}
		}
		out := logs.String()
		for _, id := range []string{"broken-rest", "broken-gql"} {
			want := `"level":"ERROR","msg":"internal error","request_id":"` + id + `","err":"Internal server error. cause: `
			i := strings.Index(out, want)
			if i < 0 || !strings.Contains(strings.SplitN(out[i:], "\n", 2)[0], cause) {
				t.Fatalf("no error line for %s with the cause %q:\n%s", id, cause, out)
			}
		}
	})
}

// TestSlowDatabaseCancelsStatement: when a live PostgreSQL does not finish
// a statement within the request's bound (here it waits for a row lock
// another transaction holds), the statement is cancelled on the server,
// not left waiting there, and the client gets 503 TIMEOUT with
// Retry-After on both transports, not 500.
func TestSlowDatabaseCancelsStatement(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	e := testenv.Start(t, testenv.DB{Name: "postgres", URL: testenv.NewSchema(t, base)})
	// 5 s: the server's answer to the cancel request has 500 ms (10 %,
	// at most 500 ms) to arrive, ample even on a loaded machine.
	h := server.New(e.Svc, server.Config{RequestTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	other, err := sql.Open("postgres", e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	var pid int
	if err := holder.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "SELECT id FROM users WHERE id = $1 FOR UPDATE", e.Bob.ID); err != nil {
		t.Fatal(err)
	}
	// waiting is how many statements still wait on the lock, looked at
	// until none does for at most 2 s: the server ends a cancelled
	// statement soon after it answers the cancel request, not at once.
	waiting := func() int {
		var n int
		for i := 0; i < 100; i++ {
			if err := other.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return n
	}
	r := bounded(t, func() *testenv.Response {
		return testenv.Do(t, h, "PATCH", "/api/users/"+e.Bob.ID, e.AdminToken,
			`[{"op":"replace","path":"/name","value":"Slow"}]`, "Content-Type: application/json-patch+json")
	})
	if r.Status != 503 || r.Header.Get("Retry-After") != "5" || r.JSON["error"] != "The request took too long." {
		t.Fatalf("REST: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if n := waiting(); n != 0 {
		t.Fatalf("%d statements still wait on the server after the answer", n)
	}
	g := bounded(t, func() *testenv.Response {
		b, _ := json.Marshal(map[string]any{"query": `mutation($id: ID!) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: "Slow"}]) { name } }`,
			"variables": map[string]any{"id": e.Bob.ID}})
		return testenv.Do(t, h, "POST", "/graphql", e.AdminToken, string(b))
	})
	if g.Status != 503 || g.Header.Get("Retry-After") != "5" || gqlCode(g) != "TIMEOUT" {
		t.Fatalf("GraphQL: %d Retry-After %q %s", g.Status, g.Header.Get("Retry-After"), g.Body)
	}
	if n := waiting(); n != 0 {
		t.Fatalf("%d statements still wait on the server after the answer", n)
	}
	if _, err := holder.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if r := testenv.Do(t, h, "PATCH", "/api/users/"+e.Bob.ID, e.AdminToken,
		`[{"op":"replace","path":"/name","value":"Fast"}]`, "Content-Type: application/json-patch+json"); r.Status != 200 || r.JSON["name"] != "Fast" {
		t.Fatalf("after the lock: %d %s", r.Status, r.Body)
	}
}
