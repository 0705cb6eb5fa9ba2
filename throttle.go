package usersvc

import (
	"sync"
	"time"
)

// Throttle limits failed sign-ins without letting anyone turn it into a
// lockout of someone else. It counts failures in a sliding window under
// three keys, and decides before each attempt:
//
//   - account and client address together: PairLimit failures refuse that
//     address for that account until the oldest leaves the window;
//   - client address alone: AddressLimit failures (over any accounts)
//     refuse that address for every account, likewise;
//   - account alone (from every address): from AccountSlowAfter failures
//     on, the account is being guessed at, and an address that has itself
//     failed for it recently must wait after its latest failure: BaseDelay,
//     doubling with each further failure of the account, at most MaxDelay.
//     An address with no recent failure for the account is never held
//     back by the account's count, so failures elsewhere cannot keep the
//     owner out.
//
// An attempt counts as a failure from the moment it is allowed (so
// concurrent attempts cannot outrun the count) until it ends otherwise:
// Succeeded forgets the pair's failures, Abandoned (an attempt that failed
// for a reason other than the secret, such as a database error) takes
// it back. It lives in memory: each process throttles on its own.
type Throttle struct {
	Window           time.Duration
	PairLimit        int
	AddressLimit     int
	AccountSlowAfter int
	BaseDelay        time.Duration
	MaxDelay         time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle: 5 failures per account and address and 20 per address in
// 15 minutes; from the account's 5th failure, failing addresses wait 1 s
// after their last failure, doubling to at most a minute.
func NewThrottle() *Throttle {
	return &Throttle{Window: 15 * time.Minute, PairLimit: 5, AddressLimit: 20,
		AccountSlowAfter: 5, BaseDelay: time.Second, MaxDelay: time.Minute,
		failures: map[string][]time.Time{}}
}

// Throttle rules, as Decision.Rule names them.
const (
	RulePair    = "account+address"
	RuleAddress = "address"
	RuleAccount = "account slow-down"
)

// maxThrottleKeys bounds the memory the throttle may hold.
const maxThrottleKeys = 100_000

// Decision is the throttle's answer to an attempt: Wait 0 lets it run;
// otherwise it is refused, and Wait says when the client may come back.
type Decision struct {
	Wait time.Duration
	// Rule names the rule that refused it.
	Rule string
}

// Attempt is a sign-in the throttle let run.
type Attempt struct {
	t             *Throttle
	at            time.Time
	account, addr string
}

func pairKey(account, addr string) string { return "pair:" + account + "\x00" + addr }

// keep is how many failures a key needs remembered.
func (t *Throttle) keep(key string) int {
	switch key[:5] {
	case "pair:":
		return t.PairLimit
	case "addr:":
		return t.AddressLimit
	}
	return t.AccountSlowAfter + 32 // enough to reach any delay cap
}

func (t *Throttle) recent(now time.Time, key string) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.Window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
	} else {
		t.failures[key] = fs
	}
	return fs
}

// blockedUntil is when a key with limit failures in the window may try again.
func (t *Throttle) blockedUntil(fs []time.Time, limit int) (time.Time, bool) {
	if limit <= 0 || len(fs) < limit {
		return time.Time{}, false
	}
	return fs[len(fs)-limit].Add(t.Window), true
}

// Decide says whether a sign-in to account from addr may run at now,
// without counting it.
func (t *Throttle) Decide(now time.Time, account, addr string) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.decide(now, account, addr)
}

func (t *Throttle) decide(now time.Time, account, addr string) Decision {
	var d Decision
	refuse := func(until time.Time, rule string) {
		if w := until.Sub(now); w > d.Wait {
			d = Decision{Wait: w, Rule: rule}
		}
	}
	pair := t.recent(now, pairKey(account, addr))
	if until, ok := t.blockedUntil(pair, t.PairLimit); ok {
		refuse(until, RulePair)
	}
	if until, ok := t.blockedUntil(t.recent(now, "addr:"+addr), t.AddressLimit); ok {
		refuse(until, RuleAddress)
	}
	if n := len(t.recent(now, "acct:"+account)); len(pair) > 0 && t.AccountSlowAfter > 0 && n >= t.AccountSlowAfter {
		delay := t.BaseDelay
		for i := t.AccountSlowAfter; i < n && delay < t.MaxDelay; i++ {
			delay *= 2
		}
		if delay > t.MaxDelay {
			delay = t.MaxDelay
		}
		refuse(pair[len(pair)-1].Add(delay), RuleAccount)
	}
	return d
}

// Begin decides an attempt and, when it may run, counts it as a failure
// until it ends otherwise (see Attempt).
func (t *Throttle) Begin(now time.Time, account, addr string) (Decision, *Attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.decide(now, account, addr); d.Wait > 0 {
		return d, nil
	}
	if len(t.failures) > maxThrottleKeys {
		for k := range t.failures {
			t.recent(now, k)
		}
	}
	for _, k := range []string{pairKey(account, addr), "addr:" + addr, "acct:" + account} {
		if len(t.failures) < maxThrottleKeys || t.failures[k] != nil {
			fs := append(t.recent(now, k), now)
			if len(fs) > t.keep(k) {
				fs = fs[len(fs)-t.keep(k):]
			}
			t.failures[k] = fs
		}
	}
	return Decision{}, &Attempt{t: t, at: now, account: account, addr: addr}
}

// Succeeded ends an attempt whose secret was right: the pair's failures
// are forgotten. The account's and the address's counts keep the others.
func (a *Attempt) Succeeded() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	delete(a.t.failures, pairKey(a.account, a.addr))
	a.t.unfail(a.at, "addr:"+a.addr)
	a.t.unfail(a.at, "acct:"+a.account)
}

// Abandoned ends an attempt that neither passed nor failed the secret
// check (the database failed): it no longer counts.
func (a *Attempt) Abandoned() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	for _, k := range []string{pairKey(a.account, a.addr), "addr:" + a.addr, "acct:" + a.account} {
		a.t.unfail(a.at, k)
	}
}

// unfail removes one failure recorded at at from key.
func (t *Throttle) unfail(at time.Time, key string) {
	fs := t.failures[key]
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Equal(at) {
			fs = append(fs[:i:i], fs[i+1:]...)
			break
		}
	}
	if len(fs) == 0 {
		delete(t.failures, key)
	} else {
		t.failures[key] = fs
	}
}
