package usersvc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestConcurrentUpgradeBothSucceed: a sign-in checked against a hash that
// another sign-in with the same password upgrades meanwhile (argon2 to
// bcrypt; bcrypt 4 to 5) still succeeds, and the upgrade is kept.
func TestConcurrentUpgradeBothSucceed(t *testing.T) {
	const pw = "correct horse battery"
	for _, tc := range []struct{ name, hash string }{
		{"argon2 to bcrypt", argon2Hash(pw)},
		{"bcrypt 4 to 5", bcryptHash(t, pw, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				e.Svc.BcryptCost = 5
				importUser(t, e.Svc, "up-1", "up@example.com", tc.hash)
				hooked := usersvc.NewService(&lookupHook{Store: e.Store, after: func() {
					if _, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.8"), "up@example.com", pw); err != nil {
						t.Errorf("the other sign-in: %v", err)
					}
				}})
				hooked.Now, hooked.BcryptCost = e.Clock.Now, 5
				if _, err := hooked.Login(signInCtx(), "up@example.com", pw); err != nil {
					t.Fatalf("the sign-in that saw the old hash: %v", err)
				}
				u, err := e.Store.User(context.Background(), "up-1", false)
				if err != nil {
					t.Fatal(err)
				}
				if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || c != 5 {
					t.Fatalf("stored %.7s…: cost %d, %v; want the upgrade to bcrypt 5", u.PasswordHash, c, err)
				}
				d, err := e.Svc.Throttle.Decide(context.Background(), e.Clock.Now(), "up@example.com", "192.0.2.7")
				if err != nil || d.Wait != 0 {
					t.Fatalf("throttle after two successes: %+v, %v", d, err)
				}
			})
		})
	}
}

// retryHook is a Store whose first SaveUser loses the race: another write
// moves the user's version just before it.
type retryHook struct {
	usersvc.Store
	once   sync.Once
	before func()
}

func (h *retryHook) SaveUser(ctx context.Context, w *usersvc.UserSave) (bool, error) {
	if !w.Create {
		h.once.Do(h.before)
	}
	return h.Store.SaveUser(ctx, w)
}

// TestRetriedWriteHashesOnce: a password change whose first save loses
// the version race is saved by a retry that keeps the password it already
// compared and hashed: bcrypt runs once for the write.
func TestRetriedWriteHashesOnce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		hooked := usersvc.NewService(&retryHook{Store: e.Store, before: func() {
			if _, err := e.Svc.PatchUser(sys, e.Alice.ID, []any{map[string]any{"op": "replace", "path": "/name", "value": "Alicia"}}, nil); err != nil {
				t.Errorf("the racing write: %v", err)
			}
		}})
		hooked.Now, hooked.BcryptCost = e.Clock.Now, e.Svc.BcryptCost
		log := &hashLog{}
		usersvc.SetHashHook(hooked, log.hook)
		u, err := hooked.PatchUser(sys, e.Alice.ID, []any{map[string]any{"op": "replace", "path": "/password", "value": "a brand new password 1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "Alicia" || u.Version != e.Alice.Version+2 {
			t.Fatalf("saved %q version %d: the write did not retry on the racing one's result", u.Name, u.Version)
		}
		if ops := log.take(); count(ops, fmt.Sprintf("generate %d", e.Svc.BcryptCost)) != 1 {
			t.Fatalf("hashes %q, want one bcrypt generate for the write", ops)
		}
		if _, err := e.Svc.Login(signInCtx(), "alice@example.com", "a brand new password 1"); err != nil {
			t.Fatalf("the new password: %v", err)
		}
	})
}
