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

// TestHistoryUnderUsersIsBatched pins the statements a users page with
// history costs: the page's histories are one statement per distinct
// history selection (two with totalCount), not one per user, and each
// user's page is the one user(id) { history } answers.
func TestHistoryUnderUsersIsBatched(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for i := range 47 { // 50 users in all
			e.NewUser(t, fmt.Sprintf("User %d", i), fmt.Sprintf("u%d@example.com", i), "UTC", usersvc.RoleUser)
		}
		// Each user's history starts with two entries (created, a token
		// made); Alice's has 9, so her first page of 5 has a next one.
		for i := range 7 {
			r := e.Do(t, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken,
				fmt.Sprintf(`[{"op":"replace","path":"/description","value":"v%d"}]`, i), "Content-Type: application/json-patch+json")
			if r.Status != 200 {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
		}
		var n atomic.Int64
		st, err := store.Open(context.Background(), db.URL, store.Options{OnQuery: func() { n.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		h := testenv.NewHandler(testenv.NewService(st, e.Clock))
		run := func(token, query string) (int64, map[string]any) {
			t.Helper()
			body, _ := json.Marshal(map[string]string{"query": query})
			n.Store(0)
			r := testenv.Do(t, h, "POST", "/graphql", token, string(body))
			if r.Status != 200 || r.JSON["errors"] != nil {
				t.Fatalf("%s: %d %s", query, r.Status, r.Body)
			}
			return n.Load(), r.JSON["data"].(map[string]any)
		}
		// statements is the fewer of two runs' statements: without a
		// change-log follower a cached token check lives one second, so on
		// a slow machine one run may read the token again; the entry it
		// refills lives another second, so never both runs.
		statements := func(query string) int64 {
			t.Helper()
			a, _ := run(e.AdminToken, query)
			b, _ := run(e.AdminToken, query)
			return min(a, b)
		}
		const history = `edges { cursor node { action actor } } pageInfo { hasNextPage endCursor }`
		plain := `{ users(first: 50) { edges { node { id } } } }`
		run(e.AdminToken, plain) // the token is checked and cached
		base := statements(plain)
		for _, tc := range []struct {
			name  string
			query string
			extra int64
		}{
			{"one history selection", `{ users(first: 50) { edges { node { id history(first: 5) { ` + history + ` } } } } }`, 1},
			{"with totalCount", `{ users(first: 50) { edges { node { id history(first: 5) { totalCount ` + history + ` } } } } }`, 2},
			{"two selections", `{ users(first: 50) { edges { node { id a: history(first: 5) { ` + history + ` } b: history(first: 2) { ` + history + ` } } } } }`, 2},
			{"the same selection twice", `{ users(first: 50) { edges { node { id a: history(first: 5) { ` + history + ` } b: history(first: 5) { ` + history + ` } } } } }`, 1},
		} {
			if got := statements(tc.query); got != base+tc.extra {
				t.Errorf("%s: %d statements, want %d (the page alone is %d)", tc.name, got, base+tc.extra, base)
			}
		}

		// Each user's page is what user(id) answers alone, cursors included.
		_, data := run(e.AdminToken, `{ users(first: 50) { edges { node { id history(first: 5) { totalCount `+history+` } } } } }`)
		edges := data["users"].(map[string]any)["edges"].([]any)
		if len(edges) != 50 {
			t.Fatalf("%d users, want 50", len(edges))
		}
		for _, edge := range edges {
			node := edge.(map[string]any)["node"].(map[string]any)
			id := node["id"].(string)
			_, one := run(e.AdminToken, `{ user(id: "`+id+`") { history(first: 5) { totalCount `+history+` } } }`)
			want, _ := json.Marshal(one["user"].(map[string]any)["history"])
			got, _ := json.Marshal(node["history"])
			if string(got) != string(want) {
				t.Errorf("user %s: batched %s, alone %s", id, got, want)
			}
		}
		for _, edge := range edges {
			node := edge.(map[string]any)["node"].(map[string]any)
			hist := node["history"].(map[string]any)
			total, page := fmt.Sprint(hist["totalCount"]), hist["edges"].([]any)
			next := hist["pageInfo"].(map[string]any)["hasNextPage"].(bool)
			switch node["id"] {
			case e.Alice.ID:
				if total != "9" || len(page) != 5 || !next {
					t.Errorf("Alice: total %v, %d entries, next %v; want 9, 5, true", total, len(page), next)
				}
			default:
				if total != "2" || len(page) != 2 || next {
					t.Errorf("%s: total %v, %d entries, next %v; want 2, 2, false", node["id"], total, len(page), next)
				}
			}
		}

		// The next page of a batched history continues where it ended (a
		// cursor is a place in the history table: everyone else's entries
		// are older than Alice's last five).
		cursor := ""
		for _, edge := range edges {
			if node := edge.(map[string]any)["node"].(map[string]any); node["id"] == e.Alice.ID {
				cursor = node["history"].(map[string]any)["pageInfo"].(map[string]any)["endCursor"].(string)
			}
		}
		_, data = run(e.AdminToken, `{ users(first: 50) { edges { node { id history(first: 5, after: "`+cursor+`") { totalCount `+history+` } } } } }`)
		for _, edge := range data["users"].(map[string]any)["edges"].([]any) {
			node := edge.(map[string]any)["node"].(map[string]any)
			hist := node["history"].(map[string]any)
			want := 2
			if node["id"] == e.Alice.ID {
				want = 4
			}
			if got := len(hist["edges"].([]any)); got != want {
				t.Errorf("%s after the cursor: %d entries, want %d", node["id"], got, want)
			}
		}

		// A user sees their own history through the list, and no one else's.
		_, data = run(e.AliceToken, `{ users { edges { node { id history(first: 5) { totalCount } } } } }`)
		if got, _ := json.Marshal(data); !strings.Contains(string(got), `"totalCount":9`) || strings.Count(string(got), `"id"`) != 1 {
			t.Errorf("Alice's users page: %s", got)
		}
	})
}
