package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestWriteGate: on PostgreSQL a single-statement save waits for a place
// at the write gate (here all taken) and gives up with its context,
// changing nothing; a save inside a transaction, which holds its
// connection already, does not wait for one; once places free, the save
// goes through.
func TestWriteGate(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("the write gate is PostgreSQL's (SQLite runs one connection)")
		}
		ctx := context.Background()
		st, err := store.Open(ctx, db.URL, store.Options{MaxOpenConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		createUser(t, st, fullUser()) // version 7
		entry := func(action string) *usersvc.AuditEntry {
			return &usersvc.AuditEntry{UserID: "usr-roundtrip", At: time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), Actor: "usr-test",
				Action: action, Patch: []usersvc.PatchOperation{}}
		}
		release := store.HoldWrites(st)

		waiting, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		saved, err := st.SaveUser(waiting, &usersvc.UserSave{User: changedUser(), Version: 7, Entry: entry("replace")})
		cancel()
		if saved || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a save with every place taken: saved %v, %v; want it to wait and end with its deadline", saved, err)
		}
		if got, err := st.User(ctx, "usr-roundtrip", false); err != nil || got.Version != 7 || got.Name != fullUser().Name {
			t.Fatalf("after the save gave up: %+v, %v; want the user unchanged at version 7", got, err)
		}

		inTx := changedUser() // version 8; ending sessions makes it a transaction
		if saved, err := st.SaveUser(ctx, &usersvc.UserSave{User: inTx, Version: 7, EndSessions: true, Entry: entry("replace")}); err != nil || !saved {
			t.Fatalf("a transaction's save with every place taken: saved %v, %v; want it saved", saved, err)
		}

		release()
		next := changedUser()
		next.Version, next.Name = 9, "After The Gate"
		if saved, err := st.SaveUser(ctx, &usersvc.UserSave{User: next, Version: 8, Entry: entry("patch")}); err != nil || !saved {
			t.Fatalf("a save once places are free: saved %v, %v", saved, err)
		}
		if got, err := st.User(ctx, "usr-roundtrip", false); err != nil || got.Version != 9 || got.Name != "After The Gate" {
			t.Fatalf("after the gate: %+v, %v", got, err)
		}
	})
}
