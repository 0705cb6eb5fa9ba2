package usersvc_test

import (
	"context"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestAdminGroupLeaveEndsAccess: leaving the admin group ends a member's
// admin access at once in the process that made the change, and in
// another process on the same PostgreSQL database as soon as it has heard
// the change (as TestAccessEndsAtOnce for every other access-ending
// change; the 1 s bound on hearing is the heartbeat rule, pinned by
// TestCacheNeedsHeartbeats). A sign-in session ends; an operator token
// stays, as a plain user's.
func TestAdminGroupLeaveEndsAccess(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := startAdminGroup(t, db)
		checkers := []*usersvc.Service{e.Svc}
		if db.Name == "postgres" {
			startWatching(t, e.Svc) // entries live an hour here: only invalidation can end them
			p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
			p2.AdminGroup = e.Svc.AdminGroup
			startWatching(t, p2)
			checkers = append(checkers, p2)
		}
		sys := usersvc.SystemContext(context.Background())
		g := mustGroup(t, e, "Admins", e.Admin.ID)
		for i, checker := range checkers {
			victim, session := newVictim(t, e, "Victim")
			operator, err := e.Svc.CreateToken(sys, victim.ID, "operator", 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Svc.ModifyGroup(sys, g.ID, usersvc.GroupChange{AddMembers: []string{victim.ID}}, nil); err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{session, operator} {
				if p := cached(t, checker, tok); p.User.Role != usersvc.RoleAdmin {
					t.Fatalf("checker %d before leaving: role %s", i, p.User.Role)
				}
			}
			gen := usersvc.AuthGeneration(checker, victim.ID)
			if _, err := e.Svc.ModifyGroup(sys, g.ID, usersvc.GroupChange{RemoveMembers: []string{victim.ID}}, nil); err != nil {
				t.Fatal(err)
			}
			if checker != e.Svc {
				waitHeard(t, checker, victim.ID, gen)
			}
			if _, err := auth(checker, session); codeOf(err) != usersvc.EUnauthenticated {
				t.Fatalf("checker %d: the session after leaving: %v", i, err)
			}
			p, err := auth(checker, operator)
			if err != nil || p.User.Role != usersvc.RoleUser {
				t.Fatalf("checker %d: the operator token after leaving: %+v, %v", i, p, err)
			}
			if _, err := checker.Groups(usersvc.WithPrincipal(context.Background(), p), usersvc.GroupQuery{}); codeOf(err) != usersvc.EForbidden {
				t.Fatalf("checker %d: listing groups after leaving: %v", i, err)
			}
		}
	})
}
