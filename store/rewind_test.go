package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestChangeLogAfterHistoryMovedBack: as after an asynchronous failover
// that lost the last commits, the entries the follower read last vanish,
// the id sequence goes back, and new entries take the lost ids again. The
// follower must not skip them: it passes on a resync ("") at its next read
// whether or not the new entries already reach past its old position,
// then follows the log from where it now ends, passing on each later
// entry once.
func TestChangeLogAfterHistoryMovedBack(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("the change log is followed across processes on PostgreSQL; SQLite serves one process")
		}
		self := testenv.OpenStore(t, db)
		var heard []string
		f, err := store.NewFollower(self, 0, func(id string) { heard = append(heard, id) })
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
		insert := func(user string) int64 {
			t.Helper()
			var id int64
			if err := raw.QueryRowContext(ctx, `INSERT INTO audits (user_id, at, actor, action, address, patch)
				VALUES ($1, clock_timestamp(), 'usr-x', 'patch', '', '[]') RETURNING id`, user).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		poll := func(step string, want ...string) {
			t.Helper()
			heard = nil
			if err := f.Poll(ctx); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if !slices.Equal(heard, want) {
				t.Fatalf("%s: passed on %q, want %q", step, heard, want)
			}
		}
		// lose deletes the entries above keep and sets the sequence back,
		// as a new primary that never received them has it.
		lose := func(keep int64) {
			t.Helper()
			if _, err := raw.ExecContext(ctx, "DELETE FROM audits WHERE id > $1", keep); err != nil {
				t.Fatal(err)
			}
			if _, err := raw.ExecContext(ctx, "ALTER TABLE audits ALTER COLUMN id RESTART WITH "+strconv.FormatInt(keep+1, 10)); err != nil {
				t.Fatal(err)
			}
		}

		poll("start", "")
		var ids []int64
		for _, u := range []string{"usr-1", "usr-2", "usr-3", "usr-4", "usr-5"} {
			ids = append(ids, insert(u))
		}
		poll("five entries", "usr-1", "usr-2", "usr-3", "usr-4", "usr-5")

		// The new entries reach past the follower's position (the ids of
		// usr-3..usr-5 again, and one more) before it reads.
		lose(ids[1])
		var reused int64
		for _, u := range []string{"usr-a", "usr-b", "usr-c", "usr-d"} {
			reused = insert(u)
		}
		if reused <= ids[4] {
			t.Fatalf("the new entries end at %d, not past the old position %d", reused, ids[4])
		}
		poll("entries taking lost ids, past the old position", "")
		poll("nothing new")
		insert("usr-e")
		poll("an entry after the resync", "usr-e")

		// The follower reads before the new entries arrive.
		last := insert("usr-f")
		poll("usr-f", "usr-f")
		lose(last - 1)
		poll("the entry read last is gone", "")
		insert("usr-g") // takes usr-f's id
		poll("an entry taking the lost id", "usr-g")
	})
}
