package graph_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// TestIdsThatCannotExist: ids with a NUL byte or invalid UTF-8 (written as
// GraphQL or JSON escapes) are users that do not exist, on every operation
// that takes an id and on both databases (PostgreSQL answered INTERNAL).
func TestIdsThatCannotExist(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ops := []string{
			`query($id: ID!) { user(id: $id) { id } }`,
			`mutation($id: ID!) { deleteUser(id: $id) { id } }`,
			`mutation($id: ID!) { restoreUser(id: $id) { id } }`,
			`mutation($id: ID!) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: "N"}]) { id } }`,
			`mutation($id: ID!) { updateUser(id: $id, input: {name: "N", email: "n@example.com", country: "ES", timeZone: "UTC"}) { id } }`,
			`mutation($id: ID!) { createApiKey(userId: $id, label: "k") { key } }`,
			`mutation($id: ID!) { revokeApiKey(userId: $id, id: "1") { id } }`,
			`query($id: ID!) { apiKeys(userId: $id) { id } }`,
		}
		for _, id := range []string{"\x00", "usr-\x00abc"} {
			for _, op := range ops {
				r := e.GraphQL(t, e.AdminToken, op, map[string]any{"id": id})
				if errCode(r) != "NOT_FOUND" || errMessage(r) != "User not found." {
					t.Errorf("%q %.40s: %d %s", id, op, r.Status, r.Body)
				}
			}
		}
		// The same ids as GraphQL string escapes, POST and GET.
		for _, q := range []string{
			`{ user(id: "\u0000") { id } }`,
			`{ user(id: "usr-\u0000") { id } }`,
			`{ user(id: "\ud800") { id } }`,
		} {
			if r := e.GraphQL(t, e.AdminToken, q, nil); errCode(r) != "NOT_FOUND" {
				t.Errorf("POST %s: %d %s", q, r.Status, r.Body)
			}
			if r := e.Do(t, "GET", "/graphql?query="+url.QueryEscape(q), e.AdminToken, ""); errCode(r) != "NOT_FOUND" {
				t.Errorf("GET %s: %d %s", q, r.Status, r.Body)
			}
		}
	})
}

// TestBadFilterValues: users(where:) filters with a NUL byte or invalid
// UTF-8 are INVALID naming the filter.
func TestBadFilterValues(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const q = `query($w: UserWhereInput) { users(where: $w) { totalCount } }`
		for _, tc := range []struct {
			where   map[string]any
			field   string
			message string
		}{
			{map[string]any{"email": "\x00"}, "email", `Field "email" must be valid text.`},
			{map[string]any{"group": "\x00"}, "group", `Field "group" must be valid text.`},
			{map[string]any{"search": "a\x00"}, "search", `Field "search" must be valid text.`},
		} {
			for _, token := range []string{e.AdminToken, e.AliceToken} {
				r := e.GraphQL(t, token, q, map[string]any{"w": tc.where})
				if errCode(r) != "INVALID" || errField(r) != tc.field || errMessage(r) != tc.message {
					t.Errorf("%v: %d %s", tc.where, r.Status, r.Body)
				}
			}
		}
		// role is an enum: a value that is none of its names fails coercion.
		if r := e.GraphQL(t, e.AdminToken, q, map[string]any{"w": map[string]any{"role": "\x00"}}); errCode(r) != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(errMessage(r), "is not a valid Role") {
			t.Errorf("role: %d %s", r.Status, r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, `{ users(where: {group: "\u0000"}) { totalCount } }`, nil); errCode(r) != "INVALID" || errField(r) != "group" {
			t.Errorf("literal: %d %s", r.Status, r.Body)
		}
	})
}

// TestInvalidUTF8InBodies: invalid UTF-8 (or an unpaired surrogate escape)
// inside a JSON string of a GraphQL request is INVALID naming the field,
// on POST and GET, and nothing is stored.
func TestInvalidUTF8InBodies(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		id := e.Alice.ID
		for _, tc := range []struct{ name, body, field string }{
			{"input field", `{"query":"mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }","variables":{"id":"` + id + "\",\"in\":{\"name\":\"A\xc0\xae\",\"email\":\"alice@example.com\",\"country\":\"ES\",\"timeZone\":\"UTC\"}}}", "name"},
			{"surrogate escape", `{"query":"mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }","variables":{"id":"` + id + `","in":{"name":"A\udc00","email":"alice@example.com","country":"ES","timeZone":"UTC"}}}`, "name"},
			{"patch value", `{"query":"mutation($id: ID!, $p: [PatchOperationInput!]!) { patchUser(id: $id, patch: $p) { id } }","variables":{"id":"` + id + "\",\"p\":[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"\xff\"}]}}", "value"},
			{"variable", "{\"query\":\"query($id: ID!) { user(id: $id) { id } }\",\"variables\":{\"id\":\"\xc0\xae\"}}", "id"},
			{"inline literal", "{\"query\":\"mutation { patchUser(id: \\\"" + id + "\\\", patch: [{op: replace, path: \\\"/name\\\", value: \\\"\xfe\\\"}]) { id } }\"}", "query"},
		} {
			r := e.Do(t, "POST", "/graphql", e.AdminToken, tc.body)
			if r.Status != 400 || errCode(r) != "INVALID" || errField(r) != tc.field || errMessage(r) != `Field "`+tc.field+`" must be valid text.` {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			}
		}
		for _, tc := range []struct{ name, query, field string }{
			{"GET variables", "query=" + url.QueryEscape(`query($id: ID!) { user(id: $id) { id } }`) + "&variables=" + url.QueryEscape("{\"id\":\"\xff\"}"), "id"},
			{"GET query", "query=" + url.QueryEscape("{ user(id: \"\xff\") { id } }"), "query"},
		} {
			r := e.Do(t, "GET", "/graphql?"+tc.query, e.AdminToken, "")
			if r.Status != 400 || errField(r) != tc.field {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			}
		}
		if r := e.Do(t, "GET", "/api/users/"+id, e.AdminToken, ""); r.Header.Get("ETag") != `"v1"` {
			t.Fatalf("Alice changed: %s", r.Body)
		}
	})
}

func errField(r *testenv.Response) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	f, _ := ext["field"].(string)
	return f
}

// TestSignInWithUnmatchableEmail: a login whose email holds a NUL byte is
// the ordinary sign-in failure, not a database error.
func TestSignInWithUnmatchableEmail(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, q := range []string{
			`mutation { login(email: "alice@example.com\u0000", password: "alice passphrase") { token } }`,
			`mutation { loginWithApiKey(email: "\u0000", apiKey: "usk_x") { token } }`,
		} {
			r := e.GraphQL(t, "", q, nil)
			if errCode(r) != "UNAUTHENTICATED" || errMessage(r) != "Invalid API key or username." {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
}

// TestInputsOfManyUnknownKeys: updateUser's and createUser's input with
// ~70,000 unique unknown keys, as variables in a body of nearly 1 MiB, is
// refused at once (the liveness bound is not a speed measurement).
func TestInputsOfManyUnknownKeys(t *testing.T) {
	in := map[string]any{"name": "N", "email": "n@example.com", "country": "ES", "timeZone": "UTC"}
	for i := range 70_000 {
		in[fmt.Sprintf("k%07d", 9_999_999-i)] = 0
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, op := range []string{
			`mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`,
			`mutation($in: CreateUserInput!) { createUser(input: $in) { id } }`,
		} {
			done := make(chan *testenv.Response, 1)
			go func() { done <- e.GraphQL(t, e.AdminToken, op, map[string]any{"id": e.Alice.ID, "in": in}) }()
			select {
			case r := <-done:
				if r.Status != 200 && r.Status != 400 || !strings.Contains(string(r.Body), `"errors"`) || strings.Contains(string(r.Body), `"id":"usr-`) {
					t.Errorf("%.40s: %d %.300s", op, r.Status, r.Body)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%.40s: no answer in 10 s", op)
			}
		}
	})
}
