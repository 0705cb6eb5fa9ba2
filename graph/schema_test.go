package graph_test

import (
	"fmt"
	"testing"

	"usersvc/internal/testenv"
)

// TestServedSchema: the server serves schema.graphql and nothing else. The
// @defer directive that gqlparser declares is not served (no transport
// delivers deferred fragments), so a query using it is refused.
func TestServedSchema(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		r := e.GraphQL(t, e.AliceToken, `{ __schema { directives { name } } }`, nil)
		var names []string
		for _, d := range data(t, r, "__schema")["directives"].([]any) {
			names = append(names, d.(map[string]any)["name"].(string))
		}
		for _, n := range names {
			if n == "defer" {
				t.Fatalf("@defer is served: %v", names)
			}
		}
		if r := e.GraphQL(t, e.AliceToken, `{ me { id ... @defer { email } } }`, nil); errCode(r) != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("@defer accepted: %s", r.Body)
		}
		r = e.GraphQL(t, e.AliceToken, `{ __type(name: "Time") { specifiedByURL } }`, nil)
		if got := data(t, r, "__type")["specifiedByURL"]; got != "https://www.rfc-editor.org/rfc/rfc3339" {
			t.Fatalf("Time specifiedByURL %v", got)
		}
	})
}

// TestRoleEnum: GraphQL spells roles USER and ADMIN, in answers, filters
// and inputs; REST and the patched document keep user and admin. Enum
// values are case-sensitive, variables included.
func TestRoleEnum(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		count := `query($r: Role) { users(where: {role: $r}) { totalCount edges { node { email role } } } }`
		r := e.GraphQL(t, e.AdminToken, count, map[string]any{"r": "ADMIN"})
		c := data(t, r, "users")
		if fmt.Sprint(c["totalCount"]) != "1" || c["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)["role"] != "ADMIN" {
			t.Fatalf("ADMIN filter: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, `{ users(where: {role: USER}) { totalCount } }`, nil); fmt.Sprint(data(t, r, "users")["totalCount"]) != "2" {
			t.Fatalf("USER filter: %s", r.Body)
		}
		// gqlparser passes "admin" and "Admin" as variables; the Role
		// unmarshaller refuses them (before, they filtered on no role).
		for bad, code := range map[string]string{"admin": "INVALID", "Admin": "INVALID", "ROOT": "GRAPHQL_VALIDATION_FAILED"} {
			if r := e.GraphQL(t, e.AdminToken, count, map[string]any{"r": bad}); errCode(r) != code || r.JSON["data"] != nil ||
				errMessage(r) != bad+" is not a valid Role" {
				t.Fatalf("role %q: %s", bad, r.Body)
			}
		}
		create := `mutation($in: CreateUserInput!) { createUser(input: $in) { id role } }`
		in := map[string]any{"name": "Ops", "email": "ops@example.com", "country": "ES", "timeZone": "UTC", "role": "admin"}
		if r := e.GraphQL(t, e.AdminToken, create, map[string]any{"in": in}); errCode(r) != "INVALID" || errMessage(r) != "admin is not a valid Role" {
			t.Fatalf("lower-case role in an input: %s", r.Body)
		}
		in["role"] = "ADMIN"
		r = e.GraphQL(t, e.AdminToken, create, map[string]any{"in": in})
		u := data(t, r, "createUser")
		if u["role"] != "ADMIN" {
			t.Fatalf("created: %s", r.Body)
		}
		if rest := e.Do(t, "GET", "/api/users/"+u["id"].(string), e.AdminToken, ""); rest.JSON["role"] != "admin" {
			t.Fatalf("REST role: %s", rest.Body)
		}
		patch := `mutation($id: ID!) { patchUser(id: $id, patch: [{op: replace, path: "/role", value: "user"}]) { role } }`
		if r := e.GraphQL(t, e.AdminToken, patch, map[string]any{"id": u["id"]}); data(t, r, "patchUser")["role"] != "USER" {
			t.Fatalf("patched role: %s", r.Body)
		}
	})
}
