package usersvc_test

import (
	"fmt"
	"testing"
	"time"

	"usersvc"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fail records one failed attempt (an attempt that is never ended counts as one).
func fail(t *testing.T, th *usersvc.Throttle, at time.Time, account, addr string) {
	t.Helper()
	if d, a := th.Begin(at, account, addr); d.Wait > 0 || a == nil {
		t.Fatalf("%s from %s at %s refused: %+v", account, addr, at.Format(time.TimeOnly), d)
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
			_, a := th.Begin(t0, "alice", "127.0.0.99")
			a.Succeeded()
		}, []check{
			{t0, "alice", "127.0.0.2", usersvc.Decision{Wait: time.Second, Rule: usersvc.RuleAccount}},
			{t0, "alice", "127.0.0.99", allowed},
		}},
		{"a success forgets the pair's failures", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 4; i++ {
				fail(t, th, t0.Add(time.Duration(i)*time.Minute), "alice", "127.0.0.2")
			}
			_, a := th.Begin(t0.Add(4*time.Minute), "alice", "127.0.0.2")
			a.Succeeded()
			for i := 5; i < 9; i++ {
				fail(t, th, t0.Add(time.Duration(i)*time.Minute), "alice", "127.0.0.2")
			}
		}, []check{
			{t0.Add(9 * time.Minute), "alice", "127.0.0.2", allowed},
		}},
		{"abandoned attempts do not count", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 25; i++ {
				_, a := th.Begin(t0, "alice", "127.0.0.2")
				a.Abandoned()
			}
		}, []check{
			{t0, "alice", "127.0.0.2", allowed},
		}},
		{"attempts still running count: concurrency cannot outrun the limit", func(t *testing.T, th *usersvc.Throttle) {
			for i := 0; i < 5; i++ {
				th.Begin(t0, "alice", "127.0.0.2") // none has ended yet
			}
		}, []check{
			{t0, "alice", "127.0.0.2", usersvc.Decision{Wait: 15 * time.Minute, Rule: usersvc.RulePair}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := usersvc.NewThrottle()
			tc.setup(t, th)
			for _, c := range tc.checks {
				if got := th.Decide(c.at, c.account, c.addr); got != c.want {
					t.Errorf("%s from %s at %s: %+v, want %+v", c.account, c.addr, c.at.Format(time.TimeOnly), got, c.want)
				}
			}
		})
	}
}
