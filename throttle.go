package usersvc

import (
	"context"
	"net/netip"
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
// it back.
//
// The failures live in Log, the database (the Store's FailureLog), so
// every process sharing it counts the same failures and N replicas do not
// give an attacker N times the attempts.
type Throttle struct {
	Window           time.Duration
	PairLimit        int
	AddressLimit     int
	AccountSlowAfter int
	BaseDelay        time.Duration
	MaxDelay         time.Duration
	// Log keeps the failures.
	Log FailureLog
}

// FailureLog keeps the throttle's failures, each a key (see the rules
// above) and a time.
type FailureLog interface {
	// BeginAttempt reads the failures of keys at or after since (oldest
	// first, one list per key) and runs decide on them; when decide says
	// so, it records one failure of every key at at. It is atomic with
	// respect to every other BeginAttempt sharing a key, in every process
	// the log serves.
	BeginAttempt(ctx context.Context, keys []string, since, at time.Time, decide func(recent [][]time.Time) bool) error
	// ForgetFailures drops every failure of key.
	ForgetFailures(ctx context.Context, key string) error
	// RemoveFailure takes back the failure of each key recorded at at.
	RemoveFailure(ctx context.Context, keys []string, at time.Time) error
}

// NewThrottle: 5 failures per account and address and 20 per address in
// 15 minutes; from the account's 5th failure, failing addresses wait 1 s
// after their last failure, doubling to at most a minute.
// The failures are kept in log.
func NewThrottle(log FailureLog) *Throttle {
	return &Throttle{Window: 15 * time.Minute, PairLimit: 5, AddressLimit: 20,
		AccountSlowAfter: 5, BaseDelay: time.Second, MaxDelay: time.Minute, Log: log}
}

// Throttle rules, as Decision.Rule names them.
const (
	RulePair    = "account+address"
	RuleAddress = "address"
	RuleAccount = "account slow-down"
)

// Decision is the throttle's answer to an attempt: Wait 0 lets it run;
// otherwise it is refused, and Wait says when the client may come back.
type Decision struct {
	Wait time.Duration
	// Rule names the rule that refused it.
	Rule string
}

// Attempt is a sign-in the throttle let run.
type Attempt struct {
	t    *Throttle
	at   time.Time
	keys []string // pair, address, account
}

// throttleKeys are an attempt's keys: pair, address, account.
func throttleKeys(account, addr string) []string {
	addr = addressBlock(addr)
	return []string{"pair:" + account + "\x1f" + addr, "addr:" + addr, "acct:" + account}
}

// addressBlock is the part of a client address the throttle counts by:
// an IPv4 address whole, an IPv6 address by its /64 (one subscriber's
// usual allocation: an attacker rotating through 2^64 addresses is one
// key, not 2^64 keys with rows each).
func addressBlock(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Unmap().Is4() {
		return addr
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

// blockedUntil is when a key with limit failures in the window may try again.
func (t *Throttle) blockedUntil(fs []time.Time, limit int) (time.Time, bool) {
	if limit <= 0 || len(fs) < limit {
		return time.Time{}, false
	}
	return fs[len(fs)-limit].Add(t.Window), true
}

// decide applies the rules to the recent failures of the pair, the
// address and the account.
func (t *Throttle) decide(now time.Time, recent [][]time.Time) Decision {
	pair, addr, acct := recent[0], recent[1], recent[2]
	var d Decision
	refuse := func(until time.Time, rule string) {
		if w := until.Sub(now); w > d.Wait {
			d = Decision{Wait: w, Rule: rule}
		}
	}
	if until, ok := t.blockedUntil(pair, t.PairLimit); ok {
		refuse(until, RulePair)
	}
	if until, ok := t.blockedUntil(addr, t.AddressLimit); ok {
		refuse(until, RuleAddress)
	}
	if n := len(acct); len(pair) > 0 && t.AccountSlowAfter > 0 && n >= t.AccountSlowAfter {
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

// Decide says whether a sign-in to account from addr may run at now,
// without counting it.
func (t *Throttle) Decide(ctx context.Context, now time.Time, account, addr string) (Decision, error) {
	var d Decision
	err := t.Log.BeginAttempt(ctx, throttleKeys(account, addr), now.Add(-t.Window), now, func(recent [][]time.Time) bool {
		d = t.decide(now, recent)
		return false
	})
	return d, err
}

// Begin decides an attempt and, when it may run, counts it as a failure
// until it ends otherwise (see Attempt).
func (t *Throttle) Begin(ctx context.Context, now time.Time, account, addr string) (Decision, *Attempt, error) {
	now = now.Truncate(time.Microsecond) // what the database keeps
	keys := throttleKeys(account, addr)
	var d Decision
	err := t.Log.BeginAttempt(ctx, keys, now.Add(-t.Window), now, func(recent [][]time.Time) bool {
		d = t.decide(now, recent)
		return d.Wait == 0
	})
	if err != nil || d.Wait > 0 {
		return d, nil, err
	}
	return d, &Attempt{t: t, at: now, keys: keys}, nil
}

// Succeeded ends an attempt whose secret was right: the pair's failures
// are forgotten. The account's and the address's counts keep the others.
func (a *Attempt) Succeeded(ctx context.Context) error {
	if err := a.t.Log.ForgetFailures(ctx, a.keys[0]); err != nil {
		return err
	}
	return a.t.Log.RemoveFailure(ctx, a.keys[1:], a.at)
}

// Abandoned ends an attempt that neither passed nor failed the secret
// check (the database failed): it no longer counts.
func (a *Attempt) Abandoned(ctx context.Context) error {
	return a.t.Log.RemoveFailure(ctx, a.keys, a.at)
}
