package usersvc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestRunStopsAfterLastFlush: Run returns after ctx ends, only once the
// meter's last flush has written every count made before (the flush
// interval is an hour, so that flush is the only one) and the change
// watcher has stopped (on PostgreSQL it was live with the given cache
// life, and the cache is back to 1 s).
func TestRunStopsAfterLastFlush(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var logs bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.Svc.Run(ctx, usersvc.RunOptions{FlushInterval: time.Hour, CacheTTL: 7 * time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		}()
		const day = "2026-06-01"
		for _, c := range []struct {
			user string
			n    int
		}{{e.Alice.ID, 3}, {e.Bob.ID, 2}} {
			for i := 0; i < c.n; i++ {
				if _, err := e.Svc.Meter.Count(ctx, c.user, day); err != nil {
					t.Fatal(err)
				}
			}
		}
		if db.Name == "postgres" {
			for i := 0; i < 500 && usersvc.AuthTTL(e.Svc) != 7*time.Minute; i++ { // bounded wait, not a timing assertion
				time.Sleep(10 * time.Millisecond)
			}
			if got := usersvc.AuthTTL(e.Svc); got != 7*time.Minute {
				t.Fatalf("token cache life while Run listens: %v, want 7m (RunOptions.CacheTTL)", got)
			}
		}
		cancel()
		<-done
		for _, c := range []struct {
			user string
			want usersvc.Usage
		}{{e.Alice.ID, usersvc.Usage{Total: 3, Daily: 3}}, {e.Bob.ID, usersvc.Usage{Total: 2, Daily: 2}}} {
			got, err := e.Store.UsageCounts(context.Background(), c.user, day)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("stored counts of %s after Run returned: %+v, want %+v", c.user, got, c.want)
			}
		}
		if got := usersvc.AuthTTL(e.Svc); got != time.Second {
			t.Errorf("token cache life after Run returned: %v, want 1s (the watcher stopped)", got)
		}
		if logs.Len() != 0 {
			t.Errorf("Run logged: %s", logs.String())
		}
	})
}

// failingUsage is a store whose usage writes fail.
type failingUsage struct{ usersvc.Store }

func (failingUsage) AddUsages(context.Context, string, []usersvc.UsageDelta) ([]usersvc.Usage, error) {
	return nil, errors.New("disk full")
}

// TestRunLogsFailedFlush: a flush that fails is logged through
// RunOptions.Logger, also when ctx has already ended when Run starts (the
// last flush still runs).
func TestRunLogsFailedFlush(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		svc := usersvc.NewService(failingUsage{e.Store})
		var flushes []string
		svc.Meter.Flushed = func(users int, err error) {
			flushes = append(flushes, fmt.Sprintf("%d users, %v", users, err))
		}
		if _, err := svc.Meter.Count(context.Background(), e.Alice.ID, "2026-06-01"); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		svc.Run(ctx, usersvc.RunOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if len(flushes) != 1 || flushes[0] != "1 users, disk full" {
			t.Errorf("flushes: %q, want one of 1 user failing with disk full", flushes)
		}
		if got := logs.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `msg="writing usage counts" err="disk full"`) {
			t.Errorf("logged %q, want one line about the failed flush", got)
		}
	})
}

// listenerStub is a store whose change listener is live until ctx ends,
// and then records that it returned (in a plain field: under -race, a read
// of it that Run's return does not order after the write is reported).
type listenerStub struct {
	usersvc.Store
	returned bool
}

func (l *listenerStub) FollowChanges(ctx context.Context, changed func(string), live func(bool), heard func(time.Time)) error {
	live(true)
	<-ctx.Done()
	l.returned = true
	return nil
}

// TestRunJoinsWatcher: Run returns only after the change watcher has.
func TestRunJoinsWatcher(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		l := &listenerStub{Store: testenv.OpenStore(t, db)}
		svc := usersvc.NewService(l)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		svc.Run(ctx, usersvc.RunOptions{})
		if !l.returned {
			t.Fatal("Run returned before the change watcher did")
		}
		if got := usersvc.AuthTTL(svc); got != time.Second {
			t.Errorf("token cache life after Run returned: %v, want 1s", got)
		}
	})
}

// failingFollower is a store whose change-log follower fails to start
// `fails` times, then follows until ctx ends.
type failingFollower struct {
	usersvc.Store
	fails   int
	calls   atomic.Int32
	running chan struct{}
}

func (f *failingFollower) FollowChanges(ctx context.Context, changed func(string), live func(bool), heard func(time.Time)) error {
	if int(f.calls.Add(1)) <= f.fails {
		return errors.New("connection refused")
	}
	live(true)
	close(f.running)
	<-ctx.Done()
	return nil
}

// TestRunRestartsFollower: a change-log follower that fails is started
// again (after a delay) until it runs, and each failure is logged.
func TestRunRestartsFollower(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		f := &failingFollower{Store: testenv.OpenStore(t, db), fails: 2, running: make(chan struct{})}
		svc := usersvc.NewService(f)
		var logs testenv.SyncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			svc.Run(ctx, usersvc.RunOptions{WatchBackoff: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		}()
		select {
		case <-f.running:
		case <-time.After(30 * time.Second): // a bound against hangs
			t.Fatalf("the follower was started %d times and never ran", f.calls.Load())
		}
		cancel()
		<-done
		if n := f.calls.Load(); n != 3 {
			t.Errorf("%d starts, want 3 (two failures, then running)", n)
		}
		if got := strings.Count(logs.String(), "connection refused"); got != 2 {
			t.Errorf("logged %d failures, want 2:\n%s", got, logs.String())
		}
	})
}
