package usersvc_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/jsonpatch"
)

// accessChanges are the changes that end (or narrow) what a token may do,
// each made by an admin through svc, on a victim made by newVictim (an
// admin signed in with an API key). code is what a token check answered
// after the change must say: that error code, or "" for the role change,
// where the check passes and carries the new role.
var accessChanges = []accessChange{
	{"disable", patchOp(`[{"op":"replace","path":"/disabled","value":true}]`), usersvc.EForbidden},
	{"delete", func(ctx context.Context, svc *usersvc.Service, id string) error {
		_, err := svc.DeleteUser(ctx, id)
		return err
	}, usersvc.EUnauthenticated}, // the delete revoked the session
	{"password change", patchOp(`[{"op":"add","path":"/password","value":"a new password 1"}]`), usersvc.EUnauthenticated},
	{"expires in the past", patchOp(`[{"op":"replace","path":"/expires","value":"2020-01-01T00:00:00Z"}]`), usersvc.EForbidden},
	{"from in the future", patchOp(`[{"op":"replace","path":"/from","value":"2099-01-01T00:00:00Z"}]`), usersvc.EForbidden},
	{"role change", patchOp(`[{"op":"replace","path":"/role","value":"user"}]`), ""},
	{"API key revocation", func(ctx context.Context, svc *usersvc.Service, id string) error {
		keys, err := svc.APIKeys(ctx, id)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := svc.RevokeAPIKey(ctx, id, fmt.Sprint(k.ID)); err != nil {
				return err
			}
		}
		return nil
	}, usersvc.EUnauthenticated}, // the session exchanged for the key ended with it
}

type accessChange struct {
	name   string
	change func(ctx context.Context, svc *usersvc.Service, id string) error
	code   string
}

// right says whether a token check answered after the change is right.
func (c accessChange) right(p *usersvc.Principal, err error) bool {
	if c.code == "" {
		return err == nil && p.User.Role == usersvc.RoleUser
	}
	return err != nil && usersvc.ErrorCode(err) == c.code
}

func patchOp(patch string) func(ctx context.Context, svc *usersvc.Service, id string) error {
	return func(ctx context.Context, svc *usersvc.Service, id string) error {
		ops, err := jsonpatch.Parse([]byte(patch))
		if err != nil {
			return err
		}
		_, err = svc.PatchUser(ctx, id, ops, nil)
		return err
	}
}

func refused(p *usersvc.Principal, err error) bool {
	c := usersvc.ErrorCode(err)
	return c == usersvc.EUnauthenticated || c == usersvc.EForbidden
}

// newVictim makes an admin (so a role change narrows it) with a password
// and an API key, and signs it in with the key: the session token (the
// kind a password change, a delete and the key's revocation all revoke)
// has not been checked by any process yet.
func newVictim(t *testing.T, e *testenv.Env, name string) (*usersvc.User, string) {
	t.Helper()
	sys := usersvc.SystemContext(context.Background())
	pw := "the old password 1"
	email := fmt.Sprintf("victim%d@example.com", time.Now().UnixNano())
	u, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: name, Email: email, Country: "ES",
		TimeZone: "UTC", Role: usersvc.RoleAdmin, Password: &pw}.Document())
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := e.Svc.CreateAPIKey(sys, u.ID, "victim")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := e.Svc.LoginWithAPIKey(usersvc.WithClientAddr(context.Background(), "127.0.0.1"), email, key)
	if err != nil {
		t.Fatal(err)
	}
	return u, sess.Token
}

func auth(svc *usersvc.Service, token string) (*usersvc.Principal, error) {
	return svc.Authenticate(context.Background(), usersvc.Bearer(token))
}

// cached checks token on svc until svc serves it from its cache, and
// returns the last check's principal. A process caches only while its
// change-log follower is current (its last read under a second old),
// which a loaded machine can delay: bounded, 200 tries 25 ms apart.
// A test of what the cache does must start from a cached check, or it
// proves nothing.
func cached(t *testing.T, svc *usersvc.Service, token string) *usersvc.Principal {
	t.Helper()
	for try := 0; ; try++ {
		p, err := auth(svc, token)
		if err != nil {
			t.Fatalf("checking the token to cache it: %v", err)
		}
		if svc.AuthCached(token) {
			return p
		}
		if try == 200 {
			t.Fatal("the check was never cached (200 tries)")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestCacheFillRacesLocalChange forces the bad interleaving inside one
// process: a token check reads the user, the change commits and
// invalidates the cache, and only then does the check try to cache what
// it read. What it read must not be cached: the next check is right.
func TestCacheFillRacesLocalChange(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := usersvc.SystemContext(context.Background())
		for _, c := range accessChanges {
			t.Run(c.name, func(t *testing.T) {
				victim, token := newVictim(t, e, c.name)
				var once sync.Once
				usersvc.SetAuthBeforePut(e.Svc, func(owner *usersvc.User) {
					if owner.ID != victim.ID {
						return
					}
					once.Do(func() {
						if err := c.change(admin, e.Svc, victim.ID); err != nil {
							t.Errorf("change: %v", err)
						}
					})
				})
				defer usersvc.SetAuthBeforePut(e.Svc, nil)
				// The check that raced the change read the old state; it may
				// answer with it (it began before the change).
				if _, err := auth(e.Svc, token); err != nil {
					t.Fatalf("the racing check read the user before the change, so it passes: %v", err)
				}
				usersvc.SetAuthBeforePut(e.Svc, nil)
				for i := 0; i < 3; i++ {
					if p, err := auth(e.Svc, token); !c.right(p, err) {
						t.Fatalf("check %d after the change committed: principal %+v, err %v", i+1, p, err)
					}
				}
			})
		}
	})
}

// TestFirstUseTokensDuringDisable is the measured failure: hundreds of a
// user's fresh tokens are checked for the first time, concurrently, while
// an admin disables the user. Once the change is committed and heard, no
// process accepts any of them. Run with the change through the same
// process and through another one.
func TestFirstUseTokensDuringDisable(t *testing.T) {
	const tokens, workers = 300, 16
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		procs := map[string]*usersvc.Service{"same process": e.Svc}
		if db.Name == "postgres" {
			p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
			startWatching(t, p2)
			procs["other process"] = p2
		}
		for name, checker := range procs {
			t.Run(name, func(t *testing.T) {
				victim, _ := e.NewUser(t, "Victim", fmt.Sprintf("first-use-%d@example.com", time.Now().UnixNano()), "UTC", usersvc.RoleUser)
				sys := usersvc.SystemContext(context.Background())
				secrets := make([]string, tokens)
				for i := range secrets {
					s, err := e.Svc.CreateToken(sys, victim.ID, "t", 0)
					if err != nil {
						t.Fatal(err)
					}
					secrets[i] = s
				}
				gen := usersvc.AuthGeneration(checker, victim.ID)
				var next atomic.Int64
				var checked atomic.Int64
				var wg sync.WaitGroup
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1) - 1
							if i >= tokens {
								return
							}
							_, _ = auth(checker, secrets[i]) // before or during the change: either answer is right
							checked.Add(1)
						}
					}()
				}
				// Disable while checks are in flight.
				for checked.Load() < tokens/4 {
					time.Sleep(time.Millisecond)
				}
				if _, err := e.Svc.PatchUser(sys, victim.ID, []any{map[string]any{"op": "replace", "path": "/disabled", "value": true}}, nil); err != nil {
					t.Fatal(err)
				}
				wg.Wait()
				if checker != e.Svc {
					waitHeard(t, checker, victim.ID, gen)
				}
				for _, svc := range procs {
					accepted := 0
					for _, s := range secrets {
						if _, err := auth(svc, s); !refused(nil, err) {
							accepted++
						}
					}
					if accepted > 0 {
						t.Errorf("%d of %d tokens still accepted after the disable committed and was heard", accepted, tokens)
					}
				}
			})
		}
	})
}

// TestAccessEndsAtOnce: a token whose check is cached is refused (or, for
// the role change, carries the new role) by the very next check after
// each access-ending change: at once in the process that made the change,
// and in another process on the same PostgreSQL database as soon as that
// process has heard the change's notice (the README's 1 s bound is the
// heartbeat rule, pinned by TestAuthCacheRules and TestCacheNeedsHeartbeats).
func TestAccessEndsAtOnce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := usersvc.SystemContext(context.Background())
		checkers := []struct {
			name string
			svc  *usersvc.Service
		}{{"same process", e.Svc}}
		if db.Name == "postgres" {
			startWatching(t, e.Svc) // entries live an hour here: only invalidation can end them
			p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
			startWatching(t, p2)
			checkers = append(checkers, struct {
				name string
				svc  *usersvc.Service
			}{"other process", p2})
		}
		for _, checker := range checkers {
			for _, c := range accessChanges {
				t.Run(checker.name+"/"+c.name, func(t *testing.T) {
					victim, token := newVictim(t, e, c.name)
					if p := cached(t, checker.svc, token); p.User.Role != usersvc.RoleAdmin {
						t.Fatalf("before the change: role %s", p.User.Role)
					}
					gen := usersvc.AuthGeneration(checker.svc, victim.ID)
					if err := c.change(admin, e.Svc, victim.ID); err != nil {
						t.Fatalf("change: %v", err)
					}
					if checker.svc != e.Svc {
						waitHeard(t, checker.svc, victim.ID, gen)
					}
					if p, err := auth(checker.svc, token); !c.right(p, err) {
						t.Fatalf("after the change: principal %+v, err %v, want code %q", p, err, c.code)
					}
				})
			}
		}
	})
}
