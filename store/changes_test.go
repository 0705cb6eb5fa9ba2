package store_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestChangeLogFollowsOutOfOrderCommits drives the change log's reader one
// read at a time against real PostgreSQL transactions: an entry whose id
// was taken before another's but that commits after it is waited for as a
// gap and passed on when it commits; an id whose transaction rolled back
// stops being waited for once no transaction can fill it; and this
// process's own entries are not passed on.
func TestChangeLogFollowsOutOfOrderCommits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("the change log is followed across processes on PostgreSQL; SQLite serves one process")
		}
		other := testenv.OpenStore(t, db) // another process
		self := testenv.OpenStore(t, db)  // the follower's process
		var heard []string
		f, err := store.NewFollower(self, 0, func(id string) { heard = append(heard, id) })
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ctx := context.Background()
		poll := func(step string) {
			t.Helper()
			heard = nil
			if err := f.Poll(ctx); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
		raw, err := sql.Open("postgres", db.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		insert := func(q interface {
			QueryRowContext(context.Context, string, ...any) *sql.Row
		}, user string) int64 {
			t.Helper()
			var id int64
			if err := q.QueryRowContext(ctx, `INSERT INTO audits (user_id, at, actor, action, address, patch)
				VALUES ($1, now(), 'usr-x', 'patch', '', '[]') RETURNING id`, user).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}

		insert(raw, "usr-before") // before the follower starts: not passed on, but a resync is
		poll("start")
		if !slices.Equal(heard, []string{""}) {
			t.Fatalf("start passed on %q, want one resync (\"\")", heard)
		}
		heard = nil

		late, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer late.Rollback()
		lateID := insert(late, "usr-late")
		earlyID := insert(raw, "usr-early")
		if earlyID <= lateID {
			t.Fatalf("ids %d, %d: want the early commit's id above the late one's", earlyID, lateID)
		}
		poll("early committed")
		if !slices.Equal(heard, []string{"usr-early"}) || !slices.Equal(f.Gaps(), []int64{lateID}) {
			t.Fatalf("after the early commit: heard %v, gaps %v; want [usr-early], [%d]", heard, f.Gaps(), lateID)
		}
		poll("late still open")
		if len(heard) != 0 || !slices.Equal(f.Gaps(), []int64{lateID}) {
			t.Fatalf("while the late transaction is open: heard %v, gaps %v; want nothing, [%d]", heard, f.Gaps(), lateID)
		}
		if err := late.Commit(); err != nil {
			t.Fatal(err)
		}
		poll("late committed")
		if !slices.Equal(heard, []string{"usr-late"}) || len(f.Gaps()) != 0 {
			t.Fatalf("after the late commit: heard %v, gaps %v; want [usr-late], none", heard, f.Gaps())
		}

		gone, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer gone.Rollback()
		goneID := insert(gone, "usr-gone")
		nextID := insert(raw, "usr-next")
		poll("next committed")
		if !slices.Equal(heard, []string{"usr-next"}) || !slices.Equal(f.Gaps(), []int64{goneID}) {
			t.Fatalf("heard %v, gaps %v; want [usr-next], [%d]", heard, f.Gaps(), goneID)
		}
		if err := gone.Rollback(); err != nil {
			t.Fatal(err)
		}
		// The gap goes once the snapshot's xmin passes it: at once on a
		// quiet server, later while other sessions' transactions (other
		// test binaries') keep xmin back; bounded wait.
		var all []string
		for i := 0; ; i++ {
			poll("rolled back")
			all = append(all, heard...)
			if len(f.Gaps()) == 0 || i == 1200 { // 60 s: only a bound against hangs
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(all) != 0 || len(f.Gaps()) != 0 {
			t.Fatalf("after the rollback: heard %v, gaps %v; want nothing, none", all, f.Gaps())
		}
		_ = nextID

		// The follower's own process's entries are not passed on; another's are.
		createUser(t, self, fullUser())
		poll("own entry")
		if len(heard) != 0 {
			t.Fatalf("own entry passed on: %v", heard)
		}
		u := fullUser()
		u.ID, u.Email = "usr-theirs", "theirs@example.com"
		createUser(t, other, u)
		poll("other's entry")
		if !slices.Equal(heard, []string{"usr-theirs"}) {
			t.Fatalf("heard %v, want [usr-theirs]", heard)
		}
	})
}

// TestChangeLogWaitsForOldTransactions: a gap is followed as long as any
// transaction that was running when it was found is still open, even one
// that holds no id at all, and however long that takes.
func TestChangeLogWaitsForOldTransactions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("PostgreSQL only")
		}
		self := testenv.OpenStore(t, db)
		f, err := store.NewFollower(self, 0, func(string) {})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ctx := context.Background()
		raw, err := sql.Open("postgres", db.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		// A transaction that took an xid (any write) and an id, rolled back
		// later; a newer entry commits meanwhile.
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO audits (user_id, at, actor, action, address, patch)
			VALUES ('usr-a', now(), 'x', 'patch', '', '[]') RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO audits (user_id, at, actor, action, address, patch)
			VALUES ('usr-b', now(), 'x', 'patch', '', '[]')`); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := f.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Gaps(), []int64{id}) {
				t.Fatalf("poll %d with the transaction open: gaps %v, want [%d]", i, f.Gaps(), id)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ { // bounded: see TestChangeLogFollowsOutOfOrderCommits
			if err := f.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if len(f.Gaps()) == 0 || i == 1200 { // 60 s: only a bound against hangs
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(f.Gaps()) != 0 {
			t.Fatalf("after the rollback: gaps %v, want none", f.Gaps())
		}
	})
}
