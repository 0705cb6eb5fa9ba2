package usersvc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestPreconditions: a write with ifVersion runs only on that version; a
// mismatch is EPreconditionFailed and changes nothing. The target is at
// version 2 when the write runs.
func TestPreconditions(t *testing.T) {
	v := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name      string
		ifVersion *int64
		w         func(ctx context.Context, svc *usersvc.Service, id string, ifVersion *int64) (*usersvc.User, error)
		code      string
		version   int64
	}{
		{"replace, stale", v(1), replaceIf, usersvc.EPreconditionFailed, 2},
		{"replace, ahead", v(3), replaceIf, usersvc.EPreconditionFailed, 2},
		{"replace, current", v(2), replaceIf, "", 3},
		{"replace, none", nil, replaceIf, "", 3},
		{"JSON Patch, stale", v(1), patchIf, usersvc.EPreconditionFailed, 2},
		{"JSON Patch, current", v(2), patchIf, "", 3},
		{"merge patch, stale", v(1), mergeIf, usersvc.EPreconditionFailed, 2},
		{"merge patch, current", v(2), mergeIf, "", 3},
		{"a stale version is refused even when nothing would change", v(1), noopIf, usersvc.EPreconditionFailed, 2},
		{"a current version and nothing to change", v(2), noopIf, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				ctx := as(t, e, e.AliceToken)
				if _, err := e.Svc.PatchUser(ctx, e.Alice.ID, generic(t, `[{"op":"add","path":"/description","value":"v2"}]`), nil); err != nil {
					t.Fatal(err)
				}
				history := len(audit(t, e, e.Alice.ID))
				_, err := tc.w(ctx, e.Svc, e.Alice.ID, tc.ifVersion)
				if got := codeOf(err); got != tc.code {
					t.Fatalf("code %q (%v), want %q", got, err, tc.code)
				}
				after := stored(t, e, e.Alice.ID)
				if after.Version != tc.version {
					t.Fatalf("version %d, want %d", after.Version, tc.version)
				}
				if tc.code != "" {
					if d := *after.Description; d != "v2" {
						t.Fatalf("description %q after a refused write", d)
					}
					if n := len(audit(t, e, e.Alice.ID)); n != history {
						t.Fatalf("a refused write added %d history entries", n-history)
					}
				}
			})
		})
	}
}

func replaceIf(ctx context.Context, svc *usersvc.Service, id string, ifVersion *int64) (*usersvc.User, error) {
	return svc.ReplaceUser(ctx, id, map[string]any{"name": "Alice", "email": "alice@example.com", "country": "ES", "timeZone": "Europe/Madrid", "description": "v3"}, ifVersion)
}

func patchIf(ctx context.Context, svc *usersvc.Service, id string, ifVersion *int64) (*usersvc.User, error) {
	return svc.PatchUser(ctx, id, []any{map[string]any{"op": "replace", "path": "/description", "value": "v3"}}, ifVersion)
}

func mergeIf(ctx context.Context, svc *usersvc.Service, id string, ifVersion *int64) (*usersvc.User, error) {
	return svc.MergePatchUser(ctx, id, map[string]any{"description": "v3"}, ifVersion)
}

func noopIf(ctx context.Context, svc *usersvc.Service, id string, ifVersion *int64) (*usersvc.User, error) {
	return svc.PatchUser(ctx, id, []any{map[string]any{"op": "test", "path": "/description", "value": "v2"}}, ifVersion)
}

// TestWrongCurrentPasswordIsThrottled: a wrong currentPassword counts as a
// failed sign-in of the account from the caller's address: after five,
// the right one is refused too (and so is signing in from there), and the
// password never changed.
func TestWrongCurrentPasswordIsThrottled(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const pw = "alice passphrase"
		alice := as(t, e, e.AliceToken)
		if _, err := e.Svc.PatchUser(alice, e.Alice.ID, generic(t, `[{"op":"add","path":"/password","value":"`+pw+`"}]`), nil); err != nil {
			t.Fatal(err)
		}
		from := usersvc.WithClientAddr(alice, "192.0.2.1")
		change := generic(t, `[{"op":"replace","path":"/password","value":"stolen session's pick"}]`)
		for i := range 5 {
			_, err := e.Svc.PatchUser(usersvc.WithCurrentPassword(from, "a guess"), e.Alice.ID, change, nil)
			if got := codeOf(err); got != usersvc.EUnauthenticated {
				t.Fatalf("wrong current password %d: %v, want the sign-in failure", i+1, err)
			}
		}
		if _, err := e.Svc.PatchUser(usersvc.WithCurrentPassword(from, pw), e.Alice.ID, change, nil); codeOf(err) != usersvc.ERateLimited {
			t.Fatalf("the right current password after five wrong ones: %v, want rate limited", err)
		}
		if _, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.1"), "alice@example.com", pw); codeOf(err) != usersvc.ERateLimited {
			t.Fatalf("sign-in from the same address: %v, want rate limited", err)
		}
		if _, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.2"), "alice@example.com", pw); err != nil {
			t.Fatalf("the password must be unchanged (sign-in from elsewhere): %v", err)
		}
	})
}

// TestSignInThrottled: failed sign-ins through Service.Login are refused
// with ERateLimited and the RetryAfter the throttle computes; the right
// password works again once the window (15 min) has passed. Failure i
// happens at 12:00 plus i times every; the right password is tried at
// 12:00 plus at.
func TestSignInThrottled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures []string // "account@address" of each failure
		every    time.Duration
		try      string // then the right password, as account@address
		at       time.Duration
		code     string
		retry    int64 // RetryAfter, seconds
	}{
		{"four failures are not a block", rep("alice@192.0.2.1", 4), time.Minute, "alice@192.0.2.1", 4 * time.Minute, "", 0},
		{"five failures block the pair until the first leaves the window", rep("alice@192.0.2.1", 5), time.Minute, "alice@192.0.2.1", 5 * time.Minute, usersvc.ERateLimited, 600},
		{"the block is the pair's: another address signs in", rep("alice@192.0.2.1", 5), time.Minute, "alice@192.0.2.2", 5 * time.Minute, "", 0},
		{"twenty failures over many accounts block the address", many(20, "192.0.2.1"), 0, "alice@192.0.2.1", time.Minute, usersvc.ERateLimited, 840},
		{"nineteen do not", many(19, "192.0.2.1"), 0, "alice@192.0.2.1", time.Minute, "", 0},
		{"an account guessed from five addresses slows those addresses", spread(5), 0, "alice@192.0.2.13", 0, usersvc.ERateLimited, 1},
		{"but not an address that has not failed", spread(5), 0, "alice@192.0.2.99", 0, "", 0},
		{"twenty failures from one IPv6 /64, each from its own address, block the /64", rotating(20, "2001:db8:0:1::%x"), 0, "alice@2001:db8:0:1:ffff::1", time.Minute, usersvc.ERateLimited, 840},
		{"but not the next /64", rotating(20, "2001:db8:0:1::%x"), 0, "alice@2001:db8:0:2::1", time.Minute, "", 0},
		{"IPv4 addresses still count one by one", rotating(20, "192.0.2.%d"), 0, "alice@192.0.2.100", time.Minute, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				const pw = "alice passphrase"
				if _, err := e.Svc.PatchUser(as(t, e, e.AliceToken), e.Alice.ID, generic(t, `[{"op":"add","path":"/password","value":"`+pw+`"}]`), nil); err != nil {
					t.Fatal(err)
				}
				start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
				for i, f := range tc.failures {
					e.Clock.Set(start.Add(time.Duration(i) * tc.every))
					email, addr := split(f)
					_, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), addr), email, "wrong password")
					if got := codeOf(err); got != usersvc.EUnauthenticated {
						t.Fatalf("failure %d (%s): %v, want the sign-in failure", i+1, f, err)
					}
				}
				e.Clock.Set(start.Add(tc.at))
				email, addr := split(tc.try)
				from := usersvc.WithClientAddr(context.Background(), addr)
				sess, err := e.Svc.Login(from, email, pw)
				if got := codeOf(err); got != tc.code {
					t.Fatalf("code %q (%v), want %q", got, err, tc.code)
				}
				if tc.code == "" {
					if _, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(sess.Token)); err != nil {
						t.Fatalf("the session: %v", err)
					}
					return
				}
				if got := err.(*usersvc.Error).RetryAfter; got != tc.retry {
					t.Fatalf("RetryAfter %d, want %d", got, tc.retry)
				}
				// Once the window has passed, the right password works.
				e.Clock.Set(start.Add(tc.at + 15*time.Minute))
				if _, err := e.Svc.Login(from, email, pw); err != nil {
					t.Fatalf("after the window: %v", err)
				}
			})
		})
	}
}

// rep is n failures of the same account@address.
func rep(f string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f
	}
	return out
}

// many is n failures of n different unknown accounts from addr.
func many(n int, addr string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("nobody%d@%s", i, addr)
	}
	return out
}

// spread is n failures of alice, each from its own address 192.0.2.(10+i).
func spread(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("alice@192.0.2.%d", 10+i)
	}
	return out
}

// rotating is n failures of n different unknown accounts, failure i from
// the address format fills with i+1.
func rotating(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("nobody%d@"+format, i, i+1)
	}
	return out
}

// split turns "name@addr" into the account's email and the address.
func split(f string) (email, addr string) {
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == '@' {
			return f[:i] + "@example.com", f[i+1:]
		}
	}
	panic(f)
}

// TestDailyQuota: past their daily quota (the service default, or the
// user's own dailyQuota) a caller gets ERateLimited with RetryAfter to
// their local midnight, until their day turns. Alice lives in
// Europe/Madrid (UTC+2 in June), Bob in America/New_York (UTC-4).
func TestDailyQuota(t *testing.T) {
	for _, tc := range []struct {
		name       string
		who        string // "alice" or "bob"
		userQuota  string // admin's dailyQuota for them ("" none)
		defQuota   int64  // the service's DailyQuota
		at         time.Time
		allowed    int   // requests that pass before the refusal
		limit      int64 // Quota.Limit
		retryAfter int64 // seconds to local midnight at the refusal
		nextDay    time.Time
	}{
		{"the default quota, Madrid", "alice", "", 3, time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC), 3, 3, 2 * 3600, time.Date(2026, 6, 1, 22, 0, 0, 0, time.UTC)},
		{"the default quota, New York", "bob", "", 2, time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC), 2, 2, 8 * 3600, time.Date(2026, 6, 2, 4, 0, 0, 0, time.UTC)},
		{"a user's own quota overrides a lower default", "alice", "5", 2, time.Date(2026, 6, 1, 21, 30, 0, 0, time.UTC), 5, 5, 30 * 60, time.Date(2026, 6, 1, 22, 0, 1, 0, time.UTC)},
		{"a user's own quota overrides a higher default", "bob", "1", 10000, time.Date(2026, 6, 1, 3, 59, 0, 0, time.UTC), 1, 1, 60, time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				user, token := e.Alice, e.AliceToken
				if tc.who == "bob" {
					user, token = e.Bob, e.BobToken
				}
				if tc.userQuota != "" {
					if _, err := e.Svc.PatchUser(as(t, e, e.AdminToken), user.ID, generic(t, `[{"op":"add","path":"/dailyQuota","value":`+tc.userQuota+`}]`), nil); err != nil {
						t.Fatal(err)
					}
				}
				e.Svc.DailyQuota = tc.defQuota
				e.Clock.Set(tc.at) // a day of its own: nothing counted yet
				request := func() (*usersvc.Principal, error) {
					p, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(token))
					if err != nil {
						t.Fatalf("authenticate: %v", err)
					}
					return p, e.Svc.CheckQuota(p)
				}
				for i := 1; i <= tc.allowed; i++ {
					p, err := request()
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					if p.Quota.Limit != tc.limit || p.Quota.Remaining != tc.limit-int64(i) || p.Usage.Daily != int64(i) {
						t.Fatalf("request %d: quota %+v usage %+v", i, p.Quota, p.Usage)
					}
				}
				p, err := request()
				if got := codeOf(err); got != usersvc.ERateLimited {
					t.Fatalf("request %d: %v, want rate limited", tc.allowed+1, err)
				}
				if got := err.(*usersvc.Error).RetryAfter; got != tc.retryAfter {
					t.Fatalf("RetryAfter %d, want %d", got, tc.retryAfter)
				}
				if p.Usage.Daily != int64(tc.allowed+1) {
					t.Fatalf("the refused request counted %d, want %d", p.Usage.Daily, tc.allowed+1)
				}
				e.Clock.Set(tc.nextDay)
				if p, err := request(); err != nil || p.Usage.Daily != 1 {
					t.Fatalf("after local midnight: %v, usage %+v", err, p.Usage)
				}
			})
		})
	}
}

// TestSessionsAreBounded: a user keeps at most MaxSessionsPerUser live
// sign-in sessions (the oldest end when a new one starts), and a sign-in
// deletes tokens that expired over a day before.
func TestSessionsAreBounded(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const pw = "alice passphrase"
		if _, err := e.Svc.PatchUser(as(t, e, e.AliceToken), e.Alice.ID, generic(t, `[{"op":"add","path":"/password","value":"`+pw+`"}]`), nil); err != nil {
			t.Fatal(err)
		}
		sys := usersvc.SystemContext(context.Background())
		shortLived, err := e.Svc.CreateToken(sys, e.Bob.ID, "short", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		from := usersvc.WithClientAddr(context.Background(), "192.0.2.1")
		var sessions []string
		for range 50 + 2 {
			s, err := e.Svc.Login(from, "alice@example.com", pw)
			if err != nil {
				t.Fatal(err)
			}
			sessions = append(sessions, s.Token)
		}
		for i, s := range sessions {
			_, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(s))
			if live := err == nil; live != (i >= 2) {
				t.Errorf("session %d of %d: live %v (%v)", i+1, len(sessions), live, err)
			}
		}
		if usersvc.MaxSessionsPerUser != 50 {
			t.Fatalf("MaxSessionsPerUser is %d; this test says 50", usersvc.MaxSessionsPerUser)
		}
		// Bob's token expired an hour after it was made; a day later, the
		// next sign-in deletes its row.
		e.Clock.Advance(26 * time.Hour)
		if _, err := e.Svc.Login(from, "alice@example.com", pw); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.TokenByHash(context.Background(), usersvc.HashToken(shortLived)); usersvc.ErrorCode(err) != usersvc.ENotFound {
			t.Fatalf("the token expired a day ago: %v, want deleted", err)
		}
	})
}
