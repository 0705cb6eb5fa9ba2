package usersvc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

var (
	t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	bg = context.Background()
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// onEveryLog runs fn on each failure log the rules must hold on: a fake
// in this test's memory (the rules alone, where a database adds nothing),
// and the database's (shared by every process), on SQLite and on
// PostgreSQL.
func onEveryLog(t *testing.T, fn func(t *testing.T, log usersvc.FailureLog)) {
	t.Run("fake", func(t *testing.T) { fn(t, &fakeLog{failures: map[string][]time.Time{}}) })
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) { fn(t, testenv.OpenStore(t, db)) })
}

// fail records one failed attempt (an attempt that is never ended counts as one).
func fail(t *testing.T, th *usersvc.Throttle, at time.Time, account, addr string) {
	t.Helper()
	if d, a, err := th.Begin(bg, at, account, addr); err != nil || d.Wait > 0 || a == nil {
		t.Fatalf("%s from %s at %s refused: %+v %v", account, addr, at.Format(time.TimeOnly), d, err)
	}
}

func TestThrottleDecisions(t *testing.T) {
	allowed := usersvc.Decision{}
	type check struct {
		at            time.Time
		account, addr string
		want          usersvc.Decision
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, th *usersvc.Throttle)
		checks []check
	}{
		{"five failures block the pair, not the account", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 5; i++ {
				fail(t, th, t0.Add(time.Duration(i)*time.Minute), "alice", "127.0.0.2")
			}
		}, []check{
			{t0.Add(5 * time.Minute), "alice", "127.0.0.2", usersvc.Decision{Wait: 10 * time.Minute, Rule: usersvc.RulePair}},
			{t0.Add(5 * time.Minute), "alice", "127.0.0.3", allowed},
			{t0.Add(5 * time.Minute), "bob", "127.0.0.2", allowed},
			{t0.Add(15 * time.Minute), "alice", "127.0.0.2", allowed},
		}},
		{"twenty failures over many accounts block the address", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 20; i++ {
				fail(t, th, t0, fmt.Sprintf("u%d", i), "127.0.0.2")
			}
		}, []check{
			{t0.Add(time.Minute), "fresh", "127.0.0.2", usersvc.Decision{Wait: 14 * time.Minute, Rule: usersvc.RuleAddress}},
			{t0.Add(time.Minute), "fresh", "127.0.0.3", allowed},
			{t0.Add(15 * time.Minute), "fresh", "127.0.0.2", allowed},
		}},
		{"an account guessed at from five addresses slows the failing ones only", func(t *testing.T, th *usersvc.Throttle) {
			for i := 2; i <= 6; i++ {
				fail(t, th, t0, "alice", fmt.Sprintf("127.0.0.%d", i))
			}
		}, []check{
			{t0, "alice", "127.0.0.2", usersvc.Decision{Wait: time.Second, Rule: usersvc.RuleAccount}},
			{t0.Add(time.Second), "alice", "127.0.0.2", allowed},
			{t0, "alice", "127.0.0.7", allowed},
			{t0, "bob", "127.0.0.2", allowed},
		}},
		{"the delay doubles with the account's failures, to a minute", func(t *testing.T, th *usersvc.Throttle) {
			for i := 2; i <= 7; i++ { // six failures: 2 s
				fail(t, th, t0, "alice", fmt.Sprintf("127.0.0.%d", i))
			}
		}, []check{
			{t0, "alice", "127.0.0.2", usersvc.Decision{Wait: 2 * time.Second, Rule: usersvc.RuleAccount}},
			{t0, "alice", "127.0.0.99", allowed},
		}},
		{"at most a minute", func(t *testing.T, th *usersvc.Throttle) {
			for i := 2; i <= 13; i++ { // twelve failures: 128 s, capped at 60 s
				fail(t, th, t0, "alice", fmt.Sprintf("127.0.0.%d", i))
			}
		}, []check{
			{t0.Add(30 * time.Second), "alice", "127.0.0.2", usersvc.Decision{Wait: 30 * time.Second, Rule: usersvc.RuleAccount}},
			{t0.Add(time.Minute), "alice", "127.0.0.2", allowed},
			{t0.Add(30 * time.Second), "alice", "127.0.0.99", allowed},
		}},
		{"the owner's success does not lift the slow-down for others", func(t *testing.T, th *usersvc.Throttle) {
			for i := 2; i <= 6; i++ {
				fail(t, th, t0, "alice", fmt.Sprintf("127.0.0.%d", i))
			}
			_, a, err := th.Begin(bg, t0, "alice", "127.0.0.99")
			must(t, err)
			must(t, a.Succeeded(bg))
		}, []check{
			{t0, "alice", "127.0.0.2", usersvc.Decision{Wait: time.Second, Rule: usersvc.RuleAccount}},
			{t0, "alice", "127.0.0.99", allowed},
		}},
		{"a success forgets the pair's failures", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 4; i++ {
				fail(t, th, t0.Add(time.Duration(i)*time.Minute), "alice", "127.0.0.2")
			}
			_, a, err := th.Begin(bg, t0.Add(4*time.Minute), "alice", "127.0.0.2")
			must(t, err)
			must(t, a.Succeeded(bg))
			for i := 5; i < 9; i++ {
				fail(t, th, t0.Add(time.Duration(i)*time.Minute), "alice", "127.0.0.2")
			}
		}, []check{
			{t0.Add(9 * time.Minute), "alice", "127.0.0.2", allowed},
		}},
		{"abandoned attempts do not count", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 25; i++ {
				d, a, err := th.Begin(bg, t0, "alice", "127.0.0.2")
				if err != nil || a == nil {
					t.Fatalf("attempt %d: %+v %v", i, d, err)
				}
				must(t, a.Abandoned(bg))
			}
		}, []check{
			{t0, "alice", "127.0.0.2", allowed},
		}},
		{"attempts still running count: concurrency cannot outrun the limit", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 5; i++ {
				_, _, _ = th.Begin(bg, t0, "alice", "127.0.0.2") // none has ended yet
			}
		}, []check{
			{t0, "alice", "127.0.0.2", usersvc.Decision{Wait: 15 * time.Minute, Rule: usersvc.RulePair}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			onEveryLog(t, func(t *testing.T, log usersvc.FailureLog) {
				{
					th := usersvc.NewThrottle(log)
					tc.setup(t, th)
					for _, c := range tc.checks {
						got, err := th.Decide(bg, c.at, c.account, c.addr)
						if err != nil || got != c.want {
							t.Errorf("%s from %s at %s: %+v %v, want %+v", c.account, c.addr, c.at.Format(time.TimeOnly), got, err, c.want)
						}
					}
				}
			})
		})
	}
}

// TestThrottleSharedAcrossProcesses: failures counted by one process
// refuse the attempt in another (the failures live in the database), so
// replicas do not multiply an attacker's attempts.
func TestThrottleSharedAcrossProcesses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
		from := usersvc.WithClientAddr(context.Background(), "127.0.0.7")
		for i := 0; i < 5; i++ {
			svc := e.Svc
			if i%2 == 1 {
				svc = p2
			}
			if _, err := svc.Login(from, "alice@example.com", "wrong password"); usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		for name, svc := range map[string]*usersvc.Service{"process 1": e.Svc, "process 2": p2} {
			if _, err := svc.Login(from, "alice@example.com", "wrong password"); usersvc.ErrorCode(err) != usersvc.ERateLimited {
				t.Fatalf("%s: the sixth attempt from the same address: %v, want rate limited", name, err)
			}
		}
		// Another address is not held back by these failures.
		if _, err := p2.Login(usersvc.WithClientAddr(context.Background(), "127.0.0.8"), "alice@example.com", "wrong password"); usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
			t.Fatalf("another address: %v", err)
		}
	})
}

// fakeLog is a FailureLog in memory: failures by key, oldest first.
type fakeLog struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

func (f *fakeLog) BeginAttempt(_ context.Context, keys []string, since, at time.Time, decide func([][]time.Time) bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	recent := make([][]time.Time, len(keys))
	for i, k := range keys {
		for _, ts := range f.failures[k] {
			if !ts.Before(since) {
				recent[i] = append(recent[i], ts)
			}
		}
	}
	if decide(recent) {
		for _, k := range keys {
			f.failures[k] = append(f.failures[k], at)
		}
	}
	return nil
}

func (f *fakeLog) ForgetFailures(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.failures, key)
	return nil
}

func (f *fakeLog) RemoveFailure(_ context.Context, keys []string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		fs := f.failures[k]
		for i := len(fs) - 1; i >= 0; i-- {
			if fs[i].Equal(at) {
				f.failures[k] = append(fs[:i:i], fs[i+1:]...)
				break
			}
		}
	}
	return nil
}
