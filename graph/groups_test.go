package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// The group fields through the real handler, on both databases.

const groupFields = `id displayName externalId memberIds version`

// gql runs query as token and returns its data and the first error's
// extensions.code ("" for none), as JSON text for comparisons.
func gql(t *testing.T, e *testenv.Env, token, query string, vars map[string]any) (data map[string]any, code string, r *testenv.Response) {
	t.Helper()
	r = e.GraphQL(t, token, query, vars)
	if errs, _ := r.JSON["errors"].([]any); len(errs) > 0 {
		ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
		code, _ = ext["code"].(string)
	}
	data, _ = r.JSON["data"].(map[string]any)
	return data, code, r
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestGroupsThroughGraphQL(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		data, code, r := gql(t, e, e.AdminToken, `mutation($a: ID!) { createGroup(input: {displayName: "Drivers", externalId: "x1", memberIds: [$a]}) { `+groupFields+` } }`,
			map[string]any{"a": e.Alice.ID})
		if code != "" {
			t.Fatalf("create: %s", r.Body)
		}
		g := data["createGroup"].(map[string]any)
		id := g["id"].(string)
		if got, want := jsonOf(g), fmt.Sprintf(`{"displayName":"Drivers","externalId":"x1","id":%q,"memberIds":[%q],"version":1}`, id, e.Alice.ID); got != want {
			t.Fatalf("created %s, want %s", got, want)
		}
		steps := []struct {
			name, query string
			vars        map[string]any
			code, want  string // the answer's code, or its data as JSON
		}{
			{"add Bob", `mutation($id: ID!, $b: ID!) { addGroupMembers(id: $id, userIds: [$b], ifVersion: 1) { memberIds version } }`,
				map[string]any{"b": e.Bob.ID}, "", fmt.Sprintf(`{"addGroupMembers":{"memberIds":%s,"version":2}}`, jsonOf(sortedIDs(e.Alice.ID, e.Bob.ID)))},
			{"add again at a stale version", `mutation($id: ID!, $b: ID!) { addGroupMembers(id: $id, userIds: [$b], ifVersion: 1) { version } }`,
				map[string]any{"b": e.Bob.ID}, "PRECONDITION_FAILED", ""},
			{"add no user", `mutation($id: ID!) { addGroupMembers(id: $id, userIds: ["usr-nobody"]) { version } }`,
				nil, "INVALID", ""},
			{"remove Alice", `mutation($id: ID!, $a: ID!) { removeGroupMembers(id: $id, userIds: [$a]) { memberIds version } }`,
				map[string]any{"a": e.Alice.ID}, "", fmt.Sprintf(`{"removeGroupMembers":{"memberIds":[%q],"version":3}}`, e.Bob.ID)},
			{"rename and clear externalId", `mutation($id: ID!) { updateGroup(id: $id, displayName: "Riders", externalId: "") { displayName externalId version } }`,
				nil, "", `{"updateGroup":{"displayName":"Riders","externalId":null,"version":4}}`},
			{"a second group with the name in another case", `mutation { createGroup(input: {displayName: "RIDERS"}) { id } }`,
				nil, "CONFLICT", ""},
			{"read", `query($id: ID!) { group(id: $id) { displayName memberIds } }`,
				nil, "", fmt.Sprintf(`{"group":{"displayName":"Riders","memberIds":[%q]}}`, e.Bob.ID)},
			{"list by name", `{ groups(where: {displayName: "riders"}) { totalCount nodes { displayName } } }`,
				nil, "", `{"groups":{"nodes":[{"displayName":"Riders"}],"totalCount":1}}`},
			{"list past the end", `{ groups(offset: 1, first: 10) { totalCount nodes { id } } }`,
				nil, "", `{"groups":{"nodes":[],"totalCount":1}}`},
			{"a page too large", `{ groups(first: 101) { totalCount } }`, nil, "INVALID", ""},
			{"Bob's groups", `query($b: ID!) { user(id: $b) { groups { displayName } } }`,
				map[string]any{"b": e.Bob.ID}, "", `{"user":{"groups":[{"displayName":"Riders"}]}}`},
		}
		for _, st := range steps {
			vars := map[string]any{"id": id}
			for k, v := range st.vars {
				vars[k] = v
			}
			data, code, r := gql(t, e, e.AdminToken, st.query, vars)
			if code != st.code || st.code == "" && jsonOf(data) != st.want {
				t.Fatalf("%s: code %q data %s, want %q %s: %s", st.name, code, jsonOf(data), st.code, st.want, r.Body)
			}
		}
		// A user reads their own groups, without the members.
		data, code, r = gql(t, e, e.BobToken, `{ me { groups { displayName memberIds } } }`, nil)
		if code != "" || jsonOf(data) != `{"me":{"groups":[{"displayName":"Riders","memberIds":null}]}}` {
			t.Fatalf("Bob's own groups: %s", r.Body)
		}
		data, code, r = gql(t, e, e.AdminToken, `mutation($id: ID!) { deleteGroup(id: $id, ifVersion: 4) }`, map[string]any{"id": id})
		if code != "" || jsonOf(data) != fmt.Sprintf(`{"deleteGroup":%q}`, id) {
			t.Fatalf("delete: %s", r.Body)
		}
		data, code, _ = gql(t, e, e.AdminToken, `query($id: ID!) { group(id: $id) { id } }`, map[string]any{"id": id})
		if code != "NOT_FOUND" || jsonOf(data) != `{"group":null}` {
			t.Fatalf("the deleted group: %s %s", code, jsonOf(data))
		}
		// The history shows the memberships.
		data, _, r = gql(t, e, e.AdminToken, `query($b: ID!) { user(id: $b) { history(first: 2) { edges { node { action } } } } }`, map[string]any{"b": e.Bob.ID})
		if !strings.Contains(jsonOf(data), `[{"node":{"action":"group.leave"}},{"node":{"action":"group.rename"}}]`) {
			t.Fatalf("Bob's history: %s", r.Body)
		}
	})
}

func sortedIDs(a, b string) []string {
	if b < a {
		return []string{b, a}
	}
	return []string{a, b}
}

// TestGroupsUnderUsersAreBatched: a users page selecting groups costs one
// statement more than the page alone, whatever the number of users.
func TestGroupsUnderUsersAreBatched(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		var ids []string
		for i := range 27 { // 30 users in all
			u, _ := e.NewUser(t, fmt.Sprintf("User %d", i), fmt.Sprintf("u%d@example.com", i), "UTC", usersvc.RoleUser)
			ids = append(ids, u.ID)
		}
		for i := range 3 {
			if _, err := e.Svc.CreateGroup(sys, usersvc.GroupInput{DisplayName: fmt.Sprint("G", i), Members: ids[i*5 : i*5+10]}); err != nil {
				t.Fatal(err)
			}
		}
		var n atomic.Int64
		st, err := store.Open(context.Background(), db.URL, store.Options{OnQuery: func() { n.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		h := testenv.NewHandler(testenv.NewService(st, e.Clock))
		run := func(query string) (int64, string) {
			t.Helper()
			body, _ := json.Marshal(map[string]string{"query": query})
			n.Store(0)
			r := testenv.Do(t, h, "POST", "/graphql", e.AdminToken, string(body))
			if r.Status != 200 || r.JSON["errors"] != nil {
				t.Fatalf("%s: %d %s", query, r.Status, r.Body)
			}
			return n.Load(), jsonOf(r.JSON["data"])
		}
		// The fewer of two runs (a cached token check lives a second:
		// see TestHistoryUnderUsersIsBatched).
		statements := func(query string) (int64, string) {
			a, data := run(query)
			b, _ := run(query)
			return min(a, b), data
		}
		plain := `{ users(first: 50) { edges { node { id } } } }`
		run(plain)
		base, _ := statements(plain)
		got, data := statements(`{ users(first: 50) { edges { node { id groups { displayName memberIds } } } } }`)
		if got != base+1 {
			t.Errorf("users with groups: %d statements, want %d (the page alone is %d)", got, base+1, base)
		}
		// Each user's groups are the ones user(id) answers.
		for _, id := range []string{ids[0], ids[7], ids[12], ids[26], e.Admin.ID} {
			_, one := run(fmt.Sprintf(`{ user(id: %q) { groups { displayName memberIds } } }`, id))
			groups := strings.TrimSuffix(strings.TrimPrefix(one, `{"user":{"groups":`), "}}")
			if !strings.Contains(data, fmt.Sprintf(`"groups":%s,"id":%q`, groups, id)) {
				t.Errorf("user %s: alone %s, not so in the page", id, groups)
			}
		}
	})
}
