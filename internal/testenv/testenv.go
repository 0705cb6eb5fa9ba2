// Package testenv runs tests against real databases: always SQLite (a file
// in the test's temp dir), and PostgreSQL when it answers. Each test gets a
// schema of its own, dropped afterwards.
//
// PostgreSQL is found through USERSVC_TEST_POSTGRES_URL, or else
// postgres://postgres@127.0.0.1:5432/postgres when that port answers. When
// it is not reachable the PostgreSQL subtests are skipped with a message
// saying so; with CI=true they fail instead.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"usersvc"
	"usersvc/moving"
	"usersvc/server"
	"usersvc/store"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	pgOnce sync.Once
	pgURL  string
	pgWhy  string
)

// PostgresURL returns the base PostgreSQL URL for tests, or "" and why not.
func PostgresURL() (string, string) {
	pgOnce.Do(func() {
		if u := os.Getenv("USERSVC_TEST_POSTGRES_URL"); u != "" {
			pgURL = u
			return
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
		if err != nil {
			pgWhy = "PostgreSQL is not reachable at 127.0.0.1:5432 and USERSVC_TEST_POSTGRES_URL is unset"
			return
		}
		c.Close()
		pgURL = defaultPostgresURL
	})
	return pgURL, pgWhy
}

// Clock is a settable clock for usersvc.Service.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// DB is one test database.
type DB struct {
	Name string // "sqlite" or "postgres"
	URL  string
}

// Env is a running service on a fresh database with three users.
type Env struct {
	DB      DB
	Store   *store.Store
	Svc     *usersvc.Service
	Jobs    *moving.Jobs // the import jobs Handler starts
	Handler http.Handler
	Clock   *Clock

	Admin, Alice, Bob                *usersvc.User
	AdminToken, AliceToken, BobToken string
}

// ForEachDB runs fn as a subtest on SQLite and on PostgreSQL.
func ForEachDB(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, DB{Name: "sqlite", URL: "sqlite:" + filepath.Join(t.TempDir(), "test.db")})
	})
	t.Run("postgres", func(t *testing.T) {
		base, why := PostgresURL()
		if base == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s; CI requires the PostgreSQL suite", why)
			}
			t.Skipf("PostgreSQL suite skipped: %s", why)
		}
		fn(t, DB{Name: "postgres", URL: NewSchema(t, base)})
	})
}

// Another is a second, empty database of db's kind, dropped when t ends.
func Another(t testing.TB, db DB) DB {
	t.Helper()
	if db.Name == "sqlite" {
		return DB{Name: "sqlite", URL: "sqlite:" + filepath.Join(t.TempDir(), "another.db")}
	}
	base, _ := PostgresURL()
	return DB{Name: "postgres", URL: NewSchema(t, base)}
}

// BenchDBs is SQLite in tb's temp dir and, when it answers, a PostgreSQL
// schema of tb's own: the databases benchmarks run on.
func BenchDBs(tb testing.TB) []DB {
	dbs := []DB{{Name: "sqlite", URL: "sqlite:" + filepath.Join(tb.TempDir(), "bench.db")}}
	if base, _ := PostgresURL(); base != "" {
		dbs = append(dbs, DB{Name: "postgres", URL: NewSchema(tb, base)})
	}
	return dbs
}

// NewSchema creates a schema of its own for t and returns a URL that uses it.
func NewSchema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		// Dropping takes a lock on every object of the schema; with other
		// tests' schemas dropped beside it (test binaries run in parallel)
		// PostgreSQL now and then picks the drop as a deadlock victim.
		// It is retried: what the test checked is decided by then.
		var err error
		for attempt := range 5 {
			if _, err = admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err == nil || !strings.Contains(err.Error(), "40P01") {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenStore opens and migrates db; it is closed when t ends. With
// USERSVC_TEST_PG_NO_PREPARE=true, PostgreSQL stores send every statement
// as they do behind a transaction-mode pooler (store.Options.NoPrepare).
func OpenStore(t testing.TB, db DB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), db.URL, store.Options{NoPrepare: os.Getenv("USERSVC_TEST_PG_NO_PREPARE") == "true"})
	if err != nil {
		t.Fatalf("open %s: %v", db.Name, err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// NewService returns a service on st with a test clock and cheap hashing.
func NewService(st usersvc.Store, clock *Clock) *usersvc.Service {
	svc := usersvc.NewService(st)
	svc.Now = clock.Now
	svc.BcryptCost = bcrypt.MinCost
	return svc
}

// Start builds an Env on db: an admin, Alice (Europe/Madrid) and Bob.
func Start(t testing.TB, db DB) *Env {
	t.Helper()
	clock := &Clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	st := OpenStore(t, db)
	svc := NewService(st, clock)
	e := &Env{DB: db, Store: st, Svc: svc, Clock: clock, Jobs: moving.NewJobs(svc, st)}
	e.Handler = NewHandlerWithJobs(svc, e.Jobs)
	e.Admin, e.AdminToken = e.NewUser(t, "Admin", "admin@example.com", "UTC", usersvc.RoleAdmin)
	e.Alice, e.AliceToken = e.NewUser(t, "Alice", "alice@example.com", "Europe/Madrid", usersvc.RoleUser)
	e.Bob, e.BobToken = e.NewUser(t, "Bob", "bob@example.com", "America/New_York", usersvc.RoleUser)
	return e
}

// NewHandler is the service's whole HTTP handler as tests use it:
// introspection on, one allowed CORS origin, logs discarded, no import
// jobs (their routes answer 503; NewHandlerWithJobs has them).
func NewHandler(svc *usersvc.Service) http.Handler { return NewHandlerWithJobs(svc, nil) }

// NewHandlerWithJobs is NewHandler with jobs running its import jobs.
func NewHandlerWithJobs(svc *usersvc.Service, jobs *moving.Jobs) http.Handler {
	return server.New(svc, server.Config{
		Introspection: true,
		CORSOrigins:   []string{"https://app.example.com"},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Imports:       jobs,
	})
}

// NewUser creates a user and a token for it. The clock moves on a
// millisecond first, so users sort in the order tests create them.
func (e *Env) NewUser(t testing.TB, name, email, tz string, role usersvc.Role) (*usersvc.User, string) {
	t.Helper()
	e.Clock.Advance(time.Millisecond)
	ctx := usersvc.SystemContext(context.Background())
	u, err := e.Svc.CreateUser(ctx, usersvc.NewUserInput{Name: name, Email: email, Country: "ES", TimeZone: tz, Role: role}.Document())
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	tok, err := e.Svc.CreateToken(ctx, u.ID, "test", 0)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return u, tok
}

// Response is a recorded answer with its JSON body decoded.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Do sends one request through the handler in-process (httptest).
// headers are "Name: value" strings.
func (e *Env) Do(t testing.TB, method, path, token, body string, headers ...string) *Response {
	t.Helper()
	return Do(t, e.Handler, method, path, token, body, headers...)
}

// Do sends one request to h.
func Do(t testing.TB, h http.Handler, method, path, token, body string, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, hv := range headers {
		k, v, _ := strings.Cut(hv, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if len(res.Body) > 0 && bytes.HasPrefix(bytes.TrimSpace(res.Body), []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(res.Body))
		dec.UseNumber()
		if err := dec.Decode(&res.JSON); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, res.Body)
		}
	}
	return res
}

// GraphQL posts a GraphQL request and returns the answer.
func (e *Env) GraphQL(t testing.TB, token, query string, vars map[string]any, headers ...string) *Response {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return e.Do(t, http.MethodPost, "/graphql", token, string(b), headers...)
}

// Int reads a JSON number field.
func (r *Response) Int(t testing.TB, key string) int64 {
	t.Helper()
	n, ok := r.JSON[key].(json.Number)
	if !ok {
		t.Fatalf("%q is %v, not a number; body %s", key, r.JSON[key], r.Body)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}
