package graph_test

import (
	"testing"

	"usersvc/internal/testenv"
)

// TestLastAdminCannotBecomeInactive: through GraphQL too, the last active
// admin cannot set their own expires in the past or from in the future,
// and an expired admin is not the remaining one.
func TestLastAdminCannotBecomeInactive(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const pat = `mutation($id: ID!, $p: [PatchOperationInput!]!) { patchUser(id: $id, patch: $p) { id role expires from } }`
		op := func(path string, value any) map[string]any {
			return map[string]any{"op": "add", "path": path, "value": value}
		}
		const msg = "The last active administrator cannot be demoted, disabled, deleted or made inactive."
		for _, p := range []map[string]any{op("/expires", "2020-01-01T00:00:00Z"), op("/from", "2099-01-01T00:00:00Z")} {
			r := e.GraphQL(t, e.AdminToken, pat, map[string]any{"id": e.Admin.ID, "p": []any{p}})
			if errCode(r) != "CONFLICT" || errMessage(r) != msg {
				t.Fatalf("%v: %s", p, r.Body)
			}
		}
		r := e.GraphQL(t, e.AdminToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{op("/role", "admin"), op("/expires", "2026-01-01T00:00:00Z")}})
		if errCode(r) != "" {
			t.Fatalf("promoting an expired alice: %s", r.Body)
		}
		r = e.GraphQL(t, e.AdminToken, `mutation($id: ID!) { updateUser(id: $id, input: {name: "Admin", email: "admin@example.com", country: "ES", timeZone: "UTC", role: USER}) { role } }`, map[string]any{"id": e.Admin.ID})
		if errCode(r) != "CONFLICT" || errMessage(r) != msg {
			t.Fatalf("demoting with only an expired admin left: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, `mutation($id: ID!) { deleteUser(id: $id) { id } }`, map[string]any{"id": e.Admin.ID}); errCode(r) != "CONFLICT" {
			t.Fatalf("deleting with only an expired admin left: %s", r.Body)
		}
	})
}
