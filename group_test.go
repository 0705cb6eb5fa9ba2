package usersvc_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// The group rules (group.go, groupwrite.go), on both databases.

func ptr[T any](v T) *T { return &v }

// mustGroup creates a group as the admin.
func mustGroup(t *testing.T, e *testenv.Env, name string, members ...string) *usersvc.Group {
	t.Helper()
	g, err := e.Svc.CreateGroup(as(t, e, e.AdminToken), usersvc.GroupInput{DisplayName: name, Members: members})
	if err != nil {
		t.Fatalf("create group %q: %v", name, err)
	}
	return g
}

// storedGroup reads a group straight from the store.
func storedGroup(t *testing.T, e *testenv.Env, id string) *usersvc.Group {
	t.Helper()
	g, err := e.Store.Group(context.Background(), id, false)
	if err != nil {
		t.Fatalf("stored group %s: %v", id, err)
	}
	return g
}

func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

func TestGroupCreateAndRead(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		g, err := e.Svc.CreateGroup(ctx, usersvc.GroupInput{DisplayName: "Drivers", ExternalID: ptr("ext-1"),
			Members: []string{e.Bob.ID, e.Alice.ID, e.Bob.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(g.ID, "grp-") || g.Version != 1 || !slices.Equal(g.Members, sorted(e.Alice.ID, e.Bob.ID)) {
			t.Fatalf("created %+v", g)
		}
		got, err := e.Svc.Group(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != "Drivers" || *got.ExternalID != "ext-1" || !slices.Equal(got.Members, g.Members) ||
			!got.Created.Equal(g.Created) || got.Version != 1 {
			t.Fatalf("read %+v, created %+v", got, g)
		}
		if _, err := e.Svc.Group(ctx, "grp-none"); codeOf(err) != usersvc.ENotFound {
			t.Fatalf("missing group: %v", err)
		}
		gs, err := e.Svc.UserGroups(as(t, e, e.AliceToken), e.Alice.ID)
		if err != nil || len(gs) != 1 || gs[0].ID != g.ID || gs[0].Members != nil {
			t.Fatalf("Alice's own groups (no members shown): %+v, %v", gs, err)
		}
		gs, err = e.Svc.UserGroups(ctx, e.Alice.ID)
		if err != nil || len(gs) != 1 || !slices.Equal(gs[0].Members, g.Members) {
			t.Fatalf("Alice's groups as the admin: %+v, %v", gs, err)
		}
		if _, err := e.Svc.UserGroups(as(t, e, e.AliceToken), e.Bob.ID); codeOf(err) != usersvc.ENotFound {
			t.Fatalf("Alice reading Bob's groups: %v", err)
		}
	})
}

// TestGroupAccess: only admins manage groups.
func TestGroupAccess(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		g := mustGroup(t, e, "Drivers", e.Alice.ID)
		ctx := as(t, e, e.AliceToken)
		for name, call := range map[string]func() error{
			"create": func() error { _, err := e.Svc.CreateGroup(ctx, usersvc.GroupInput{DisplayName: "Mine"}); return err },
			"read":   func() error { _, err := e.Svc.Group(ctx, g.ID); return err },
			"list":   func() error { _, err := e.Svc.Groups(ctx, usersvc.GroupQuery{}); return err },
			"replace": func() error {
				_, err := e.Svc.ReplaceGroup(ctx, g.ID, usersvc.GroupInput{DisplayName: "X"}, nil)
				return err
			},
			"modify": func() error {
				_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{AddMembers: []string{e.Bob.ID}}, nil)
				return err
			},
			"delete": func() error { return e.Svc.DeleteGroup(ctx, g.ID, nil) },
		} {
			if err := call(); codeOf(err) != usersvc.EForbidden {
				t.Errorf("%s by a user: %v, want forbidden", name, err)
			}
		}
		if now := storedGroup(t, e, g.ID); now.Version != 1 || !slices.Equal(now.Members, []string{e.Alice.ID}) {
			t.Fatalf("the group moved: %+v", now)
		}
	})
}

// TestGroupRulesRefuse: each refused write names what is wrong and changes
// nothing.
func TestGroupRulesRefuse(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		g := mustGroup(t, e, "Drivers", e.Alice.ID)
		mustGroup(t, e, "Ops")
		bobHistory := len(audit(t, e, e.Bob.ID))
		deleted, _ := e.NewUser(t, "Gone", "gone@example.com", "UTC", usersvc.RoleUser)
		if _, err := e.Svc.DeleteUser(ctx, deleted.ID); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name       string
			call       func() error
			code, text string
		}{
			{"create, a taken name in other case", func() error {
				_, err := e.Svc.CreateGroup(ctx, usersvc.GroupInput{DisplayName: "dRIVERS"})
				return err
			}, usersvc.EConflict, "A group with this displayName already exists."},
			{"rename onto a taken name", func() error {
				_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{DisplayName: ptr("OPS")}, nil)
				return err
			}, usersvc.EConflict, "A group with this displayName already exists."},
			{"no displayName", func() error {
				_, err := e.Svc.CreateGroup(ctx, usersvc.GroupInput{DisplayName: "  "})
				return err
			}, usersvc.EInvalid, `Field "displayName" is required.`},
			{"displayName too long", func() error {
				_, err := e.Svc.ReplaceGroup(ctx, g.ID, usersvc.GroupInput{DisplayName: strings.Repeat("x", 201)}, nil)
				return err
			}, usersvc.EInvalid, `Field "displayName" is too long (at most 200 characters).`},
			{"a member who is no user", func() error {
				_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{AddMembers: []string{e.Bob.ID, "usr-nobody"}}, nil)
				return err
			}, usersvc.EInvalid, `User "usr-nobody" does not exist or is deleted.`},
			{"a deleted member", func() error {
				_, err := e.Svc.ReplaceGroup(ctx, g.ID, usersvc.GroupInput{DisplayName: "Drivers", Members: []string{deleted.ID}}, nil)
				return err
			}, usersvc.EInvalid, fmt.Sprintf("User %q does not exist or is deleted.", deleted.ID)},
			{"a stale version", func() error {
				_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{AddMembers: []string{e.Bob.ID}}, ptr(int64(7)))
				return err
			}, usersvc.EPreconditionFailed, "Precondition Failed"},
			{"a stale version on delete", func() error {
				return e.Svc.DeleteGroup(ctx, g.ID, ptr(int64(2)))
			}, usersvc.EPreconditionFailed, "Precondition Failed"},
			{"a missing group", func() error {
				_, err := e.Svc.ModifyGroup(ctx, "grp-none", usersvc.GroupChange{AddMembers: []string{e.Bob.ID}}, nil)
				return err
			}, usersvc.ENotFound, "Group not found."},
			{"a page too large", func() error {
				_, err := e.Svc.Groups(ctx, usersvc.GroupQuery{Count: ptr(int64(101))})
				return err
			}, usersvc.EInvalid, "The count must be between 0 and 100."},
		} {
			err := tc.call()
			if codeOf(err) != tc.code || usersvc.ErrorMessage(err, "en") != tc.text {
				t.Errorf("%s: %v (%s), want %s: %s", tc.name, err, codeOf(err), tc.code, tc.text)
			}
		}
		if now := storedGroup(t, e, g.ID); now.Version != 1 || now.DisplayName != "Drivers" || !slices.Equal(now.Members, []string{e.Alice.ID}) {
			t.Fatalf("a refused write saved: %+v", now)
		}
		if n := len(audit(t, e, e.Bob.ID)); n != bobHistory {
			t.Fatalf("Bob's history has %d entries, was %d", n, bobHistory)
		}
	})
}

// TestGroupMembershipWrites: adds and removes are idempotent, versions move
// only on a change, ifVersion guards, and each join and leave is in the
// user's history with the group's id and name.
func TestGroupMembershipWrites(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		g := mustGroup(t, e, "Drivers", e.Alice.ID)
		steps := []struct {
			change  usersvc.GroupChange
			members []string
			version int64
		}{
			{usersvc.GroupChange{AddMembers: []string{e.Alice.ID}}, []string{e.Alice.ID}, 1},  // already a member: nothing
			{usersvc.GroupChange{RemoveMembers: []string{e.Bob.ID}}, []string{e.Alice.ID}, 1}, // not a member: nothing
			{usersvc.GroupChange{AddMembers: []string{e.Bob.ID}}, sorted(e.Alice.ID, e.Bob.ID), 2},
			{usersvc.GroupChange{RemoveMembers: []string{e.Alice.ID}, ExternalID: ptr("x")}, []string{e.Bob.ID}, 3},
			{usersvc.GroupChange{RemoveAllMembers: true, AddMembers: []string{e.Alice.ID}}, []string{e.Alice.ID}, 4},
		}
		for i, st := range steps {
			v := storedGroup(t, e, g.ID).Version
			got, err := e.Svc.ModifyGroup(ctx, g.ID, st.change, &v)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if !slices.Equal(got.Members, st.members) || got.Version != st.version {
				t.Fatalf("step %d: members %v version %d, want %v %d", i, got.Members, got.Version, st.members, st.version)
			}
			if now := storedGroup(t, e, g.ID); !slices.Equal(now.Members, st.members) || now.Version != st.version {
				t.Fatalf("step %d stored %+v", i, now)
			}
		}
		// Alice: joined (create), left, joined; Bob: joined, left.
		wantHistory := map[string][]string{
			e.Alice.ID: {"group.join add", "group.leave remove", "group.join add"},
			e.Bob.ID:   {"group.leave remove", "group.join add"},
		}
		for id, want := range wantHistory {
			var got []string
			for _, a := range audit(t, e, id) {
				if strings.HasPrefix(a.Action, "group.") {
					got = append(got, a.Action+" "+a.Patch[0]["op"].(string))
					v := a.Patch[0]["value"].(map[string]any)
					if a.Patch[0]["path"] != "/groups/"+g.ID || v["id"] != g.ID || v["displayName"] != "Drivers" || a.Actor != e.Admin.ID {
						t.Fatalf("entry %+v", a)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("history of %s: %v, want %v", id, got, want)
			}
		}
		// A rename is in every member's history; a delete makes them leave.
		if _, err := e.Svc.ReplaceGroup(ctx, g.ID, usersvc.GroupInput{DisplayName: "Riders", Members: []string{e.Alice.ID}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.Svc.DeleteGroup(ctx, g.ID, ptr(int64(5))); err != nil {
			t.Fatal(err)
		}
		h := audit(t, e, e.Alice.ID)
		if h[1].Action != "group.rename" || h[1].Patch[0]["value"].(map[string]any)["displayName"] != "Riders" ||
			h[0].Action != "group.leave" || h[0].Patch[0]["value"].(map[string]any)["displayName"] != "Riders" {
			t.Fatalf("Alice's latest entries: %+v, %+v", h[1], h[0])
		}
		if _, err := e.Svc.Group(ctx, g.ID); codeOf(err) != usersvc.ENotFound {
			t.Fatalf("deleted group read: %v", err)
		}
		if gs, err := e.Svc.UserGroups(ctx, e.Alice.ID); err != nil || len(gs) != 0 {
			t.Fatalf("Alice's groups after the delete: %v, %v", gs, err)
		}
	})
}

// TestGroupList: filters, offset pages and the total.
func TestGroupList(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		names := []string{"delta", "Alpha", "charlie", "Bravo", "echo"}
		ids := map[string]string{}
		for _, n := range names {
			g, err := e.Svc.CreateGroup(ctx, usersvc.GroupInput{DisplayName: n, ExternalID: ptr("x-" + strings.ToLower(n)), Members: []string{e.Bob.ID}})
			if err != nil {
				t.Fatal(err)
			}
			ids[n] = g.ID
		}
		for _, tc := range []struct {
			name  string
			q     usersvc.GroupQuery
			want  []string
			total int
		}{
			{"all", usersvc.GroupQuery{}, []string{"Alpha", "Bravo", "charlie", "delta", "echo"}, 5},
			{"second page", usersvc.GroupQuery{Offset: 2, Count: ptr(int64(2))}, []string{"charlie", "delta"}, 5},
			{"past the end", usersvc.GroupQuery{Offset: 9}, nil, 5},
			{"total only", usersvc.GroupQuery{Count: ptr(int64(0))}, nil, 5},
			{"displayName in another case", usersvc.GroupQuery{Filter: usersvc.GroupFilter{DisplayName: ptr("CHARLIE")}}, []string{"charlie"}, 1},
			{"externalId", usersvc.GroupQuery{Filter: usersvc.GroupFilter{ExternalID: ptr("x-bravo")}}, []string{"Bravo"}, 1},
			{"externalId is exact", usersvc.GroupQuery{Filter: usersvc.GroupFilter{ExternalID: ptr("X-BRAVO")}}, nil, 0},
			{"id", usersvc.GroupQuery{Filter: usersvc.GroupFilter{ID: ptr(ids["echo"])}}, []string{"echo"}, 1},
			{"no match", usersvc.GroupQuery{Filter: usersvc.GroupFilter{DisplayName: ptr("zulu")}}, nil, 0},
		} {
			page, err := e.Svc.Groups(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got []string
			for _, g := range page.Groups {
				got = append(got, g.DisplayName)
				if !slices.Equal(g.Members, []string{e.Bob.ID}) {
					t.Fatalf("%s: %s's members %v", tc.name, g.DisplayName, g.Members)
				}
			}
			if !slices.Equal(got, tc.want) || page.Total != tc.total {
				t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, got, page.Total, tc.want, tc.total)
			}
		}
	})
}

// TestGroupHidesDeletedUsers: a deleted user is in no group as any read
// shows it; a restore shows the membership again.
func TestGroupHidesDeletedUsers(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		g := mustGroup(t, e, "Drivers", e.Alice.ID, e.Bob.ID)
		if _, err := e.Svc.DeleteUser(ctx, e.Bob.ID); err != nil {
			t.Fatal(err)
		}
		check := func(want []string) {
			t.Helper()
			one, err := e.Svc.Group(ctx, g.ID)
			if err != nil || !slices.Equal(one.Members, want) {
				t.Fatalf("group: %v, %v; want %v", one, err, want)
			}
			page, err := e.Svc.Groups(ctx, usersvc.GroupQuery{})
			if err != nil || !slices.Equal(page.Groups[0].Members, want) {
				t.Fatalf("list: %v, want %v", page.Groups[0].Members, want)
			}
			of, err := e.Svc.UserGroups(ctx, e.Alice.ID)
			if err != nil || !slices.Equal(of[0].Members, want) {
				t.Fatalf("Alice's groups: %v, want %v", of[0].Members, want)
			}
		}
		check([]string{e.Alice.ID})
		if gs, err := e.Svc.UserGroups(ctx, e.Bob.ID); err != nil || len(gs) != 0 {
			t.Fatalf("deleted Bob's groups: %v, %v", gs, err)
		}
		// Removing a hidden member is a no-op; re-adding a deleted one is refused.
		if got, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{RemoveMembers: []string{e.Bob.ID}}, nil); err != nil || got.Version != 1 {
			t.Fatalf("removing deleted Bob: %+v, %v", got, err)
		}
		if _, err := e.Svc.RestoreUser(ctx, e.Bob.ID); err != nil {
			t.Fatal(err)
		}
		check(sorted(e.Alice.ID, e.Bob.ID))
	})
}

// TestGroupConcurrentMembers: concurrent adds to one group all land.
func TestGroupConcurrentMembers(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		g := mustGroup(t, e, "Drivers")
		var ids []string
		for i := range 8 {
			u, _ := e.NewUser(t, fmt.Sprint("U", i), fmt.Sprintf("u%d@example.com", i), "UTC", usersvc.RoleUser)
			ids = append(ids, u.ID)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.Svc.ModifyGroup(ctx, g.ID, usersvc.GroupChange{AddMembers: []string{id}}, nil)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		now := storedGroup(t, e, g.ID)
		if !slices.Equal(now.Members, sorted(ids...)) || now.Version != int64(1+len(ids)) {
			t.Fatalf("after %d concurrent adds: %v, version %d", len(ids), now.Members, now.Version)
		}
	})
}
