package server_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"usersvc/internal/testenv"
)

// The authorization matrix: every REST route (from api/openapi.json) and
// every GraphQL Query, Mutation and Subscription field (from
// schema.graphql), each run against a fresh target user as
//
//   - owner:   the target's own token,
//   - other:   another (non-admin) user's token,
//   - admin:   an admin's token,
//   - deleted: a soft-deleted user's token,
//
// through the whole handler, with the expected outcome written in each row.
// A route or field without a row fails the test. Whatever is refused
// leaves the target as it was.

// callers are the matrix's columns, in the order rows list their outcomes.
var callers = [4]string{"owner", "other", "admin", "deleted"}

// setup says what the target has before the call.
type setup struct {
	password bool // a password, "target passphrase"
	apiKey   bool // one API key ({key} and {keyId} in paths and bodies)
	deleted  bool // soft-deleted by an admin
	group    bool // a member of a group of their own ({groupId})
}

// restRow is one REST route, as openapi.json spells it, and the expected
// HTTP status for each caller.
type restRow struct {
	route string // "METHOD /path" as in openapi.json
	path  string // {id} is the target's id, {keyId} its API key's
	body  string // {email} is the target's email, {n} a fresh number, {key} its API key
	ctype string
	setup setup
	want  [4]int // owner, other, admin, deleted
}

var restMatrix = []restRow{
	{route: "GET /api/users", path: "/api/users", want: [4]int{200, 200, 200, 403}},
	{route: "POST /api/users", path: "/api/users", body: `{"name":"N","email":"new{n}@example.com","country":"ES","timeZone":"UTC"}`, ctype: "application/json",
		want: [4]int{403, 403, 201, 403}},
	{route: "GET /api/users/countries", path: "/api/users/countries", want: [4]int{200, 200, 200, 403}},
	{route: "GET /api/users/timeZones", path: "/api/users/timeZones", want: [4]int{200, 200, 200, 403}},
	{route: "GET /api/users/{userId}", path: "/api/users/{id}", want: [4]int{200, 404, 200, 403}},
	{route: "GET /api/users/{userId}", path: "/api/users/{id}", setup: setup{deleted: true}, want: [4]int{403, 404, 200, 403}},
	{route: "PUT /api/users/{userId}", path: "/api/users/{id}", body: `{"name":"T2","email":"{email}","country":"ES","timeZone":"UTC"}`, ctype: "application/json",
		want: [4]int{200, 404, 200, 403}},
	{route: "PATCH /api/users/{userId}", path: "/api/users/{id}", body: `[{"op":"add","path":"/description","value":"x"}]`, ctype: "application/json-patch+json",
		want: [4]int{200, 404, 200, 403}},
	{route: "PATCH /api/users/{userId}", path: "/api/users/{id}", body: `{"description":"y"}`, ctype: "application/merge-patch+json",
		want: [4]int{200, 404, 200, 403}},
	{route: "PATCH /api/users/{userId}", path: "/api/users/{id}", body: `{"tags":{"a":"b"}}`, ctype: "application/merge-patch+json",
		want: [4]int{403, 404, 200, 403}},
	{route: "DELETE /api/users/{userId}", path: "/api/users/{id}", want: [4]int{200, 404, 200, 403}},
	{route: "POST /api/users/{userId}/restore", path: "/api/users/{id}/restore", setup: setup{deleted: true}, want: [4]int{403, 404, 200, 403}},
	{route: "POST /api/users/{userId}/restore", path: "/api/users/{id}/restore", want: [4]int{200, 404, 200, 403}}, // a live user: no change
	{route: "GET /api/users/{userId}/history", path: "/api/users/{id}/history", want: [4]int{200, 404, 200, 403}},
	{route: "GET /api/users/{userId}/apiKeys", path: "/api/users/{id}/apiKeys", want: [4]int{200, 404, 200, 403}},
	{route: "POST /api/users/{userId}/apiKeys", path: "/api/users/{id}/apiKeys", body: `{"label":"l"}`, ctype: "application/json",
		want: [4]int{201, 404, 201, 403}},
	{route: "DELETE /api/users/{userId}/apiKeys/{keyId}", path: "/api/users/{id}/apiKeys/{keyId}", setup: setup{apiKey: true},
		want: [4]int{200, 404, 200, 403}},
	{route: "DELETE /api/users/{userId}/apiKeys/{keyId}", path: "/api/users/{id}/apiKeys/999999", want: [4]int{404, 404, 404, 403}}, // no such key
	// Moving users in and out: admins only (a job of no one's is 404 to an admin).
	{route: "POST /api/users/import", path: "/api/users/import", body: `{"name":"N","email":"imp{n}@example.com","country":"ES","timeZone":"UTC"}`, ctype: "application/x-ndjson",
		want: [4]int{403, 403, 202, 403}},
	{route: "GET /api/users/import/{jobId}", path: "/api/users/import/imp-none", want: [4]int{403, 403, 404, 403}},
	{route: "DELETE /api/users/import/{jobId}", path: "/api/users/import/imp-none", want: [4]int{403, 403, 404, 403}},
	{route: "GET /api/users/import/{jobId}/errors", path: "/api/users/import/imp-none/errors", want: [4]int{403, 403, 404, 403}},
	{route: "GET /api/users/export", path: "/api/users/export", want: [4]int{403, 403, 200, 403}},
	// Sign-in needs no token and ignores one: the target's own credentials work whoever sends them.
	{route: "POST /api/Auth/Token", path: "/api/Auth/Token", body: `{"userName":"{email}","password":"target passphrase"}`, ctype: "application/json",
		setup: setup{password: true}, want: [4]int{200, 200, 200, 200}},
	{route: "POST /api/Auth/Token", path: "/api/Auth/Token", body: `{"userName":"{email}","apiKey":"{key}"}`, ctype: "application/json",
		setup: setup{apiKey: true}, want: [4]int{200, 200, 200, 200}},
	{route: "POST /api/Auth/Token", path: "/api/Auth/Token", body: `{"userName":"{email}","password":"target passphrase"}`, ctype: "application/json",
		setup: setup{password: true, deleted: true}, want: [4]int{401, 401, 401, 401}},
	{route: "GET /api/openapi.json", path: "/api/openapi.json", want: [4]int{200, 200, 200, 200}},
	{route: "GET /healthz", path: "/healthz", want: [4]int{200, 200, 200, 200}},
	{route: "GET /readyz", path: "/readyz", want: [4]int{200, 200, 200, 200}},
}

// gqlRow is one GraphQL field ("Query.user") and the expected outcome for
// each caller: "<HTTP status> <extensions.code>", or "<status> ok" when
// the field answers without an error. Authentication runs before
// GraphQL, so a deleted user's token is HTTP 403.
type gqlRow struct {
	field string
	query string // $id is the target's id; {email}, {n}, {key}, {keyId} as for REST
	setup setup
	want  [4]string // owner, other, admin, deleted
}

var gqlMatrix = []gqlRow{
	{field: "Query.user", query: `query($id: ID!) { user(id: $id) { id } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.me", query: `{ me { id } }`,
		want: [4]string{"200 ok", "200 ok", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.users", query: `{ users { totalCount } }`,
		want: [4]string{"200 ok", "200 ok", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.countries", query: `{ countries { code } }`,
		want: [4]string{"200 ok", "200 ok", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.timeZones", query: `{ timeZones }`,
		want: [4]string{"200 ok", "200 ok", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.apiKeys", query: `query($id: ID) { apiKeys(userId: $id) { id } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "User.history", query: `query($id: ID!) { user(id: $id) { history { edges { node { action } } } } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	// Groups: admins only; a user reads their own groups with themselves.
	{field: "User.groups", query: `query($id: ID!) { user(id: $id) { groups { id memberIds } } }`, setup: setup{group: true},
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.group", query: `{ group(id: "{groupId}") { id } }`, setup: setup{group: true},
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Query.groups", query: `{ groups { totalCount } }`,
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.createGroup", query: `mutation($id: ID!) { createGroup(input: {displayName: "new {n}", memberIds: [$id]}) { id } }`,
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.updateGroup", query: `mutation { updateGroup(id: "{groupId}", displayName: "renamed {n}") { id } }`, setup: setup{group: true},
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.addGroupMembers", query: `mutation($id: ID!) { addGroupMembers(id: "{groupId}", userIds: [$id]) { id } }`, setup: setup{group: true},
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.removeGroupMembers", query: `mutation($id: ID!) { removeGroupMembers(id: "{groupId}", userIds: [$id]) { id } }`, setup: setup{group: true},
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.deleteGroup", query: `mutation { deleteGroup(id: "{groupId}") }`, setup: setup{group: true},
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.updateUser", query: `mutation($id: ID!) { updateUser(id: $id, input: {name: "T2", email: "{email}", country: "ES", timeZone: "UTC"}) { id } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.updateUser", query: `mutation($id: ID!) { updateUser(id: $id, input: {name: "T", email: "{email}", country: "ES", timeZone: "UTC", role: ADMIN}) { id } }`,
		want: [4]string{"200 FORBIDDEN", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.patchUser", query: `mutation($id: ID!) { patchUser(id: $id, patch: [{op: add, path: "/description", value: "x"}]) { id } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.patchUser", query: `mutation($id: ID!) { patchUser(id: $id, patch: [{op: add, path: "/tags/a", value: "b"}]) { id } }`,
		want: [4]string{"200 FORBIDDEN", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.createUser", query: `mutation { createUser(input: {name: "N", email: "gnew{n}@example.com", country: "ES", timeZone: "UTC"}) { id } }`,
		want: [4]string{"200 FORBIDDEN", "200 FORBIDDEN", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.deleteUser", query: `mutation($id: ID!) { deleteUser(id: $id) { id } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.restoreUser", query: `mutation($id: ID!) { restoreUser(id: $id) { id } }`, setup: setup{deleted: true},
		want: [4]string{"403 FORBIDDEN", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.restoreUser", query: `mutation($id: ID!) { restoreUser(id: $id) { id } }`, // a live user: no change
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	// Sign-in with a token: the token is checked like any other (a
	// deleted user's is refused), and the sign-in is the target's.
	{field: "Mutation.login", query: `mutation { login(email: "{email}", password: "target passphrase") { token } }`, setup: setup{password: true},
		want: [4]string{"200 ok", "200 ok", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.loginWithApiKey", query: `mutation { loginWithApiKey(email: "{email}", apiKey: "{key}") { token } }`, setup: setup{apiKey: true},
		want: [4]string{"200 ok", "200 ok", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.createApiKey", query: `mutation($id: ID) { createApiKey(label: "l", userId: $id) { key } }`,
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.revokeApiKey", query: `mutation($id: ID) { revokeApiKey(id: "{keyId}", userId: $id) { id } }`, setup: setup{apiKey: true},
		want: [4]string{"200 ok", "200 NOT_FOUND", "200 ok", "403 FORBIDDEN"}},
	{field: "Mutation.revokeApiKey", query: `mutation($id: ID) { revokeApiKey(id: "999999", userId: $id) { id } }`, // no such key
		want: [4]string{"200 NOT_FOUND", "200 NOT_FOUND", "200 NOT_FOUND", "403 FORBIDDEN"}},
}

// subRow is one Subscription field, run over a WebSocket: "ok" when the
// first event after a change to the target is data, the error's code when
// it is an error, "close 4403" when connection_init is refused.
type subRow struct {
	field string
	query string // $id is the target's id
	want  [4]string
}

var subMatrix = []subRow{
	{field: "Subscription.userChanged", query: `subscription($id: ID) { userChanged(id: $id) { id } }`,
		want: [4]string{"ok", "NOT_FOUND", "ok", "close 4403"}},
	{field: "Subscription.usersChanged", query: `subscription { usersChanged { id } }`,
		want: [4]string{"FORBIDDEN", "FORBIDDEN", "ok", "close 4403"}},
}

// TestMatrixCoversEveryRouteAndField: every route openapi.json documents
// and every root field schema.graphql declares has a row.
func TestMatrixCoversEveryRouteAndField(t *testing.T) {
	rows := map[string]bool{}
	for _, r := range restMatrix {
		rows[r.route] = true
	}
	for _, r := range gqlMatrix {
		rows[r.field] = true
	}
	for _, r := range subMatrix {
		rows[r.field] = true
	}
	var want []string
	b, err := os.ReadFile("../api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "put", "post", "patch", "delete", "head", "options", "trace":
				want = append(want, strings.ToUpper(m)+" "+p)
			}
		}
	}
	if len(want) < 15 {
		t.Fatalf("only %d operations in openapi.json: the reading is broken", len(want))
	}
	sb, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(sb)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	fields := 0
	for _, typ := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if typ == nil {
			t.Fatal("schema.graphql lacks a root type")
		}
		for _, f := range typ.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				want = append(want, typ.Name+"."+f.Name)
				fields++
			}
		}
	}
	if fields < 15 {
		t.Fatalf("only %d root fields in schema.graphql: the reading is broken", fields)
	}
	sort.Strings(want)
	for _, w := range want {
		if !rows[w] {
			t.Errorf("%s has no row in the authorization matrix", w)
		}
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		m := newMatrixEnv(t, db)
		for i, row := range restMatrix {
			for c, caller := range callers {
				t.Run(fmt.Sprintf("REST %d %s %s/%s", i, row.route, row.ctype, caller), func(t *testing.T) {
					tg := m.newTarget(t, row.setup)
					before := m.version(t, tg.user.ID)
					var hdrs []string
					if row.ctype != "" {
						hdrs = append(hdrs, "Content-Type: "+row.ctype)
					}
					method, _, _ := strings.Cut(row.route, " ")
					r := m.Do(t, method, tg.fill(row.path), tg.token4(m.Env, caller), tg.fill(row.body), hdrs...)
					if r.Status != row.want[c] {
						t.Fatalf("status %d, want %d: %.300s", r.Status, row.want[c], r.Body)
					}
					if r.Status >= 400 {
						if after := m.version(t, tg.user.ID); after != before {
							t.Fatalf("a refused call moved the target from version %d to %d", before, after)
						}
					}
				})
			}
		}
		for i, row := range gqlMatrix {
			for c, caller := range callers {
				t.Run(fmt.Sprintf("GraphQL %d %s/%s", i, row.field, caller), func(t *testing.T) {
					tg := m.newTarget(t, row.setup)
					before := m.version(t, tg.user.ID)
					var vars map[string]any
					if strings.Contains(row.query, "$id") {
						vars = map[string]any{"id": tg.user.ID}
					}
					r := m.GraphQL(t, tg.token4(m.Env, caller), tg.fill(row.query), vars)
					got := fmt.Sprintf("%d %s", r.Status, gqlOutcome(r))
					if got != row.want[c] {
						t.Fatalf("%s, want %s: %.300s", got, row.want[c], r.Body)
					}
					if !strings.HasSuffix(got, " ok") {
						if after := m.version(t, tg.user.ID); after != before {
							t.Fatalf("a refused call moved the target from version %d to %d", before, after)
						}
					}
				})
			}
		}
		srv := httptest.NewServer(m.Handler)
		defer srv.Close()
		for _, row := range subMatrix {
			for c, caller := range callers {
				t.Run(row.field+"/"+caller, func(t *testing.T) {
					tg := m.newTarget(t, setup{})
					if got := subOutcome(t, m, srv, tg, tg.token4(m.Env, caller), row.query); got != row.want[c] {
						t.Fatalf("%s, want %s", got, row.want[c])
					}
				})
			}
		}
		// Admin-only listing, tried by a non-admin: nobody but themselves.
		r := m.Do(t, "GET", "/api/users?deleted=true", m.AliceToken, "")
		if users, _ := r.JSON["users"].([]any); r.Status != 200 || len(users) != 0 {
			t.Fatalf("a non-admin listing deleted users: %d %s", r.Status, r.Body)
		}
	})
}

// gqlOutcome is the first error's extensions.code, or "ok".
func gqlOutcome(r *testenv.Response) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return "ok"
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	if code == "" {
		return "error without a code"
	}
	return code
}
