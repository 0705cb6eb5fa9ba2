package usersvc_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// startWatching runs svc.WatchChanges with a long cache life until t ends
// and waits (bounded) until it listens.
func startWatching(t *testing.T, svc *usersvc.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.WatchChanges(ctx, time.Hour) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	for i := 0; i < 500 && !usersvc.AuthListening(svc); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !usersvc.AuthListening(svc) {
		t.Fatal("the change listener never went live")
	}
}

// waitHeard waits (bounded) until svc has seen a notice about userID newer
// than gen.
func waitHeard(t *testing.T, svc *usersvc.Service, userID string, gen uint64) {
	t.Helper()
	// Called once the change has committed. A process that follows the
	// change log has heard it once a poll that began after now succeeded
	// (an invalidation of the user alone might be an earlier change of
	// theirs, heard late); one that does not must have invalidated the
	// user itself.
	now := time.Now()
	for i := 0; i < 500; i++ {
		if usersvc.AuthListening(svc) && usersvc.AuthHeard(svc).After(now) && usersvc.AuthGeneration(svc, userID) > gen ||
			!usersvc.AuthListening(svc) && usersvc.AuthGeneration(svc, userID) > gen {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no change about %s was heard", userID)
}

// TestCacheFillRacesOtherProcess forces the interleaving across two
// processes on one PostgreSQL database: process 2 reads the user, process
// 1 commits the change, process 2 hears the notice, and only then tries to
// cache what it read.
func TestCacheFillRacesOtherProcess(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		p1 := e.Svc
		p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
		startWatching(t, p2)
		admin := usersvc.SystemContext(context.Background())
		for _, c := range accessChanges {
			t.Run(c.name, func(t *testing.T) {
				victim, token := newVictim(t, e, c.name)
				var once sync.Once
				usersvc.SetAuthBeforePut(p2, func(owner *usersvc.User) {
					if owner.ID != victim.ID {
						return
					}
					once.Do(func() {
						gen := usersvc.AuthGeneration(p2, victim.ID)
						if err := c.change(admin, p1, victim.ID); err != nil {
							t.Errorf("change: %v", err)
						}
						waitHeard(t, p2, victim.ID, gen)
					})
				})
				defer usersvc.SetAuthBeforePut(p2, nil)
				if _, err := auth(p2, token); err != nil {
					t.Fatalf("the racing check read the user before the change, so it passes: %v", err)
				}
				usersvc.SetAuthBeforePut(p2, nil)
				for i := 0; i < 3; i++ {
					if p, err := auth(p2, token); !c.right(p, err) {
						t.Fatalf("process 2, check %d after the change committed and was heard: principal %+v, err %v", i+1, p, err)
					}
				}
			})
		}
	})
}

// TestCacheNeedsHeartbeats: on PostgreSQL the cache is served only while
// the listener keeps hearing its own heartbeats: an entry outlives the lag
// bound when heartbeats are heard past it, and once the listener stops,
// entries stop being served (AuthCacheRules pins the bound).
func TestCacheNeedsHeartbeats(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("the listener and its heartbeats are PostgreSQL's")
		}
		e := testenv.Start(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Svc.WatchChanges(ctx, time.Hour) }()
		for i := 0; i < 500 && !usersvc.AuthListening(e.Svc); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		// Fill the entry and wait, boundedly, for the listener to hear a
		// heartbeat sent more than the lag bound (1 s) after the fill: from
		// then on only heartbeats can keep it served, and it must be. A poll
		// that overran its bound on a loaded machine empties the cache on
		// purpose, so the whole step is tried up to three times; an entry
		// that is never served past the bound fails all three.
		served := false
		for attempt := 0; attempt < 3 && !served; attempt++ {
			cached(t, e.Svc, e.BobToken)
			filled := time.Now()
			for i := 0; ; i++ {
				if usersvc.AuthHeard(e.Svc).After(filled.Add(1200 * time.Millisecond)) {
					break
				}
				if i == 500 {
					t.Fatalf("no heartbeat heard in 10 s (last heard %v, entry filled %v)", usersvc.AuthHeard(e.Svc), filled)
				}
				time.Sleep(20 * time.Millisecond)
			}
			served = e.Svc.AuthCached(e.BobToken)
		}
		if !served {
			t.Fatal("the entry is not served although heartbeats are heard")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300 && e.Svc.AuthCached(e.BobToken); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if e.Svc.AuthCached(e.BobToken) {
			t.Fatal("still served after the listener stopped hearing")
		}
	})
}
