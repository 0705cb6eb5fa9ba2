package graph_test

import (
	"fmt"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestObjectLevelMatrix runs every GraphQL operation on a target user as
// its owner, as another user, as an admin and with a deleted user's token.
func TestObjectLevelMatrix(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		deleted, deletedTok := e.NewUser(t, "Del", "gdel@example.com", "UTC", usersvc.RoleUser)
		if r := e.GraphQL(t, e.AdminToken, `mutation($id: ID!) { deleteUser(id: $id) { id } }`, map[string]any{"id": deleted.ID}); errCode(r) != "" {
			t.Fatal(string(r.Body))
		}
		ops := []struct {
			name, query  string
			vars         func(id, email string) map[string]any
			owner, admin string // expected codes ("" is success); other: NOT_FOUND; deleted token: HTTP 403
		}{
			{"user", `query($id: ID!) { user(id: $id) { id } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
			{"history", `query($id: ID!) { user(id: $id) { history { edges { node { action } } } } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
			{"updateUser", `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`,
				func(id, email string) map[string]any {
					return map[string]any{"id": id, "in": map[string]any{"name": "N", "email": email, "country": "ES", "timeZone": "UTC"}}
				}, "", ""},
			{"patchUser", `mutation($id: ID!) { patchUser(id: $id, patch: [{op: add, path: "/description", value: "x"}]) { id } }`,
				func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
			{"apiKeys", `query($id: ID) { apiKeys(userId: $id) { id } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
			{"createApiKey", `mutation($id: ID) { createApiKey(label: "l", userId: $id) { key } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
			{"revokeApiKey", `mutation($id: ID) { revokeApiKey(id: "999999", userId: $id) { id } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "NOT_FOUND", "NOT_FOUND"},
			{"restoreUser", `mutation($id: ID!) { restoreUser(id: $id) { id } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
			{"deleteUser", `mutation($id: ID!) { deleteUser(id: $id) { id } }`, func(id, _ string) map[string]any { return map[string]any{"id": id} }, "", ""},
		}
		n := 0
		for _, o := range ops {
			for _, who := range []string{"owner", "other", "admin", "deleted"} {
				n++
				t.Run(o.name+"/"+who, func(t *testing.T) {
					email := fmt.Sprintf("gm%d@example.com", n)
					target, tok := e.NewUser(t, "T", email, "UTC", usersvc.RoleUser)
					caller := map[string]string{"owner": tok, "other": e.BobToken, "admin": e.AdminToken, "deleted": deletedTok}[who]
					r := e.GraphQL(t, caller, o.query, o.vars(target.ID, email))
					if who == "deleted" {
						if r.Status != 403 {
							t.Fatalf("deleted user's token: HTTP %d %s", r.Status, r.Body)
						}
						return
					}
					want := map[string]string{"owner": o.owner, "other": "NOT_FOUND", "admin": o.admin}[who]
					if errCode(r) != want {
						t.Fatalf("code %q, want %q: %s", errCode(r), want, r.Body)
					}
				})
			}
		}
		// Admin-only operations, tried by a non-admin.
		if r := e.GraphQL(t, e.AliceToken, `mutation { createUser(input: {name: "X", email: "gx@example.com", country: "ES", timeZone: "UTC"}) { id } }`, nil); errCode(r) != "FORBIDDEN" {
			t.Fatalf("createUser by non-admin: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AliceToken, `mutation($id: ID!) { restoreUser(id: $id) { id } }`, map[string]any{"id": deleted.ID}); errCode(r) != "NOT_FOUND" {
			t.Fatalf("restoreUser by non-admin: %s", r.Body)
		}
	})
}
