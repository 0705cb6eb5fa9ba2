package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestJSONColumns checks that tags and privileges round-trip identically on
// both databases (jsonb on PostgreSQL, text on SQLite), including unicode,
// escapes and empty values.
func TestJSONColumns(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := usersvc.SystemContext(context.Background())
		for _, tc := range []struct {
			name  string
			tags  map[string]string
			privs []string
		}{
			{"empty", map[string]string{}, []string{}},
			{"unicode and escapes", map[string]string{"zona": "España ☀", "quote": `a "b" \ c`, "nl": "x\ny", "": ""}, []string{"a/b", "ñ", "<script>"}},
			{"order kept in arrays", map[string]string{"k": "v"}, []string{"z", "a", "m"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := e.Store.User(ctx, e.Bob.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				u.Tags, u.Privileges = tc.tags, tc.privs
				u.Version++
				if saved, err := e.Store.SaveUser(ctx, &usersvc.UserSave{User: u, Version: u.Version - 1,
					Entry: &usersvc.AuditEntry{UserID: u.ID, At: u.Modification, Action: "replace", Patch: []usersvc.PatchOperation{}}}); err != nil || !saved {
					t.Fatalf("saved %v, %v", saved, err)
				}
				got, err := e.Store.User(ctx, e.Bob.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Tags, tc.tags) || !reflect.DeepEqual(got.Privileges, tc.privs) {
					t.Fatalf("got %v %v, want %v %v", got.Tags, got.Privileges, tc.tags, tc.privs)
				}
			})
		}
	})
}

func TestEmailUniqueCaseInsensitive(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		_, err := e.Svc.CreateUser(usersvc.SystemContext(context.Background()), usersvc.NewUserInput{
			Name: "X", Email: "ALICE@Example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if usersvc.ErrorCode(err) != usersvc.EConflict {
			t.Fatalf("got %v, want conflict", err)
		}
	})
}

func TestBootstrap(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		svc := testenv.NewService(st, &testenv.Clock{})
		ctx := context.Background()
		tok, created, err := svc.Bootstrap(ctx)
		if err != nil || !created || tok == "" {
			t.Fatalf("first bootstrap: %q %v %v", tok, created, err)
		}
		p, err := svc.Authenticate(ctx, usersvc.Bearer(tok))
		if err != nil || !p.User.IsAdmin() {
			t.Fatalf("bootstrap token: %v", err)
		}
		if tok2, created, err := svc.Bootstrap(ctx); err != nil || created || tok2 != "" {
			t.Fatalf("second bootstrap: %q %v %v", tok2, created, err)
		}
	})
}

// TestMeter: counts answer at once, reach the store on Flush, keep each day
// apart across a day change, and survive a failed flush.
func TestMeter(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		svc := testenv.NewService(st, &testenv.Clock{})
		u, err := svc.CreateUser(usersvc.SystemContext(context.Background()), usersvc.NewUserInput{Name: "M", Email: "m@example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		m := usersvc.NewMeter(st)
		var last usersvc.Usage
		for i := 0; i < 3; i++ {
			if last, err = m.Count(ctx, u.ID, "2026-06-01"); err != nil {
				t.Fatal(err)
			}
		}
		if last != (usersvc.Usage{Total: 3, Daily: 3}) {
			t.Fatalf("day 1: %+v", last)
		}
		for i := 0; i < 2; i++ {
			last, _ = m.Count(ctx, u.ID, "2026-06-02")
		}
		if last != (usersvc.Usage{Total: 5, Daily: 2}) {
			t.Fatalf("day 2 before a flush: %+v", last)
		}
		if got, _ := st.UsageCounts(ctx, u.ID, "2026-06-02"); got != (usersvc.Usage{}) {
			t.Fatalf("stored before a flush: %+v", got)
		}
		if err := m.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for day, want := range map[string]usersvc.Usage{"2026-06-01": {Total: 5, Daily: 3}, "2026-06-02": {Total: 5, Daily: 2}} {
			if got, _ := st.UsageCounts(ctx, u.ID, day); got != want {
				t.Fatalf("stored %s: %+v, want %+v", day, got, want)
			}
		}
		// Another meter (another process) continues from the stored counts.
		other := usersvc.NewMeter(st)
		if got, _ := other.Count(ctx, u.ID, "2026-06-02"); got != (usersvc.Usage{Total: 6, Daily: 3}) {
			t.Fatalf("second meter: %+v", got)
		}
		// A flush that fails keeps its counts for the next one.
		_, _ = other.Count(ctx, u.ID, "2026-06-02")
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if err := other.Flush(ctx); err == nil {
			t.Fatal("flush to a closed store did not fail")
		}
		if got, err := other.Count(ctx, u.ID, "2026-06-02"); err != nil || got != (usersvc.Usage{Total: 8, Daily: 5}) {
			t.Fatalf("counts after a failed flush: %+v %v", got, err)
		}
		st2 := testenv.OpenStore(t, db)
		if got, _ := st2.UsageCounts(ctx, u.ID, "2026-06-02"); got != (usersvc.Usage{Total: 5, Daily: 2}) {
			t.Fatalf("a failed flush wrote something: %+v", got)
		}
	})
}

// TestMeterSeesOtherProcesses: each flush refreshes what a meter
// remembers, so once both processes have flushed twice, an answer in one
// includes every count the other made, even when the first had nothing
// of its own left to write.
func TestMeterSeesOtherProcesses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		svc := testenv.NewService(st, &testenv.Clock{})
		u, err := svc.CreateUser(usersvc.SystemContext(context.Background()), usersvc.NewUserInput{Name: "M", Email: "m@example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		const day = "2026-06-01"
		p1, p2 := usersvc.NewMeter(st), usersvc.NewMeter(testenv.OpenStore(t, db))
		count := func(m *usersvc.Meter, n int) usersvc.Usage {
			var last usersvc.Usage
			for i := 0; i < n; i++ {
				if last, err = m.Count(ctx, u.ID, day); err != nil {
					t.Fatal(err)
				}
			}
			return last
		}
		count(p1, 3)
		count(p2, 5)
		flush := func(m *usersvc.Meter) {
			if err := m.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		flush(p1) // stores 3
		flush(p2) // stores 5 more
		flush(p1) // nothing of its own to write: must still learn of p2's 5
		if got := count(p1, 1); got != (usersvc.Usage{Total: 9, Daily: 9}) {
			t.Fatalf("p1 after both flushed: %+v, want 9/9", got)
		}
	})
}

// TestPoolerOptions: with the statement cache off (behind a pooler in
// transaction mode) the store works the same, and the change listener on
// its own URL keeps the token cache live.
func TestPoolerOptions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("PostgreSQL options")
		}
		st, err := store.Open(context.Background(), db.URL, store.Options{NoPrepare: true, ListenURL: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		svc := testenv.NewService(st, &testenv.Clock{})
		sys := usersvc.SystemContext(context.Background())
		u, err := svc.CreateUser(sys, usersvc.NewUserInput{Name: "P", Email: "p@example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.CreateToken(sys, u.ID, "t", 0)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- svc.WatchChanges(ctx, time.Hour) }()
		defer func() { cancel(); <-done }()
		cached := false
		for i := 0; i < 300 && !cached; i++ {
			if _, err := svc.Authenticate(context.Background(), usersvc.Bearer(tok)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
			cached = svc.AuthCached(tok)
		}
		if !cached {
			t.Fatal("the token cache never went live with the listener on its own URL")
		}
		if n := namedStatements(t, st); n != 0 {
			t.Fatalf("%d statements were prepared on the server with the statement cache off", n)
		}
	})
}

// TestStatementCacheOn is TestPoolerOptions' control: with the cache on,
// the same work does leave prepared statements on the server.
func TestStatementCacheOn(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("PostgreSQL's statement cache")
		}
		st, err := store.Open(context.Background(), db.URL, store.Options{}) // the cache on, whatever USERSVC_TEST_PG_NO_PREPARE says
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		svc := testenv.NewService(st, &testenv.Clock{})
		sys := usersvc.SystemContext(context.Background())
		u, err := svc.CreateUser(sys, usersvc.NewUserInput{Name: "P", Email: "p@example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300 && namedStatements(t, st) == 0; i++ { // statements are prepared in the background
			if _, err := st.User(context.Background(), u.ID, false); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if namedStatements(t, st) == 0 {
			t.Fatal("no statement was ever prepared with the cache on")
		}
	})
}

// namedStatements counts the prepared statements of every connection of
// st's pool (each session sees only its own: ask each idle connection).
func namedStatements(t *testing.T, st *store.Store) int {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	total := 0
	for i := 0; i < st.DB().Stats().OpenConnections; i++ {
		c, err := st.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var n int
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// TestOpenRefusesWhatIsNotADatabase: a URL of another scheme is an error
// (it used to name a SQLite file: a typo started an empty database with a
// new admin), and so is a SQLite file in a folder that does not exist,
// unless the caller lets Open create it (the default database's data/).
func TestOpenRefusesWhatIsNotADatabase(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"postgress://127.0.0.1/x", "pg://127.0.0.1/x", "mysql://x", "sqlite:"} {
		if st, err := store.Open(ctx, url, store.Options{}); err == nil {
			st.Close()
			t.Errorf("%s: opened", url)
		}
	}
	missing := filepath.Join(t.TempDir(), "no", "such", "folder", "u.db")
	if st, err := store.Open(ctx, missing, store.Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		if st != nil {
			st.Close()
		}
		t.Fatalf("a file in a missing folder: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Fatalf("the folder was created: %v", err)
	}
	st, err := store.Open(ctx, missing, store.Options{CreateDir: true})
	if err != nil {
		t.Fatalf("with CreateDir: %v", err)
	}
	st.Close()
	if base, _ := testenv.PostgresURL(); base != "" {
		st, err := store.Open(ctx, "PostgreSQL"+strings.TrimPrefix(base, "postgres"), store.Options{})
		if err != nil || st.Dialect() != "postgres" {
			t.Fatalf("PostgreSQL:// in capitals: %v", err)
		}
		st.Close()
	}
}
