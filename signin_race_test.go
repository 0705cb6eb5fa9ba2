package usersvc_test

import (
	"context"
	"sync"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// lookupHook is a Store that runs a function right after a sign-in has
// looked the user up: the secret is then checked against what was read,
// with no lock held, while the function changes the user.
type lookupHook struct {
	usersvc.Store
	once  sync.Once
	after func()
}

func (h *lookupHook) UserBySignInKey(ctx context.Context, key string) (*usersvc.User, error) {
	u, err := h.Store.UserBySignInKey(ctx, key)
	h.once.Do(h.after)
	return u, err
}

// TestSignInRacingAChangeIssuesNothing: a sign-in whose secret was checked
// against the state before a password change (or a delete) that commits
// meanwhile issues no session: the change revoked every session, and this
// one must not outlive it.
func TestSignInRacingAChangeIssuesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change []any
	}{
		{"password change", []any{map[string]any{"op": "replace", "path": "/password", "value": "the new password 1"}}},
		{"disable", []any{map[string]any{"op": "replace", "path": "/disabled", "value": true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				sys := usersvc.SystemContext(context.Background())
				pw := "the old password 1"
				u, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: "R", Email: "race@example.com", Country: "ES", TimeZone: "UTC", Password: &pw}.Document())
				if err != nil {
					t.Fatal(err)
				}
				hooked := usersvc.NewService(&lookupHook{Store: e.Store, after: func() {
					if _, err := e.Svc.PatchUser(sys, u.ID, tc.change, nil); err != nil {
						t.Errorf("the change: %v", err)
					}
				}})
				hooked.Now, hooked.BcryptCost = e.Clock.Now, e.Svc.BcryptCost
				sess, err := hooked.Login(usersvc.WithClientAddr(context.Background(), "127.0.0.1"), "race@example.com", pw)
				if err == nil {
					_, authErr := e.Svc.Authenticate(context.Background(), usersvc.Bearer(sess.Token))
					t.Fatalf("a session was issued against the old state (it authenticates: %v)", authErr == nil)
				}
				if usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
					t.Fatalf("err = %v, want the sign-in failure", err)
				}
			})
		})
	}
}
