package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestUserRoundTrip saves users with every field set and reads them back
// through each read the store has: by id (with and without the row lock),
// by email and in a list page. Then it clears every optional field.
func TestUserRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		ctx := context.Background()
		check := func(t *testing.T, step string, want *usersvc.User) {
			t.Helper()
			reads := map[string]func() (*usersvc.User, error){
				"User": func() (*usersvc.User, error) { return st.User(ctx, want.ID, false) },
				"User forUpdate in a transaction": func() (*usersvc.User, error) {
					var u *usersvc.User
					err := st.InTx(ctx, func(tx usersvc.Tx) error {
						var err error
						u, err = tx.User(ctx, want.ID, true)
						return err
					})
					return u, err
				},
				"UserBySignInKey": func() (*usersvc.User, error) {
					key := usersvc.SignInKey(want)
					if key != "" {
						return st.UserBySignInKey(ctx, key)
					}
					// A deleted user with a userName holds no key: neither
					// their userName nor their email finds them.
					for _, k := range []string{usersvc.EmailKey(*want.UserName), usersvc.EmailKey(want.Email)} {
						if u, err := st.UserBySignInKey(ctx, k); usersvc.ErrorCode(err) != usersvc.ENotFound {
							return nil, fmt.Errorf("key %q of a deleted user with a userName found %v, %v", k, u, err)
						}
					}
					return st.User(ctx, want.ID, false)
				},
				"ListUsers": func() (*usersvc.User, error) {
					page, _, err := st.ListUsers(ctx, usersvc.ListQuery{
						Filter: usersvc.UserFilter{Deleted: want.DeletedAt != nil, OnlyID: want.ID}, Limit: 10})
					if err != nil || len(page) != 1 {
						t.Fatalf("%s: list: %d users, %v", step, len(page), err)
					}
					return page[0], nil
				},
			}
			for name, read := range reads {
				got, err := read()
				if err != nil {
					t.Fatalf("%s: %s: %v", step, name, err)
				}
				compareUsers(t, step+": "+name, got, want)
			}
		}

		createUser(t, st, fullUser())
		check(t, "created", fullUser())

		if saved, err := updateUser(st, changedUser(), 7); err != nil || !saved {
			t.Fatalf("update: saved %v, %v", saved, err)
		}
		check(t, "updated", changedUser())

		cleared := changedUser()
		cleared.Description, cleared.Message, cleared.DisabledMessage = nil, nil, nil
		cleared.Group, cleared.DeviceID, cleared.DailyQuota = nil, nil, nil
		cleared.From, cleared.Expires, cleared.LastLogin, cleared.DeletedAt = nil, nil, nil, nil
		cleared.Tags, cleared.Privileges = map[string]string{}, []string{}
		cleared.PasswordHash = ""
		cleared.Version = 9
		if saved, err := updateUser(st, cleared, 8); err != nil || !saved {
			t.Fatalf("clear: saved %v, %v", saved, err)
		}
		want := changedUser()
		want.Description, want.Message, want.DisabledMessage = nil, nil, nil
		want.Group, want.DeviceID, want.DailyQuota = nil, nil, nil
		want.From, want.Expires, want.LastLogin, want.DeletedAt = nil, nil, nil, nil
		want.Tags, want.Privileges = map[string]string{}, []string{}
		want.PasswordHash = ""
		want.Version = 9
		check(t, "cleared", want)
	})
}

// compareUsers reports each field of got that differs from want.
func compareUsers(t *testing.T, step string, got, want *usersvc.User) {
	t.Helper()
	g, w := reflect.ValueOf(*got), reflect.ValueOf(*want)
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s: User.%s = %s, want %s", step, g.Type().Field(i).Name, show(g.Field(i)), show(w.Field(i)))
		}
	}
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		return fmt.Sprintf("&%#v", v.Elem().Interface())
	}
	return fmt.Sprintf("%#v", v.Interface())
}

// TestTokenRoundTrip saves a token with every field set (checked by
// reflection, so a new Token field fails here until it is covered) and
// reads it back by hash and in the owner's list.
func TestTokenRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		ctx := context.Background()
		createUser(t, st, fullUser())
		tok := &usersvc.Token{UserID: "usr-roundtrip", Kind: usersvc.TokenKind("session"), Label: "laptop",
			Hash: "hash-roundtrip", Created: time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC),
			Expires: ptr(time.Date(2026, 3, 5, 5, 6, 7, 0, time.UTC)), APIKeyID: ptr(41), Scope: usersvc.ScopeSCIM}
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := st.TouchToken(ctx, tok.ID, time.Date(2026, 3, 4, 9, 0, 0, 123000, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RevokeToken(ctx, "usr-roundtrip", usersvc.TokenKind("session"), tok.ID); err != nil {
			t.Fatal(err)
		}
		want := usersvc.Token{ID: tok.ID, UserID: "usr-roundtrip", Kind: usersvc.TokenKind("session"), Label: "laptop",
			Hash: "hash-roundtrip", Created: time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC),
			Expires:  ptr(time.Date(2026, 3, 5, 5, 6, 7, 0, time.UTC)),
			LastUsed: ptr(time.Date(2026, 3, 4, 9, 0, 0, 123000, time.UTC)), Revoked: true, APIKeyID: ptr(41), Scope: usersvc.ScopeSCIM}
		v := reflect.ValueOf(want)
		for i := range v.NumField() {
			if deepZero(v.Field(i)) {
				t.Errorf("the expected token leaves Token.%s at its zero value", v.Type().Field(i).Name)
			}
		}
		got, err := st.TokenByHash(ctx, "hash-roundtrip")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("TokenByHash: got %+v, want %+v", *got, want)
		}
		list, err := st.Tokens(ctx, "usr-roundtrip", usersvc.TokenKind("session"))
		if err != nil || len(list) != 1 {
			t.Fatalf("Tokens: %d, %v", len(list), err)
		}
		if !reflect.DeepEqual(*list[0], want) {
			t.Errorf("Tokens: got %+v, want %+v", *list[0], want)
		}
		if _, err := st.TokenByHash(ctx, "no-such-hash"); usersvc.ErrorCode(err) != usersvc.ENotFound {
			t.Errorf("unknown hash: got %v, want not found", err)
		}
		if _, err := st.User(ctx, "usr-nobody", false); usersvc.ErrorCode(err) != usersvc.ENotFound {
			t.Errorf("unknown user: got %v, want not found", err)
		}
	})
}

// TestReadsAreOneStatement checks that each hand-written read is one
// statement and that Options.OnQuery sees it, on both databases.
func TestReadsAreOneStatement(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		testenv.OpenStore(t, db) // migrates
		var n int
		st, err := store.Open(context.Background(), db.URL, store.Options{OnQuery: func() { n++ }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ctx := context.Background()
		live := fullUser()
		live.DeletedAt = nil
		createUser(t, st, live)
		for name, read := range map[string]func() error{
			"User": func() error { _, err := st.User(ctx, "usr-roundtrip", false); return err },
			"UserBySignInKey": func() error {
				_, err := st.UserBySignInKey(ctx, usersvc.SignInKey(live))
				return err
			},
			"TokenByHash": func() error {
				_, err := st.TokenByHash(ctx, "none")
				if usersvc.ErrorCode(err) == usersvc.ENotFound {
					return nil
				}
				return err
			},
		} {
			n = 0
			if err := read(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if n != 1 {
				t.Errorf("%s: %d statements, want 1", name, n)
			}
		}
	})
}

// TestListCountsOnlyWhenAsked: a page is one statement; the total costs a
// second (a count over every match), made only when asked for and when
// the page does not show it: a page from the start of the order (no
// cursor) that is not full, and not empty past the end, holds every match
// from its offset on.
func TestListCountsOnlyWhenAsked(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		testenv.OpenStore(t, db) // migrates
		var n int
		st, err := store.Open(context.Background(), db.URL, store.Options{OnQuery: func() { n++ }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ctx := context.Background()
		var first *usersvc.User
		for i := range 3 { // fullUser is deleted: every field is set
			u := fullUser()
			if i > 0 {
				u.ID, u.UserName, u.Email = fmt.Sprintf("usr-list%d", i), nil, fmt.Sprintf("list%d@example.com", i)
				u.Creation = u.Creation.Add(time.Duration(i) * time.Second)
			}
			createUser(t, st, u)
			if i == 0 {
				first = u
			}
		}
		for _, tc := range []struct {
			name                     string
			count                    bool
			limit, offset            int
			after                    bool
			users, total, statements int
		}{
			{"no count", false, 10, 0, false, 3, 0, 1},
			{"a page that is not full", true, 10, 0, false, 3, 3, 1},
			{"a full page", true, 3, 0, false, 3, 3, 2},
			{"a page that is not full, from an offset", true, 10, 1, false, 2, 3, 1},
			{"an empty page past the end", true, 10, 5, false, 0, 3, 2},
			{"only the total", true, 0, 0, false, 0, 3, 2},
			{"after a cursor", true, 10, 0, true, 2, 3, 2},
		} {
			n = 0
			q := usersvc.ListQuery{Limit: tc.limit, Offset: tc.offset, Count: tc.count, Filter: usersvc.UserFilter{Deleted: true}}
			if tc.after {
				q.After = &usersvc.Cursor{Creation: first.Creation, ID: first.ID}
			}
			users, total, err := st.ListUsers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != tc.users || total != tc.total || n != tc.statements {
				t.Errorf("%s: %d users, total %d, %d statements; want %d, %d, %d", tc.name, len(users), total, n, tc.users, tc.total, tc.statements)
			}
		}
	})
}

// createUser saves u as a new user, with a history entry.
func createUser(t *testing.T, st *store.Store, u *usersvc.User) {
	t.Helper()
	w := &usersvc.UserSave{User: u, Create: true, Entry: &usersvc.AuditEntry{UserID: u.ID,
		At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Actor: "usr-test", Action: "create", Patch: []usersvc.PatchOperation{}}}
	if saved, err := st.SaveUser(context.Background(), w); err != nil || !saved {
		t.Fatalf("create %s: saved %v, %v", u.ID, saved, err)
	}
}

// updateUser saves u over the stored user if its version is still version.
func updateUser(st *store.Store, u *usersvc.User, version int64) (bool, error) {
	return st.SaveUser(context.Background(), &usersvc.UserSave{User: u, Version: version, Entry: &usersvc.AuditEntry{UserID: u.ID,
		At: time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), Actor: "usr-test", Action: "replace", Patch: []usersvc.PatchOperation{}}})
}

// TestSaveUserGuardedByVersion: a save writes the user and its history
// entry only when the stored version is the one the change was decided on.
func TestSaveUserGuardedByVersion(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		ctx := context.Background()
		createUser(t, st, fullUser()) // version 7, one history entry
		entry := func() *usersvc.AuditEntry {
			return &usersvc.AuditEntry{UserID: "usr-roundtrip", At: time.Date(2026, 4, 5, 6, 7, 8, 0, time.UTC),
				Actor: "usr-actor", Action: "patch", Address: "192.0.2.1",
				Patch: []usersvc.PatchOperation{{"op": "replace", "path": "/name", "value": "Trip Round"}}}
		}
		save := func(u *usersvc.User, version int64, e *usersvc.AuditEntry) (bool, error) {
			return st.SaveUser(ctx, &usersvc.UserSave{User: u, Version: version, Entry: e})
		}
		// A stale version: nothing is written.
		e := entry()
		saved, err := save(changedUser(), 6, e)
		if err != nil || saved {
			t.Fatalf("stale version: saved %v, %v", saved, err)
		}
		got, err := st.User(ctx, "usr-roundtrip", false)
		if err != nil {
			t.Fatal(err)
		}
		compareUsers(t, "after the stale save", got, fullUser())
		if n, err := st.CountAudit(ctx, "usr-roundtrip"); err != nil || n != 1 {
			t.Fatalf("stale version: %d history entries, %v; want the create's only", n, err)
		}
		// The stored version: every field, and the entry.
		e = entry()
		saved, err = save(changedUser(), 7, e)
		if err != nil || !saved || e.ID == 0 {
			t.Fatalf("current version: saved %v, entry %d, %v", saved, e.ID, err)
		}
		got, err = st.User(ctx, "usr-roundtrip", false)
		if err != nil {
			t.Fatal(err)
		}
		compareUsers(t, "after the save", got, changedUser())
		list, err := st.Audit(ctx, "usr-roundtrip", 0, 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("history: %d entries, %v", len(list), err)
		}
		want := &usersvc.AuditEntry{ID: e.ID, UserID: "usr-roundtrip", At: time.Date(2026, 4, 5, 6, 7, 8, 0, time.UTC),
			Actor: "usr-actor", Action: "patch", Address: "192.0.2.1",
			Patch: []usersvc.PatchOperation{{"op": "replace", "path": "/name", "value": "Trip Round"}}}
		if !reflect.DeepEqual(list[0], want) {
			t.Errorf("history entry %+v, want %+v", list[0], want)
		}
		// A user that does not exist: not saved.
		ghost := changedUser()
		ghost.ID = "usr-ghost"
		if saved, err := save(ghost, 7, entry()); err != nil || saved {
			t.Errorf("missing user: saved %v, %v", saved, err)
		}
		if n, err := st.CountAudit(ctx, "usr-roundtrip"); err != nil || n != 2 {
			t.Errorf("missing user: %d history entries, %v", n, err)
		}
		// Another user's email: a conflict on email, on create and update
		// (users without a userName sign in with their email).
		other := fullUser()
		other.ID, other.Email, other.UserName = "usr-other", "other@example.com", nil
		createUser(t, st, other)
		dup := fullUser()
		dup.ID, dup.Email, dup.UserName = "usr-dup", "OTHER@example.com", nil
		_, err = st.SaveUser(ctx, &usersvc.UserSave{User: dup, Create: true, Entry: entry()})
		var ue *usersvc.Error
		if !errors.As(err, &ue) || ue.Code != usersvc.EConflict || ue.Field != "email" {
			t.Errorf("create with a taken email: %v", err)
		}
		taken := changedUser()
		taken.Email, taken.Version, taken.UserName = "OTHER@example.com", 9, nil
		_, err = save(taken, 8, entry())
		if !errors.As(err, &ue) || ue.Code != usersvc.EConflict || ue.Field != "email" {
			t.Errorf("taken email: %v", err)
		}
	})
}

// TestSaveUserSessions: a save that ends sessions revokes exactly the
// user's sign-in sessions, and one that issues a session inserts it, both
// with the change and neither when the version moved.
func TestSaveUserSessions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		ctx := context.Background()
		createUser(t, st, fullUser()) // version 7
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		mk := func(kind, hash string) *usersvc.Token {
			tok := &usersvc.Token{UserID: "usr-roundtrip", Kind: usersvc.TokenKind(kind), Label: hash, Hash: hash, Created: at}
			if err := st.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		mk("session", "s1")
		mk("session", "s2")
		mk("api_key", "k1")
		mk("token", "o1")
		revoked := func() map[string]bool {
			got := map[string]bool{}
			for _, h := range []string{"s1", "s2", "k1", "o1", "s3"} {
				tok, err := st.TokenByHash(ctx, h)
				if err == nil {
					got[h] = tok.Revoked
				}
			}
			return got
		}
		issue := &usersvc.Token{UserID: "usr-roundtrip", Kind: usersvc.TokenKind("session"), Label: "sign-in", Hash: "s3", Created: at}
		u := changedUser()
		// The version moved: no session issued, none ended.
		if saved, err := st.SaveUser(ctx, &usersvc.UserSave{User: u, Version: 5, EndSessions: true, Session: issue,
			Entry: &usersvc.AuditEntry{UserID: u.ID, At: at, Action: "login", Patch: []usersvc.PatchOperation{}}}); err != nil || saved {
			t.Fatalf("stale: saved %v, %v", saved, err)
		}
		if got, want := revoked(), map[string]bool{"s1": false, "s2": false, "k1": false, "o1": false}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after a stale save: %v, want %v", got, want)
		}
		if saved, err := st.SaveUser(ctx, &usersvc.UserSave{User: u, Version: 7, EndSessions: true, Session: issue,
			Entry: &usersvc.AuditEntry{UserID: u.ID, At: at, Action: "login", Patch: []usersvc.PatchOperation{}}}); err != nil || !saved {
			t.Fatalf("save: saved %v, %v", saved, err)
		}
		// Sessions end first; the new one is issued after.
		if got, want := revoked(), map[string]bool{"s1": true, "s2": true, "k1": false, "o1": false, "s3": false}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after the save: %v, want %v", got, want)
		}
	})
}
