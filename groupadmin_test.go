package usersvc_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// The admin group's rules (groupadmin.go), on both databases. The admin
// group is "Admins"; the tests' groups are named in other cases to show
// the name matches case-insensitively.

func startAdminGroup(t *testing.T, db testenv.DB) *testenv.Env {
	e := testenv.Start(t, db)
	e.Svc.AdminGroup = "Admins"
	return e
}

// roles reads the stored role of each user.
func roles(t *testing.T, e *testenv.Env, ids ...string) []usersvc.Role {
	t.Helper()
	var out []usersvc.Role
	for _, id := range ids {
		out = append(out, stored(t, e, id).Role)
	}
	return out
}

const (
	admin = usersvc.RoleAdmin
	user  = usersvc.RoleUser
)

// TestAdminGroupRoles: every way in promotes, every way out demotes.
func TestAdminGroupRoles(t *testing.T) {
	type step func(t *testing.T, ctx context.Context, svc *usersvc.Service, g *usersvc.Group, alice, bob string) error
	modify := func(c usersvc.GroupChange) step {
		return func(t *testing.T, ctx context.Context, svc *usersvc.Service, g *usersvc.Group, alice, bob string) error {
			_, err := svc.ModifyGroup(ctx, g.ID, c, nil)
			return err
		}
	}
	const (
		promoted = "replace /role; add /groups/G"
		demoted  = "replace /role; remove /groups/G"
		renamed  = "replace /role; replace /groups/G"
		joined   = "add /groups/G"
	)
	for _, tc := range []struct {
		name  string
		group string // created with Alice in it
		step  func(alice, bob string) step
		want  []usersvc.Role // Alice's and Bob's roles after
		// Alice's and Bob's last history actions after, and their patches
		// (G for the group's id; "" not checked; after a modification's
		// replace when the clock moved).
		actions, ops []string
	}{
		{"create with a member", "ADMINS", func(a, b string) step { return modify(usersvc.GroupChange{}) },
			[]usersvc.Role{admin, user}, []string{"group.join", "token.create"}, []string{promoted, ""}},
		{"add", "admins", func(a, b string) step { return modify(usersvc.GroupChange{AddMembers: []string{b}}) },
			[]usersvc.Role{admin, admin}, []string{"group.join", "group.join"}, []string{promoted, promoted}},
		{"remove", "admins", func(a, b string) step { return modify(usersvc.GroupChange{RemoveMembers: []string{a}}) },
			[]usersvc.Role{user, user}, []string{"group.leave", "token.create"}, []string{demoted, ""}},
		{"replace the members", "admins", func(a, b string) step {
			return func(t *testing.T, ctx context.Context, svc *usersvc.Service, g *usersvc.Group, _, _ string) error {
				_, err := svc.ReplaceGroup(ctx, g.ID, usersvc.GroupInput{DisplayName: g.DisplayName, Members: []string{b}}, nil)
				return err
			}
		}, []usersvc.Role{user, admin}, []string{"group.leave", "group.join"}, []string{demoted, promoted}},
		{"rename away", "Admins", func(a, b string) step { return modify(usersvc.GroupChange{DisplayName: ptr("Former admins")}) },
			[]usersvc.Role{user, user}, []string{"group.rename", "token.create"}, []string{renamed, ""}},
		{"rename onto", "Drivers", func(a, b string) step { return modify(usersvc.GroupChange{DisplayName: ptr("aDMINS")}) },
			[]usersvc.Role{admin, user}, []string{"group.rename", "token.create"}, []string{renamed, ""}},
		{"delete", "Admins", func(a, b string) step {
			return func(t *testing.T, ctx context.Context, svc *usersvc.Service, g *usersvc.Group, _, _ string) error {
				return svc.DeleteGroup(ctx, g.ID, nil)
			}
		}, []usersvc.Role{user, user}, []string{"group.leave", "token.create"}, []string{demoted, ""}},
		{"another group changes no role", "Drivers", func(a, b string) step { return modify(usersvc.GroupChange{AddMembers: []string{b}}) },
			[]usersvc.Role{user, user}, []string{"group.join", "group.join"}, []string{joined, joined}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := startAdminGroup(t, db)
				ctx := as(t, e, e.AdminToken)
				g := mustGroup(t, e, tc.group, e.Alice.ID)
				if err := tc.step(e.Alice.ID, e.Bob.ID)(t, ctx, e.Svc, g, e.Alice.ID, e.Bob.ID); err != nil {
					t.Fatal(err)
				}
				if got := roles(t, e, e.Alice.ID, e.Bob.ID); !slices.Equal(got, tc.want) {
					t.Fatalf("roles %v, want %v", got, tc.want)
				}
				for i, id := range []string{e.Alice.ID, e.Bob.ID} {
					h := audit(t, e, id)
					if h[0].Action != tc.actions[i] {
						t.Fatalf("user %d's last action %q, want %q", i, h[0].Action, tc.actions[i])
					}
					// A role change moves modification too, when the clock did.
					got, want := strings.TrimPrefix(opsOf(h[0].Patch), "replace /modification; "), strings.ReplaceAll(tc.ops[i], "G", g.ID)
					if tc.ops[i] != "" && got != want {
						t.Fatalf("user %d's last entry %s, want %s", i, opsOf(h[0].Patch), want)
					}
				}
			})
		})
	}
}

// TestAdminGroupEntries: a promotion's and a demotion's entries carry the
// role's change; a demotion ends sign-in sessions; a member already an
// admin keeps their role on joining.
func TestAdminGroupEntries(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := startAdminGroup(t, db)
		ctx := as(t, e, e.AdminToken)
		victim, session := newVictim(t, e, "Victim") // an admin signed in
		if _, err := e.Svc.PatchUser(ctx, victim.ID, generic(t, `[{"op":"replace","path":"/role","value":"user"}]`), nil); err != nil {
			t.Fatal(err)
		}
		before := stored(t, e, victim.ID)
		g := mustGroup(t, e, "Admins", victim.ID, e.Admin.ID)
		h := audit(t, e, victim.ID)
		if h[0].Action != "group.join" || opsOf(h[0].Patch) != "replace /role; add /groups/"+g.ID || h[0].Patch[0]["value"] != "admin" {
			t.Fatalf("the promotion's entry: %s %s", h[0].Action, opsOf(h[0].Patch))
		}
		if after := stored(t, e, victim.ID); after.Role != admin || after.Version != before.Version+1 {
			t.Fatalf("promoted: role %s version %d (was %d)", after.Role, after.Version, before.Version)
		}
		if h := audit(t, e, e.Admin.ID); h[0].Action != "group.join" || opsOf(h[0].Patch) != "add /groups/"+g.ID {
			t.Fatalf("an admin joining: %s %s", h[0].Action, opsOf(h[0].Patch))
		}
		if _, err := auth(e.Svc, session); err != nil {
			t.Fatalf("a promotion ends no session: %v", err)
		}
		if _, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{RemoveMembers: []string{victim.ID}}, nil); err != nil {
			t.Fatal(err)
		}
		h = audit(t, e, victim.ID)
		if h[0].Action != "group.leave" || opsOf(h[0].Patch) != "replace /role; remove /groups/"+g.ID || h[0].Patch[0]["value"] != "user" {
			t.Fatalf("the demotion's entry: %s %s", h[0].Action, opsOf(h[0].Patch))
		}
		if _, err := auth(e.Svc, session); codeOf(err) != usersvc.EUnauthenticated {
			t.Fatalf("the session after the demotion: %v", err)
		}
	})
}

// TestAdminGroupOthersKeepTheirRole: an admin made so by a role write who
// was never a member keeps their role through every group write; with the
// admin group off, no group changes a role.
func TestAdminGroupOthersKeepTheirRole(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := startAdminGroup(t, db)
		ctx := as(t, e, e.AdminToken)
		if _, err := e.Svc.PatchUser(ctx, e.Bob.ID, generic(t, `[{"op":"replace","path":"/role","value":"admin"}]`), nil); err != nil {
			t.Fatal(err)
		}
		g := mustGroup(t, e, "Admins", e.Alice.ID)
		if err := e.Svc.DeleteGroup(ctx, g.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got := roles(t, e, e.Alice.ID, e.Bob.ID); !slices.Equal(got, []usersvc.Role{user, admin}) {
			t.Fatalf("roles %v", got)
		}
		e.Svc.AdminGroup = ""
		mustGroup(t, e, "Admins", e.Alice.ID)
		if got := roles(t, e, e.Alice.ID); got[0] != user {
			t.Fatalf("with the admin group off, Alice is %s", got[0])
		}
	})
}

// TestAdminGroupLastAdmin: a group write that would leave no active admin
// is refused whole, with the last-admin error; handing the group over in
// one write is allowed.
func TestAdminGroupLastAdmin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(ctx context.Context, e *testenv.Env, g *usersvc.Group) error
	}{
		{"remove", func(ctx context.Context, e *testenv.Env, g *usersvc.Group) error {
			_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{RemoveMembers: []string{e.Admin.ID}}, nil)
			return err
		}},
		{"remove all", func(ctx context.Context, e *testenv.Env, g *usersvc.Group) error {
			_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{RemoveAllMembers: true}, nil)
			return err
		}},
		{"rename", func(ctx context.Context, e *testenv.Env, g *usersvc.Group) error {
			_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{DisplayName: ptr("Not admins")}, nil)
			return err
		}},
		{"delete", func(ctx context.Context, e *testenv.Env, g *usersvc.Group) error {
			return e.Svc.DeleteGroup(ctx, g.ID, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := startAdminGroup(t, db)
				ctx := as(t, e, e.AdminToken)
				g := mustGroup(t, e, "Admins", e.Admin.ID, e.Alice.ID)
				// Alice was promoted by joining; make her inactive, so the
				// admin is the last active one.
				if _, err := e.Svc.PatchUser(ctx, e.Alice.ID, generic(t, `[{"op":"replace","path":"/disabled","value":true}]`), nil); err != nil {
					t.Fatal(err)
				}
				adminBefore, aliceBefore := stored(t, e, e.Admin.ID), stored(t, e, e.Alice.ID)
				histories := []int{len(audit(t, e, e.Admin.ID)), len(audit(t, e, e.Alice.ID)), len(audit(t, e, e.Bob.ID))}
				err := tc.write(ctx, e, g)
				if codeOf(err) != usersvc.EConflict || usersvc.ErrorMessage(err, "en") != lastAdminMessage {
					t.Fatalf("%v, want the last-admin error", err)
				}
				now := storedGroup(t, e, g.ID)
				if now.Version != g.Version || now.DisplayName != "Admins" || !slices.Equal(now.Members, g.Members) {
					t.Fatalf("the group moved: %+v", now)
				}
				if a, al := stored(t, e, e.Admin.ID), stored(t, e, e.Alice.ID); a.Version != adminBefore.Version || al.Version != aliceBefore.Version ||
					a.Role != admin || al.Role != admin || stored(t, e, e.Bob.ID).Role != user {
					t.Fatalf("users moved: admin %+v, Alice %+v", a, al)
				}
				for i, id := range []string{e.Admin.ID, e.Alice.ID, e.Bob.ID} {
					if n := len(audit(t, e, id)); n != histories[i] {
						t.Fatalf("user %d's history grew: %d -> %d", i, histories[i], n)
					}
				}
			})
		})
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := startAdminGroup(t, db)
		ctx := as(t, e, e.AdminToken)
		g := mustGroup(t, e, "Admins", e.Admin.ID)
		if _, err := e.Svc.ReplaceGroup(ctx, g.ID, usersvc.GroupInput{DisplayName: "Admins", Members: []string{e.Bob.ID}}, nil); err != nil {
			t.Fatalf("handing the admin group over: %v", err)
		}
		if got := roles(t, e, e.Admin.ID, e.Bob.ID); !slices.Equal(got, []usersvc.Role{user, admin}) {
			t.Fatalf("roles after the hand-over %v", got)
		}
	})
}
