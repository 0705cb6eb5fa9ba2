package graph_test

import (
	"testing"

	"usersvc/internal/testenv"
)

// TestLastAdminConflict: how GraphQL answers the last-admin rule (the rule
// itself is TestLastActiveAdmin in the root package): CONFLICT with the
// rule's message, from patchUser, updateUser and deleteUser.
func TestLastAdminConflict(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const msg = "The last active administrator cannot be demoted, disabled, deleted or made inactive."
		for _, q := range []string{
			`mutation($id: ID!) { patchUser(id: $id, patch: [{op: add, path: "/expires", value: "2020-01-01T00:00:00Z"}]) { id } }`,
			`mutation($id: ID!) { updateUser(id: $id, input: {name: "Admin", email: "admin@example.com", country: "ES", timeZone: "UTC", role: USER}) { role } }`,
			`mutation($id: ID!) { deleteUser(id: $id) { id } }`,
		} {
			r := e.GraphQL(t, e.AdminToken, q, map[string]any{"id": e.Admin.ID})
			if r.Status != 200 || errCode(r) != "CONFLICT" || errMessage(r) != msg {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
}
