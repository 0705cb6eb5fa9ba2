package graph_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/server"
)

func errCode(r *testenv.Response) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

func errMessage(r *testenv.Response) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	msg, _ := errs[0].(map[string]any)["message"].(string)
	return msg
}

func TestQueries(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const q = `query($id: ID!) { user(id: $id) { id email tags privileges role version deletedAt } }`
		for _, tc := range []struct {
			name, token, id, code string
		}{
			{"self", e.AliceToken, e.Alice.ID, ""},
			{"other user", e.AliceToken, e.Bob.ID, "NOT_FOUND"},
			{"unknown id", e.AliceToken, "usr-none", "NOT_FOUND"},
			{"admin reads anyone", e.AdminToken, e.Bob.ID, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.GraphQL(t, tc.token, q, map[string]any{"id": tc.id})
				if r.Status != 200 || errCode(r) != tc.code {
					t.Fatalf("status %d code %q, want %q: %s", r.Status, errCode(r), tc.code, r.Body)
				}
				ext, _ := r.JSON["extensions"].(map[string]any)
				if ext["apiUsage"] == nil || ext["apiDailyUsage"] == nil {
					t.Fatalf("no counters in extensions: %s", r.Body)
				}
				if tc.code == "NOT_FOUND" && errMessage(r) != "User not found." {
					t.Fatalf("message %q", errMessage(r))
				}
			})
		}
		r := e.GraphQL(t, e.AliceToken, `{ me { id email tags } }`, nil)
		if !strings.Contains(string(r.Body), e.Alice.ID) || strings.Contains(string(r.Body), "password") {
			t.Fatalf("me: %s", r.Body)
		}
		// GET works for queries.
		if g := e.Do(t, "GET", "/graphql?query=%7Bme%7Bid%7D%7D", e.AliceToken, ""); g.Status != 200 || !strings.Contains(string(g.Body), e.Alice.ID) {
			t.Fatalf("GET query: %d %s", g.Status, g.Body)
		}
		// Authentication happens before execution: HTTP 401.
		bad := e.GraphQL(t, "usv_nope", `{ me { id } }`, nil)
		if bad.Status != 401 || errCode(bad) != "UNAUTHENTICATED" {
			t.Fatalf("bad token: %d %s", bad.Status, bad.Body)
		}
	})
}

func TestMutations(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const upd = `mutation($id: ID!, $in: UpdateUserInput!, $v: Int) { updateUser(id: $id, input: $in, ifVersion: $v) { id name description tags role version } }`
		const pat = `mutation($id: ID!, $p: [PatchOperationInput!]!, $v: Int) { patchUser(id: $id, patch: $p, ifVersion: $v) { id description tags role version } }`
		in := map[string]any{"name": "Alice B", "email": "alice@example.com", "country": "ES", "timeZone": "Europe/Madrid", "description": "hello"}
		for _, tc := range []struct {
			name, token, query string
			vars               map[string]any
			code               string
		}{
			{"self updates", e.AliceToken, upd, map[string]any{"id": e.Alice.ID, "in": in}, ""},
			{"stale ifVersion", e.AliceToken, upd, map[string]any{"id": e.Alice.ID, "in": in, "v": 1}, "PRECONDITION_FAILED"},
			{"self may not set role", e.AliceToken, upd, map[string]any{"id": e.Alice.ID, "in": merge(in, "role", "ADMIN")}, "FORBIDDEN"},
			{"self may not set tags", e.AliceToken, upd, map[string]any{"id": e.Alice.ID, "in": merge(in, "tags", map[string]any{"a": "b"})}, "FORBIDDEN"},
			{"other user is not found", e.BobToken, upd, map[string]any{"id": e.Alice.ID, "in": in}, "NOT_FOUND"},
			{"bad email", e.AliceToken, upd, map[string]any{"id": e.Alice.ID, "in": merge(in, "email", "x")}, "INVALID"},
			{"patch add tag as admin", e.AdminToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{map[string]any{"op": "add", "path": "/tags/team", "value": "blue"}}}, ""},
			{"patch copy into role refused", e.AliceToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{
				map[string]any{"op": "add", "path": "/description", "value": "admin"},
				map[string]any{"op": "copy", "from": "/description", "path": "/role"}}}, "FORBIDDEN"},
			{"patch move into privileges refused", e.AliceToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{
				map[string]any{"op": "add", "path": "/x", "value": []any{"root"}},
				map[string]any{"op": "move", "from": "/x", "path": "/privileges"}}}, "FORBIDDEN"},
			{"failed test", e.AliceToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{map[string]any{"op": "test", "path": "/name", "value": "Eve"}}}, "CONFLICT"},
			{"value null kept apart from absent", e.AliceToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{map[string]any{"op": "replace", "path": "/description", "value": nil}}}, ""},
			{"missing value", e.AliceToken, pat, map[string]any{"id": e.Alice.ID, "p": []any{map[string]any{"op": "replace", "path": "/description"}}}, "INVALID"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.GraphQL(t, tc.token, tc.query, tc.vars)
				if errCode(r) != tc.code {
					t.Fatalf("code %q, want %q: %s", errCode(r), tc.code, r.Body)
				}
			})
		}
		r := e.Do(t, "GET", "/api/users/"+e.Alice.ID, e.AdminToken, "")
		if r.JSON["name"] != "Alice B" || r.JSON["description"] != nil || r.JSON["role"] != "user" {
			t.Fatalf("after mutations: %s", r.Body)
		}
		if tags := r.JSON["tags"].(map[string]any); tags["team"] != "blue" || len(tags) != 1 {
			t.Fatalf("tags: %v", tags)
		}
		// Spanish through GraphQL too.
		es := e.GraphQL(t, e.AliceToken, `{ user(id: "usr-none") { id } }`, nil, "Accept-Language: es")
		if errMessage(es) != "Usuario no encontrado." {
			t.Fatalf("spanish: %s", es.Body)
		}
	})
}

func merge(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

func TestHardening(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		closed := server.New(e.Svc, server.Config{Introspection: false, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		body, _ := json.Marshal(map[string]any{"query": `{ me { emial } }`})
		r := testenv.Do(t, closed, "POST", "/graphql", e.AliceToken, string(body))
		if strings.Contains(string(r.Body), "Did you mean") {
			t.Fatalf("field suggestions leaked: %s", r.Body)
		}
		intro, _ := json.Marshal(map[string]any{"query": `{ __schema { types { name } } }`})
		if r := testenv.Do(t, closed, "POST", "/graphql", e.AliceToken, string(intro)); !strings.Contains(string(r.Body), "errors") {
			t.Fatalf("introspection answered while off: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AliceToken, `{ __schema { queryType { name } } }`, nil); errCode(r) != "" {
			t.Fatalf("introspection refused while on: %s", r.Body)
		}
		// Complexity: many aliases of a page are refused (40 x 301).
		var q strings.Builder
		q.WriteString("{")
		for i := 0; i < 40; i++ {
			q.WriteString(" a")
			q.WriteString(strings.Repeat("x", 1+i%3))
			q.WriteString(string(rune('a'+i%26)) + string(rune('a'+(i/26)%26)) + ": users(first: 100) { edges { node { id } } }")
		}
		q.WriteString("}")
		if r := e.GraphQL(t, e.AliceToken, q.String(), nil); errCode(r) == "" || !strings.Contains(errMessage(r), "complexity") {
			t.Fatalf("a query over the complexity limit ran: %.200s", r.Body)
		}
		// Batched operations are not accepted.
		if r := e.Do(t, "POST", "/graphql", e.AliceToken, `[{"query":"{ me { id } }"},{"query":"{ me { id } }"}]`); r.Status < 400 || strings.Contains(string(r.Body), e.Alice.ID) {
			t.Fatalf("a batch ran: %d %s", r.Status, r.Body)
		}
		// The parser stops at its token limit.
		long := "{ me { " + strings.Repeat("id ", 6000) + "} }"
		if r := e.GraphQL(t, e.AliceToken, long, nil); errCode(r) == "" || strings.Contains(string(r.Body), e.Alice.ID) {
			t.Fatalf("a query over the token limit ran: %.200s", r.Body)
		}
	})
}

// TestFieldAccess runs who may write each field (testenv.FieldWriters) through
// patchUser and updateUser for self, another user and an admin.
func TestFieldAccess(t *testing.T) {
	samples := map[string]any{
		"name": "New", "email": "new-%d@example.com", "country": "FR", "timeZone": "Asia/Tokyo",
		"description": "d", "password": "correct horse battery", "message": "m", "tags": map[string]any{"k": "v"},
		"group": "g", "deviceId": "dev", "adminDevices": 5, "from": "2020-01-01T00:00:00Z",
		"expires": "2099-01-01T00:00:00Z", "disabled": true, "disabledMessage": "x",
		"privileges": []any{"p"}, "role": "admin", "deletedAt": "2026-01-01T00:00:00Z", "dailyQuota": 7, "userName": "someone-%d", "scim": map[string]any{"title": "t"},
	}
	writers := testenv.CheckFieldWriters(t, samples)
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		n := 0
		for field, val := range samples {
			for _, route := range []string{"patchUser", "updateUser"} {
				for _, who := range []string{"self", "other", "admin"} {
					n++
					t.Run(field+"/"+route+"/"+who, func(t *testing.T) {
						v := val
						if field == "email" || field == "userName" { // sign-in identifiers: unique
							v = fmt.Sprintf(val.(string), n)
						}
						target, tok := e.NewUser(t, "T", fmt.Sprintf("g%d@example.com", n), "UTC", usersvc.RoleUser)
						caller := map[string]string{"self": tok, "other": e.BobToken, "admin": e.AdminToken}[who]
						var r *testenv.Response
						if route == "patchUser" {
							r = e.GraphQL(t, caller, `mutation($id: ID!, $p: [PatchOperationInput!]!) { patchUser(id: $id, patch: $p) { version } }`,
								map[string]any{"id": target.ID, "p": []any{map[string]any{"op": "replace", "path": "/" + field, "value": v}}})
						} else {
							if field == "role" {
								v = "ADMIN" // the enum's spelling; the patched document spells it admin
							}
							in := map[string]any{"name": "T", "email": target.Email, "country": "ES", "timeZone": "UTC", field: v}
							r = e.GraphQL(t, caller, `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { version } }`,
								map[string]any{"id": target.ID, "in": in})
						}
						want := ""
						switch access := writers[field]; {
						case who == "other":
							want = "NOT_FOUND"
						case who == "self" && access != "self":
							want = "FORBIDDEN"
						case who == "admin" && access == "undelete": // to a time: only null is allowed
							want = "INVALID"
						}
						if errCode(r) != want {
							t.Fatalf("code %q, want %q: %s", errCode(r), want, r.Body)
						}
						after := e.Do(t, "GET", "/api/users/"+target.ID, e.AdminToken, "")
						if changed := after.Header.Get("ETag") != `"v1"`; changed != (want == "") {
							t.Fatalf("stored user changed=%v with code %q", changed, want)
						}
					})
				}
			}
		}
	})
}

// TestGraphQLOverHTTPStatuses: answers whose execution never started, on
// GET and POST, with either response type: with application/json they are
// 200 with "data": null (the spec's SHOULD; gqlgen says 422), with
// application/graphql-response+json 400 without "data"; a mutation over GET
// is 406 as gqlgen answers it, and a GET whose variables are not JSON is 400
// INVALID.
func TestGraphQLOverHTTPStatuses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const legacy, modern = "application/json", "application/graphql-response+json"
		for _, c := range []struct {
			name, method, query, variables, accept string
			status                                 int
			data                                   bool // a "data" entry (null)
			code                                   string
		}{
			{"parse", "POST", "{", "", legacy, 200, true, "GRAPHQL_PARSE_FAILED"},
			{"parse", "POST", "{", "", modern, 400, false, "GRAPHQL_PARSE_FAILED"},
			{"parse", "GET", "{", "", legacy, 200, true, "GRAPHQL_PARSE_FAILED"},
			{"parse", "GET", "{", "", modern, 400, false, "GRAPHQL_PARSE_FAILED"},
			{"validate", "POST", "{ nosuch }", "", legacy, 200, true, "GRAPHQL_VALIDATION_FAILED"},
			{"validate", "POST", "{ nosuch }", "", modern, 400, false, "GRAPHQL_VALIDATION_FAILED"},
			{"validate", "GET", "{ nosuch }", "", legacy, 200, true, "GRAPHQL_VALIDATION_FAILED"},
			{"validate", "GET", "{ nosuch }", "", modern, 400, false, "GRAPHQL_VALIDATION_FAILED"},
			{"coerce", "POST", "query($id: ID!) { user(id: $id) { id } }", "", legacy, 200, true, "GRAPHQL_VALIDATION_FAILED"},
			{"coerce", "GET", "query($id: ID!) { user(id: $id) { id } }", "", modern, 400, false, "GRAPHQL_VALIDATION_FAILED"},
			{"mutation", "GET", `mutation { deleteUser(id: "x") { id } }`, "", legacy, 406, true, ""},
			{"mutation", "GET", `mutation { deleteUser(id: "x") { id } }`, "", modern, 406, false, ""},
			{"variables", "GET", "{ me { id } }", "{", legacy, 400, false, "INVALID"},
			{"variables", "GET", "{ me { id } }", "[1]", modern, 400, false, "INVALID"},
		} {
			var r *testenv.Response
			if c.method == "GET" {
				q := url.Values{"query": {c.query}}
				if c.variables != "" {
					q.Set("variables", c.variables)
				}
				r = e.Do(t, "GET", "/graphql?"+q.Encode(), e.AliceToken, "", "Accept: "+c.accept)
			} else {
				b, _ := json.Marshal(map[string]any{"query": c.query})
				r = e.Do(t, "POST", "/graphql", e.AliceToken, string(b), "Accept: "+c.accept)
			}
			_, data := r.JSON["data"]
			errs, _ := r.JSON["errors"].([]any)
			if r.Status != c.status || data != c.data || len(errs) == 0 || errCode(r) != c.code || r.Header.Get("Content-Type") != c.accept {
				t.Errorf("%s %s, %s: %d %s %s", c.name, c.method, c.accept, r.Status, r.Header.Get("Content-Type"), r.Body)
			}
		}
	})
}
