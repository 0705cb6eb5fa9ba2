package rest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestUsageAcrossProcesses runs two independent servers (separate pools)
// over one database and checks that no count is lost.
func TestUsageAcrossProcesses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("several server processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		otherSvc := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
		other := testenv.NewHandler(otherSvc)
		const n = 100
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				h := e.Handler
				if i%2 == 1 {
					h = other
				}
				if r := testenv.Do(t, h, "GET", path(e.Bob), e.BobToken, ""); r.Status != 200 {
					t.Errorf("status %d", r.Status)
				}
			}(i)
		}
		wg.Wait()
		// Both processes stop gracefully (flush); a new process sees every count.
		for _, s := range []*usersvc.Service{e.Svc, otherSvc} {
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		third := testenv.NewHandler(testenv.NewService(testenv.OpenStore(t, db), e.Clock))
		r := testenv.Do(t, third, "GET", path(e.Bob), e.BobToken, "")
		if r.Int(t, "apiUsage") != n+1 || r.Int(t, "apiDailyUsage") != n+1 {
			t.Fatalf("counts %s, want %d", r.Body, n+1)
		}
	})
}

// TestCacheFollowsOtherProcesses: with the token cache living long, a user
// disabled through another process is refused here as soon as the notice
// arrives (PostgreSQL LISTEN/NOTIFY).
func TestCacheFollowsOtherProcesses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("several processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		otherSvc := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
		other := testenv.NewHandler(otherSvc)
		watching := make(chan error, 1)
		go func() { watching <- e.Svc.WatchChanges(ctx, time.Hour) }()
		// Wait (bounded) until the cache is live: a second request is a hit.
		ok := false
		for i := 0; i < 100 && !ok; i++ {
			if r := e.Do(t, "GET", path(e.Bob), e.BobToken, ""); r.Status != 200 {
				t.Fatalf("bob: %d", r.Status)
			}
			time.Sleep(20 * time.Millisecond)
			ok = e.Svc.AuthCached(e.BobToken)
		}
		if !ok {
			t.Fatal("the token cache never went live")
		}
		if r := testenv.Do(t, other, "PATCH", path(e.Bob), e.AdminToken, `[{"op":"replace","path":"/disabled","value":true}]`, jsonPatch); r.Status != 200 {
			t.Fatalf("disable through the other process: %d", r.Status)
		}
		refused := false
		for i := 0; i < 250 && !refused; i++ { // at most ~5 s
			refused = e.Do(t, "GET", path(e.Bob), e.BobToken, "").Status == 403
			if !refused {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !refused {
			t.Fatal("a user disabled by another process was still served from the cache")
		}
		cancel()
		if err := <-watching; err != nil {
			t.Fatal(err)
		}
	})
}

// TestCacheFollowsLocalWrites: a cached token check sees a change made
// through this process at once.
func TestCacheFollowsLocalWrites(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, step := range []struct {
			patch string
			want  int
		}{
			{"", 200},
			{`[{"op":"replace","path":"/disabled","value":true}]`, 403},
			{`[{"op":"replace","path":"/disabled","value":false}]`, 200},
			{`[{"op":"replace","path":"/expires","value":"2000-01-01T00:00:00Z"}]`, 403},
		} {
			if step.patch != "" {
				if r := e.Do(t, "PATCH", path(e.Bob), e.AdminToken, step.patch, jsonPatch); r.Status != 200 {
					t.Fatalf("admin patch: %d %s", r.Status, r.Body)
				}
			}
			if r := e.Do(t, "GET", path(e.Bob), e.BobToken, ""); r.Status != step.want {
				t.Fatalf("after %s: %d, want %d", step.patch, r.Status, step.want)
			}
		}
	})
}
