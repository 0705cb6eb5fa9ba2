package store_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"usersvc/internal/testenv"
	"usersvc/store"
	"usersvc/store/migrations"
)

func countRows(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func tableExists(t *testing.T, st *store.Store, name string) bool {
	t.Helper()
	q := "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '" + name + "'"
	if st.Dialect() == "sqlite3" {
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'"
	}
	return countRows(t, st.DB(), q) > 0
}

// TestMigrateFreshDatabase: a new database gets every file run, in order,
// and recorded; the next start has nothing to do.
func TestMigrateFreshDatabase(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		ctx := context.Background()
		st := openRaw(t, db)
		res, err := st.ApplyMigrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Applied) == 0 || res.Applied[0] != baselineFile || res.Baseline != "" {
			t.Fatalf("fresh database: %+v, want %s applied first", res, baselineFile)
		}
		if n := countRows(t, st.DB(), "SELECT count(*) FROM schema_revisions WHERE executed"); n != len(res.Applied) {
			t.Fatalf("%d revisions recorded for %d files", n, len(res.Applied))
		}
		for _, table := range []string{"users", "tokens", "usages", "audits"} {
			if !tableExists(t, st, table) {
				t.Errorf("table %s missing", table)
			}
		}
		again, err := st.ApplyMigrations(ctx)
		if err != nil || len(again.Applied) != 0 || again.Baseline != "" || again.Version != res.Version {
			t.Fatalf("second run: %+v, %v", again, err)
		}
	})
}

// TestConcurrentMigrators: replicas starting together on a fresh database
// all succeed, and the schema is applied once.
func TestConcurrentMigrators(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		const n = 6
		var wg sync.WaitGroup
		results := make([]store.MigrationResult, n)
		errs := make([]error, n)
		for i := range n {
			st := openRaw(t, db)
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = st.ApplyMigrations(context.Background())
			}()
		}
		wg.Wait()
		// Every file is applied exactly once, the baseline first. On
		// PostgreSQL one migrator applies them all (the advisory lock is
		// held for the whole run); on SQLite each file is its own BEGIN
		// IMMEDIATE transaction that re-reads the revisions, so migrators
		// starting together may share the files out between them.
		ran, applied := 0, map[string]int{}
		for i := range n {
			if errs[i] != nil {
				t.Errorf("migrator %d: %v", i, errs[i])
			}
			if len(results[i].Applied) > 0 {
				ran++
			}
			for _, f := range results[i].Applied {
				applied[f]++
			}
		}
		if applied[baselineFile] != 1 {
			t.Errorf("baseline applied %d times", applied[baselineFile])
		}
		for f, k := range applied {
			if k != 1 {
				t.Errorf("%s applied %d times", f, k)
			}
		}
		if db.Name == "postgres" && ran != 1 {
			t.Fatalf("%d migrators applied files, want exactly 1", ran)
		}
		if ran == 0 {
			t.Fatal("no migrator applied anything")
		}
		st := openRaw(t, db)
		if got := countRows(t, st.DB(), "SELECT count(*) FROM schema_revisions WHERE version = '20261123200532'"); got != 1 {
			t.Fatalf("baseline recorded %d times", got)
		}
	})
}

// TestMigrationLockIsHeld: on PostgreSQL a migrator waits for the schema's
// advisory lock, and does nothing until it has it.
func TestMigrationLockIsHeld(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	url := testenv.NewSchema(t, base)
	holder := openRaw(t, testenv.DB{Name: "postgres", URL: url})
	ctx := context.Background()
	conn, err := holder.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('usersvc.schema_revisions'), hashtext(current_schema()))"); err != nil {
		t.Fatal(err)
	}
	st := openRaw(t, testenv.DB{Name: "postgres", URL: url})
	done := make(chan error, 1)
	go func() { _, err := st.ApplyMigrations(ctx); done <- err }()
	// Wait until the migrator is queued behind the lock (bounded by the
	// test's own timeout), then check it has not touched the schema.
	for {
		var waiting int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2
			AND classid = hashtext('usersvc.schema_revisions')::oid AND objid = hashtext(current_schema())::oid`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the migrator finished while the lock was held: %v", err)
		default:
		}
	}
	if tableExists(t, st, "schema_revisions") || tableExists(t, st, "users") {
		t.Fatal("the migrator changed the schema without the lock")
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext('usersvc.schema_revisions'), hashtext(current_schema()))"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !tableExists(t, st, "users") {
		t.Fatal("no schema after the lock was released")
	}
}

// TestMigrationRefusals: each broken situation stops with a clear error
// and leaves the database as it was.
func TestMigrationRefusals(t *testing.T) {
	baselineOf := func(t *testing.T, dialect string) []byte {
		dir, err := migrations.Dir(dialect)
		if err != nil {
			t.Fatal(err)
		}
		files, err := dir.Files()
		if err != nil || files[0].Name() != baselineFile {
			t.Fatalf("first file: %v", err)
		}
		return files[0].Bytes()
	}
	for _, tc := range []struct {
		name string
		// before prepares the database; dir is the directory then applied.
		before func(t *testing.T, db testenv.DB, st *store.Store)
		dir    func(t *testing.T, st *store.Store) migrate.Dir
		want   string
		// revisions is how many rows schema_revisions has after beyond this
		// build's files (-1: no table).
		revisions int
	}{
		{
			name: "atlas.sum does not match the files",
			dir: func(t *testing.T, st *store.Store) migrate.Dir {
				d := withExtra(t, st.Dialect())
				if err := d.WriteFile("99990101000000_sneaky.sql", []byte("CREATE TABLE sneaky (id int);")); err != nil {
					t.Fatal(err)
				}
				return d
			},
			want: "do not match their atlas.sum", revisions: -1,
		},
		{
			name: "an applied file was edited",
			before: func(t *testing.T, db testenv.DB, st *store.Store) {
				if _, err := st.ApplyMigrations(context.Background()); err != nil {
					t.Fatal(err)
				}
			},
			dir: func(t *testing.T, st *store.Store) migrate.Dir {
				d := &migrate.MemDir{}
				edited := append(baselineOf(t, st.Dialect()), "CREATE INDEX user_name ON users (name);\n"...)
				if err := d.CopyFiles([]migrate.File{migrate.NewLocalFile(baselineFile, edited)}); err != nil {
					t.Fatal(err)
				}
				return d
			},
			want: "changed after the database had it", revisions: 0,
		},
		{
			name: "the database is newer than the build",
			before: func(t *testing.T, db testenv.DB, st *store.Store) {
				if _, err := store.ApplyDir(st, context.Background(), withExtra(t, st.Dialect(), "99990101000000_future.sql", "CREATE TABLE future (id int);")); err != nil {
					t.Fatal(err)
				}
			},
			dir:  func(t *testing.T, st *store.Store) migrate.Dir { return withExtra(t, st.Dialect()) },
			want: "newer than this build's latest migration", revisions: 1,
		},
		{
			name: "tables that are not the baseline's",
			before: func(t *testing.T, db testenv.DB, st *store.Store) {
				createOldRelease(t, db, st.DB())
				if _, err := st.DB().Exec("DROP INDEX user_creation_id"); err != nil {
					t.Fatal(err)
				}
			},
			dir:  func(t *testing.T, st *store.Store) migrate.Dir { return withExtra(t, st.Dialect()) },
			want: `CREATE INDEX "user_creation_id"`, revisions: -1,
		},
		{
			name: "a failing file is rolled back whole",
			dir: func(t *testing.T, st *store.Store) migrate.Dir {
				return withExtra(t, st.Dialect(), "99990101000000_broken.sql", "CREATE TABLE half (id int);\nINSERT INTO nowhere VALUES (1);\n")
			},
			want: "99990101000000_broken.sql", revisions: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				st := openRaw(t, db)
				if tc.before != nil {
					tc.before(t, db, st)
				}
				_, err := store.ApplyDir(st, context.Background(), tc.dir(t, st))
				want := tc.want
				if db.Name == "sqlite" {
					want = strings.ReplaceAll(want, `"`, "`")
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want it to say %q", err, want)
				}
				switch got := tableExists(t, st, "schema_revisions"); {
				case tc.revisions < 0 && got:
					t.Fatal("schema_revisions was created")
				case tc.revisions >= 0 && countRows(t, st.DB(), "SELECT count(*) FROM schema_revisions") != buildFiles(t, st.Dialect())+tc.revisions:
					t.Fatalf("schema_revisions does not have %d rows (this build's files and %d more)", buildFiles(t, st.Dialect())+tc.revisions, tc.revisions)
				}
				if tableExists(t, st, "sneaky") || tableExists(t, st, "half") {
					t.Fatal("a refused file left a table")
				}
			})
		})
	}
}
