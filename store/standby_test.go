package store_test

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestStandby runs reads on a real streaming standby of a cluster of the
// test's own: answered there when it has replayed the primary's position,
// from the primary when it keeps cancelling a read for a conflict with
// recovery or is gone, never older than the call.
func TestStandby(t *testing.T) {
	ctx := context.Background()
	// max_standby_streaming_delay = 0: the standby cancels a conflicting
	// read at once instead of delaying replay.
	cl := testenv.StartReplicated(t, "max_standby_streaming_delay = 0")
	primaryURL, standbyURL := cl.Schema(t)
	primary := testenv.OpenStore(t, testenv.DB{Name: "postgres", URL: primaryURL})
	svc := testenv.NewService(primary, &testenv.Clock{})
	svc.Now = time.Now
	u, err := svc.CreateUser(usersvc.SystemContext(ctx), usersvc.NewUserInput{Name: "Ana", Email: "ana@example.com", Country: "ES", TimeZone: "UTC", Role: usersvc.RoleUser}.Document())
	if err != nil {
		t.Fatal(err)
	}
	cl.CatchUp(t)
	sb, err := store.OpenStandby(ctx, standbyURL, primary, store.Options{})
	if err != nil {
		t.Fatalf("OpenStandby: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	primaryDB, err := sql.Open("postgres", cl.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer primaryDB.Close()
	schema := strings.Split(strings.Split(primaryURL, "search_path=")[1], "&")[0]
	table := schema + ".users"

	read := func(t *testing.T, want store.StandbyStats) {
		t.Helper()
		before := sb.Stats()
		got, err := sb.User(ctx, u.ID, false)
		if err != nil || got.Name != "Ana" {
			t.Fatalf("User: %+v, %v; want Ana", got, err)
		}
		after := sb.Stats()
		diff := store.StandbyStats{Standby: after.Standby - before.Standby, Behind: after.Behind - before.Behind, Conflicts: after.Conflicts - before.Conflicts, Failed: after.Failed - before.Failed}
		if diff != want {
			t.Errorf("the read went %+v, want %+v", diff, want)
		}
	}
	standbyDB, err := sql.Open("postgres", cl.StandbyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer standbyDB.Close()
	// conflict holds a lock on the users table on the read's connection
	// (a statement that sleeps) and, once the standby runs it, commits an
	// exclusive lock on the table on the primary: its replay cancels the
	// statement at once (40001, canceling statement due to conflict with
	// recovery), which then fails the read.
	conflict := func(ctx context.Context, attempt int) string {
		go func() {
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				var n int
				if err := standbyDB.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(20)%'").Scan(&n); err != nil {
					t.Errorf("watching the standby: %v", err)
					return
				}
				if n > 0 {
					if _, err := primaryDB.Exec("BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE; COMMIT"); err != nil {
						t.Errorf("lock: %v", err)
					}
					return
				}
			}
			t.Errorf("the sleeping statement never ran on the standby")
		}()
		return "SELECT pg_sleep(20) FROM " + table + " LIMIT 1"
	}

	t.Run("a caught-up standby answers", func(t *testing.T) {
		read(t, store.StandbyStats{Standby: 1})
		missing, err := sb.User(ctx, "usr-none", false)
		if usersvc.ErrorCode(err) != usersvc.ENotFound {
			t.Fatalf("a missing user: %+v, %v; want not found", missing, err)
		}
	})
	t.Run("a conflict is read again on the standby", func(t *testing.T) {
		store.SetInStandbyRead(sb, func(ctx context.Context, attempt int) string {
			if attempt == 1 {
				return conflict(ctx, attempt)
			}
			return ""
		})
		defer store.SetInStandbyRead(sb, nil)
		read(t, store.StandbyStats{Conflicts: 1, Standby: 1})
	})
	t.Run("conflicts every time: the primary answers", func(t *testing.T) {
		store.SetInStandbyRead(sb, conflict)
		defer store.SetInStandbyRead(sb, nil)
		read(t, store.StandbyStats{Conflicts: 3})
	})
	t.Run("a paused standby: the primary answers after the wait", func(t *testing.T) {
		cl.PauseReplay(t)
		defer cl.ResumeReplay(t)
		// Something new to replay.
		if _, err := primaryDB.Exec("CREATE TABLE " + schema + ".tick (n int); INSERT INTO " + schema + ".tick VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		read(t, store.StandbyStats{Behind: 1})
	})
	t.Run("the replay check only after the primary moved", func(t *testing.T) {
		var statements atomic.Int64
		counted, err := store.OpenStandby(ctx, standbyURL, primary, store.Options{OnQuery: func() { statements.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		defer counted.Close()
		read := func() int64 {
			statements.Store(0)
			if _, err := counted.User(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			return statements.Load()
		}
		// The first read checks (one statement or more, as it waits),
		// then reads. While nothing is written the next reads are the
		// read alone (one of two, should the primary's background work
		// write some WAL between them); after a write, the check again.
		if n := read(); n < 2 {
			t.Errorf("the first read ran %d statements on the standby, want the check and the read", n)
		}
		if n := min(read(), read()); n != 1 {
			t.Errorf("reads with nothing written ran %d statements on the standby, want the read alone", n)
		}
		if _, err := svc.PatchUser(usersvc.SystemContext(ctx), u.ID, []any{map[string]any{"op": "replace", "path": "/description", "value": "moved"}}, nil); err != nil {
			t.Fatal(err)
		}
		if n := read(); n < 2 {
			t.Errorf("the read after a write ran %d statements on the standby, want the check and the read", n)
		}
	})
	t.Run("a server of another cluster is refused", func(t *testing.T) {
		base, why := testenv.PostgresURL()
		if base == "" {
			t.Skip(why)
		}
		// The shared server is another cluster (another system identifier).
		_, err := store.OpenStandby(ctx, base, primary, store.Options{})
		if err == nil || !strings.Contains(err.Error(), "is not a standby of the database's") {
			t.Errorf("another cluster's server: %v; want a refusal", err)
		}
	})
	t.Run("a stopped standby: the primary answers", func(t *testing.T) {
		cl.StopStandby(t)
		read(t, store.StandbyStats{Failed: 1})
	})
}

// TestOpenStandbyRefuses: reads from a standby need PostgreSQL.
func TestOpenStandbyRefuses(t *testing.T) {
	sqlite := testenv.OpenStore(t, testenv.DB{Name: "sqlite", URL: "sqlite:" + t.TempDir() + "/x.db"})
	if _, err := store.OpenStandby(context.Background(), "postgres://127.0.0.1:1/x?sslmode=disable", sqlite, store.Options{}); err == nil || !strings.Contains(err.Error(), "need PostgreSQL") {
		t.Errorf("with SQLite: %v; want a refusal naming PostgreSQL", err)
	}
}
