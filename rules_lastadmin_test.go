package usersvc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// lastAdminMessage is the rule's own wording (the README quotes it).
const lastAdminMessage = "The last active administrator cannot be demoted, disabled, deleted or made inactive."

// TestLastActiveAdmin: no write may leave no active admin (role admin, not
// deleted, not disabled, from ≤ now < expires). Admins who cannot act now
// do not count as the remaining one. The clock is 2026-06-01T12:00:00Z
// (plus a few milliseconds).
func TestLastActiveAdmin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alice string // admin's JSON Patch of Alice first ("" none)
		w     write  // the admin, on themselves
		code  string
	}{
		{"demote", "", patchW(`[{"op":"replace","path":"/role","value":"user"}]`), usersvc.EConflict},
		{"demote by replace", "", replaceW(`{"name":"Admin","email":"admin@example.com","country":"ES","timeZone":"UTC","role":"user"}`), usersvc.EConflict},
		{"disable", "", patchW(`[{"op":"replace","path":"/disabled","value":true}]`), usersvc.EConflict},
		{"delete", "", deleteW(), usersvc.EConflict},
		{"delete by merge patch is not a delete", "", mergeW(`{"deletedAt":"2026-01-01T00:00:00Z"}`), usersvc.EInvalid},
		{"expires in the past", "", patchW(`[{"op":"add","path":"/expires","value":"2020-01-01T00:00:00Z"}]`), usersvc.EConflict},
		{"expires now", "", patchW(`[{"op":"add","path":"/expires","value":"2026-06-01T12:00:00Z"}]`), usersvc.EConflict},
		{"from in the future", "", patchW(`[{"op":"add","path":"/from","value":"2099-01-01T00:00:00Z"}]`), usersvc.EConflict},
		{"from in the future while writing disabled false", "", patchW(`[{"op":"add","path":"/from","value":"2026-06-01T12:00:01Z"},{"op":"add","path":"/disabled","value":false}]`), usersvc.EConflict},
		{"expires in the past by replace", "", replaceW(`{"name":"Admin","email":"admin@example.com","country":"ES","timeZone":"UTC","expires":"2021-01-01T00:00:00Z"}`), usersvc.EConflict},
		{"expires in the future is accepted", "", patchW(`[{"op":"add","path":"/expires","value":"2099-01-01T00:00:00Z"}]`), ""},
		{"from in the past is accepted", "", patchW(`[{"op":"add","path":"/from","value":"2020-01-01T00:00:00Z"}]`), ""},
		{"a change that keeps the admin active is accepted", "", patchW(`[{"op":"add","path":"/description","value":"still here"}]`), ""},
		{"with a second active admin, demote", `[{"op":"replace","path":"/role","value":"admin"}]`,
			patchW(`[{"op":"replace","path":"/role","value":"user"}]`), ""},
		{"with a second active admin, disable", `[{"op":"replace","path":"/role","value":"admin"}]`,
			patchW(`[{"op":"replace","path":"/disabled","value":true}]`), ""},
		{"with a second active admin, delete", `[{"op":"replace","path":"/role","value":"admin"}]`,
			deleteW(), ""},
		{"with a second active admin, expire", `[{"op":"replace","path":"/role","value":"admin"}]`,
			patchW(`[{"op":"add","path":"/expires","value":"2020-01-01T00:00:00Z"}]`), ""},
		{"the other admin expired", `[{"op":"replace","path":"/role","value":"admin"},{"op":"add","path":"/expires","value":"2026-01-01T00:00:00Z"}]`,
			patchW(`[{"op":"replace","path":"/role","value":"user"}]`), usersvc.EConflict},
		{"the other admin not active yet", `[{"op":"replace","path":"/role","value":"admin"},{"op":"add","path":"/from","value":"2027-01-01T00:00:00Z"}]`,
			patchW(`[{"op":"replace","path":"/role","value":"user"}]`), usersvc.EConflict},
		{"the other admin disabled", `[{"op":"replace","path":"/role","value":"admin"},{"op":"add","path":"/disabled","value":true}]`,
			patchW(`[{"op":"replace","path":"/role","value":"user"}]`), usersvc.EConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				ctx := as(t, e, e.AdminToken)
				if tc.alice != "" {
					if _, err := patchW(tc.alice)(t, ctx, e.Svc, e.Alice.ID); err != nil {
						t.Fatalf("setting Alice up: %v", err)
					}
				}
				before := stored(t, e, e.Admin.ID)
				_, err := tc.w(t, ctx, e.Svc, e.Admin.ID)
				if got := codeOf(err); got != tc.code {
					t.Fatalf("code %q (%v), want %q", got, err, tc.code)
				}
				after := stored(t, e, e.Admin.ID)
				if tc.code != "" && after.Version != before.Version {
					t.Fatalf("a refused write saved: version %d -> %d", before.Version, after.Version)
				}
				if tc.code == usersvc.EConflict && usersvc.ErrorMessage(err, "en") != lastAdminMessage {
					t.Fatalf("message %q", usersvc.ErrorMessage(err, "en"))
				}
			})
		})
	}
}

// TestLastAdminAloneLater: an admin may let their own account expire now
// while another admin is active; once it has, that other admin is the
// last one and may not make themselves inactive.
func TestLastAdminAloneLater(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		if _, err := patchW(`[{"op":"replace","path":"/role","value":"admin"}]`)(t, ctx, e.Svc, e.Alice.ID); err != nil {
			t.Fatal(err)
		}
		now := usersvc.FormatTime(e.Clock.Now())
		if _, err := patchW(`[{"op":"add","path":"/expires","value":"`+now+`"}]`)(t, ctx, e.Svc, e.Admin.ID); err != nil {
			t.Fatalf("expiring with another active admin: %v", err)
		}
		e.Clock.Advance(time.Hour)
		_, err := patchW(`[{"op":"add","path":"/from","value":"2099-01-01T00:00:00Z"}]`)(t, as(t, e, e.AliceToken), e.Svc, e.Alice.ID)
		if codeOf(err) != usersvc.EConflict {
			t.Fatalf("Alice postpones herself as the last admin: %v, want conflict", err)
		}
	})
}

// TestLastAdminTheDeletedOtherDoesNotCount: a soft-deleted admin is not the
// remaining admin either.
func TestLastAdminTheDeletedOtherDoesNotCount(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		if _, err := patchW(`[{"op":"replace","path":"/role","value":"admin"}]`)(t, ctx, e.Svc, e.Alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.DeleteUser(ctx, e.Alice.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.DeleteUser(ctx, e.Admin.ID); codeOf(err) != usersvc.EConflict {
			t.Fatalf("deleting the admin with only a deleted one left: %v, want conflict", err)
		}
	})
}

// TestTwoAdminsDemotingEachOther: two admins demote each other at the same
// time; at most one succeeds, and an active admin remains.
func TestTwoAdminsDemotingEachOther(t *testing.T) { demoteEachOther(t, false) }

// TestTwoAdminsDemotingEachOtherConflict: the demotion that loses gets
// the last-admin conflict (409). On PostgreSQL each transaction locks its
// target's row, then CountActiveAdmins locks the other admins' rows in the
// opposite order: PostgreSQL breaks the deadlock by aborting one (40P01),
// and Store.InTx runs that one again, which then sees the other's
// demotion. (It answered 500 before InTx retried.)
func TestTwoAdminsDemotingEachOtherConflict(t *testing.T) { demoteEachOther(t, true) }

// demoteEachOther races two mutual demotions five times; codes also
// requires each refusal to be the last-admin conflict.
func demoteEachOther(t *testing.T, codes bool) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		demote := `[{"op":"replace","path":"/role","value":"user"}]`
		for round := 0; round < 5; round++ {
			for _, id := range []string{e.Admin.ID, e.Alice.ID} {
				if _, err := patchW(`[{"op":"replace","path":"/role","value":"admin"}]`)(t, sys, e.Svc, id); err != nil {
					t.Fatal(err)
				}
			}
			adminCtx, aliceCtx := as(t, e, e.AdminToken), as(t, e, e.AliceToken)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 2)
			for i, c := range []struct {
				ctx    context.Context
				target string
			}{{adminCtx, e.Alice.ID}, {aliceCtx, e.Admin.ID}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = e.Svc.PatchUser(c.ctx, c.target, generic(t, demote), nil)
				}()
			}
			close(start)
			wg.Wait()
			succeeded := 0
			for _, err := range errs {
				if err == nil {
					succeeded++
				}
			}
			if succeeded > 1 {
				t.Fatalf("round %d: both demotions succeeded", round)
			}
			admins := 0
			for _, id := range []string{e.Admin.ID, e.Alice.ID} {
				if stored(t, e, id).Role == usersvc.RoleAdmin {
					admins++
				}
			}
			if admins != 1+1-succeeded {
				t.Fatalf("round %d: %d admins stored after %d demotion(s) succeeded", round, admins, succeeded)
			}
			if admins == 0 {
				t.Fatalf("round %d: no admin left", round)
			}
			for i, err := range errs {
				if c := codeOf(err); codes && c != "" && c != usersvc.EConflict {
					t.Errorf("round %d, demotion %d: %v (cause %v), want success or the last-admin conflict", round, i, err, errors.Unwrap(err))
				}
			}
		}
	})
}
