package usersvc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestSlowSubscriberDropped: a subscriber that does not read is not
// buffered for without limit: past the event buffer its subscription ends.
func TestSlowSubscriberDropped(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		p, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(e.AdminToken))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(usersvc.WithPrincipal(context.Background(), p))
		defer cancel()
		events, err := e.Svc.WatchUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := e.Svc.Subscriptions(); n != 1 {
			t.Fatalf("%d subscriptions", n)
		}
		sys := usersvc.SystemContext(context.Background())
		for i := 0; i < 100 && e.Svc.Subscriptions() == 1; i++ {
			if _, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: "U", Email: fmt.Sprintf("u%d@example.com", i), Country: "ES", TimeZone: "UTC"}.Document()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // let the subscription take each change on its own
		}
		for i := 0; i < 300 && e.Svc.Subscriptions() != 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if n := e.Svc.Subscriptions(); n != 0 {
			t.Fatalf("a subscriber that never reads still has %d subscription(s) open", n)
		}
		got := 0
		for range events {
			got++
		}
		if got > 17 {
			t.Fatalf("%d events were buffered for a subscriber that never read", got)
		}
	})
}

// TestWatchRules: who may follow whom, in the domain.
func TestWatchRules(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			name  string
			watch func() error
			want  string
		}{
			{"user follows self", func() error { _, err := e.Svc.WatchUser(as(t, e, e.AliceToken), ""); return err }, ""},
			{"user follows other", func() error { _, err := e.Svc.WatchUser(as(t, e, e.AliceToken), e.Bob.ID); return err }, usersvc.ENotFound},
			{"user follows an id that does not exist", func() error { _, err := e.Svc.WatchUser(as(t, e, e.AliceToken), "usr-nope"); return err }, usersvc.ENotFound},
			{"admin follows other", func() error { _, err := e.Svc.WatchUser(as(t, e, e.AdminToken), e.Bob.ID); return err }, ""},
			{"user follows everyone", func() error { _, err := e.Svc.WatchUsers(as(t, e, e.BobToken)); return err }, usersvc.EForbidden},
			{"admin follows everyone", func() error { _, err := e.Svc.WatchUsers(as(t, e, e.AdminToken)); return err }, ""},
			{"no caller", func() error { _, err := e.Svc.WatchUser(context.Background(), ""); return err }, usersvc.EUnauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := ""
				if err := tc.watch(); err != nil {
					got = usersvc.ErrorCode(err)
				}
				if got != tc.want {
					t.Fatalf("code %q, want %q", got, tc.want)
				}
			})
		}
	})
}

// TestDemotedAdminLosesUsersChanged: usersChanged is for admins, checked
// again before every event: an admin demoted meanwhile gets FORBIDDEN.
func TestDemotedAdminLosesUsersChanged(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin2, token := e.NewUser(t, "Second Admin", "admin2@example.com", "UTC", usersvc.RoleAdmin)
		p, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(usersvc.WithPrincipal(context.Background(), p))
		defer cancel()
		events, err := e.Svc.WatchUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sys := usersvc.SystemContext(context.Background())
		if _, err := e.Svc.PatchUser(sys, admin2.ID, []any{map[string]any{"op": "replace", "path": "/role", "value": "user"}}, nil); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(10 * time.Second) // a bound against hangs, not a measurement
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("the stream ended without an error")
				}
				if ev.Err == nil {
					continue
				}
				if c := usersvc.ErrorCode(ev.Err); c != usersvc.EForbidden {
					t.Fatalf("ended with %v, want FORBIDDEN", ev.Err)
				}
				return
			case <-timeout:
				t.Fatal("the demoted admin's usersChanged went on")
			}
		}
	})
}

// TestSubscriptionsPerUserCapped: one user cannot take every slot of a
// process; others still subscribe.
func TestSubscriptionsPerUserCapped(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		alice := as(t, e, e.AliceToken)
		for i := 0; i < 100; i++ {
			if _, err := e.Svc.WatchUser(alice, ""); err != nil {
				t.Fatalf("subscription %d: %v", i+1, err)
			}
		}
		if _, err := e.Svc.WatchUser(alice, ""); usersvc.ErrorCode(err) != usersvc.ERateLimited {
			t.Fatalf("the 101st: %v, want rate limited", err)
		}
		if _, err := e.Svc.WatchUser(as(t, e, e.BobToken), ""); err != nil {
			t.Fatalf("another user: %v", err)
		}
	})
}

// TestUsersChangedCatchesUpAfterAGap: while a process cannot read the
// change log (its connection frozen), other processes' changes go unheard;
// once it reads again, its usersChanged subscribers receive every user
// changed in the gap, as they are now, without a resync of everyone.
func TestUsersChangedCatchesUpAfterAGap(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		proxy := testenv.NewProxy(t, testenv.PostgresAddr(t, db.URL))
		t.Cleanup(proxy.Cut)
		st2, err := store.Open(context.Background(), db.URL, store.Options{ListenURL: proxy.ProxyURL(db.URL)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st2.Close() })
		p2 := testenv.NewService(st2, e.Clock)
		startWatching(t, p2)
		ctx, cancel := context.WithCancel(asOn(t, p2, e.AdminToken))
		defer cancel()
		events, err := p2.WatchUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		proxy.Freeze()
		for i := 0; i < 500 && usersvc.AuthListening(p2); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if usersvc.AuthListening(p2) {
			t.Fatal("the second process still follows the log through a frozen connection")
		}
		sys := usersvc.SystemContext(context.Background())
		want := map[string]string{e.Alice.ID: "gap-alice", e.Bob.ID: "gap-bob"}
		for id, desc := range want {
			if _, err := e.Svc.PatchUser(sys, id, []any{map[string]any{"op": "replace", "path": "/description", "value": desc}}, nil); err != nil {
				t.Fatal(err)
			}
		}
		proxy.Resume()
		got := map[string]string{}
		timeout := time.After(20 * time.Second) // a bound against hangs, not a measurement
		for len(got) < len(want) {
			select {
			case ev, ok := <-events:
				if !ok || ev.Err != nil {
					t.Fatalf("the subscription ended: %v", ev.Err)
				}
				if _, followed := want[ev.User.ID]; followed && ev.User.Description != nil {
					got[ev.User.ID] = *ev.User.Description
				} else if !followed {
					t.Errorf("an event for %s, which did not change", ev.User.ID)
				}
			case <-timeout:
				t.Fatalf("after the gap: got %v, want %v", got, want)
			}
		}
		for id, desc := range want {
			if got[id] != desc {
				t.Errorf("%s: %q, want %q", id, got[id], desc)
			}
		}
	})
}
