package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"usersvc/internal/testenv"
)

func data(t *testing.T, r *testenv.Response, field string) map[string]any {
	t.Helper()
	d, _ := r.JSON["data"].(map[string]any)
	m, _ := d[field].(map[string]any)
	if m == nil {
		t.Fatalf("no %s in %s", field, r.Body)
	}
	return m
}

func TestUsersConnection(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const q = `query($first: Int, $after: String, $where: UserWhereInput, $order: UserOrder) {
		  users(first: $first, after: $after, where: $where, orderBy: $order) {
		    totalCount edges { cursor node { id email } } pageInfo { hasNextPage endCursor } } }`
		r := e.GraphQL(t, e.AdminToken, q, map[string]any{"first": 2})
		c := data(t, r, "users")
		if fmt.Sprint(c["totalCount"]) != "3" || len(c["edges"].([]any)) != 2 || c["pageInfo"].(map[string]any)["hasNextPage"] != true {
			t.Fatalf("page 1: %s", r.Body)
		}
		end := c["pageInfo"].(map[string]any)["endCursor"].(string)
		r = e.GraphQL(t, e.AdminToken, q, map[string]any{"first": 2, "after": end})
		c = data(t, r, "users")
		edges := c["edges"].([]any)
		if len(edges) != 1 || edges[0].(map[string]any)["node"].(map[string]any)["id"] != e.Bob.ID || c["pageInfo"].(map[string]any)["hasNextPage"] != false {
			t.Fatalf("page 2: %s", r.Body)
		}
		r = e.GraphQL(t, e.AdminToken, q, map[string]any{"where": map[string]any{"search": "BOB"}, "order": map[string]any{"direction": "DESC"}})
		if c := data(t, r, "users"); fmt.Sprint(c["totalCount"]) != "1" {
			t.Fatalf("search: %s", r.Body)
		}
		r = e.GraphQL(t, e.AliceToken, q, nil)
		if c := data(t, r, "users"); fmt.Sprint(c["totalCount"]) != "1" || !strings.Contains(string(r.Body), e.Alice.ID) {
			t.Fatalf("a user lists only themselves: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, q, map[string]any{"first": 101}); errCode(r) != "INVALID" {
			t.Fatalf("first 101: %s", r.Body)
		}
		lk := e.GraphQL(t, e.AliceToken, `{ countries { code name } timeZones }`, nil)
		if !strings.Contains(string(lk.Body), `{"code":"ES","name":"Spain"}`) || !strings.Contains(string(lk.Body), `"Europe/Madrid"`) {
			t.Fatalf("lookups: %.300s", lk.Body)
		}
	})
}

func TestLifecycleMutations(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const create = `mutation($in: CreateUserInput!) { createUser(input: $in) { id role deletedAt } }`
		in := map[string]any{"name": "Erin", "email": "erin@example.com", "country": "IE", "timeZone": "Europe/Dublin", "password": "erin passphrase"}
		if r := e.GraphQL(t, e.AliceToken, create, map[string]any{"in": in}); errCode(r) != "FORBIDDEN" {
			t.Fatalf("non-admin create: %s", r.Body)
		}
		r := e.GraphQL(t, e.AdminToken, create, map[string]any{"in": in})
		erin := data(t, r, "createUser")["id"].(string)

		// login needs no token; anything else without one is HTTP 401.
		login := `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token expires } }`
		r = e.GraphQL(t, "", login, map[string]any{"e": "erin@example.com", "p": "erin passphrase"})
		tok, _ := data(t, r, "login")["token"].(string)
		if tok == "" {
			t.Fatalf("login: %s", r.Body)
		}
		if r := e.GraphQL(t, "", login, map[string]any{"e": "erin@example.com", "p": "wrong"}); errCode(r) != "UNAUTHENTICATED" || errMessage(r) != "Invalid API key or username." {
			t.Fatalf("bad login: %s", r.Body)
		}
		if r := e.GraphQL(t, "", `mutation { login(email: "x", password: "y") { token } deleteUser(id: "`+erin+`") { id } }`, nil); r.Status != 401 {
			t.Fatalf("login smuggling another field: %d %s", r.Status, r.Body)
		}
		if r := e.GraphQL(t, "", `{ me { id } }`, nil); r.Status != 401 {
			t.Fatalf("anonymous query: %d", r.Status)
		}

		// API keys.
		k := e.GraphQL(t, tok, `mutation { createApiKey(label: "car") { key apiKey { id label creation lastUsed } } }`, nil)
		payload := data(t, k, "createApiKey")
		key := payload["key"].(string)
		keyID := payload["apiKey"].(map[string]any)["id"].(string)
		r = e.GraphQL(t, "", `mutation($e: String!, $k: String!) { loginWithApiKey(email: $e, apiKey: $k) { token } }`, map[string]any{"e": "erin@example.com", "k": key})
		if data(t, r, "loginWithApiKey")["token"] == nil {
			t.Fatalf("loginWithApiKey: %s", r.Body)
		}
		if r := e.GraphQL(t, tok, `{ apiKeys { id label lastUsed } }`, nil); !strings.Contains(string(r.Body), `"label":"car"`) || strings.Contains(string(r.Body), key) {
			t.Fatalf("apiKeys: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AliceToken, `query($u: ID) { apiKeys(userId: $u) { id } }`, map[string]any{"u": erin}); errCode(r) != "NOT_FOUND" {
			t.Fatalf("another user's keys: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, `query($u: ID) { apiKeys(userId: $u) { id } }`, map[string]any{"u": erin}); errCode(r) != "" {
			t.Fatalf("admin reads keys: %s", r.Body)
		}
		if r := e.GraphQL(t, tok, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": keyID}); errCode(r) != "" {
			t.Fatalf("revoke: %s", r.Body)
		}

		// Delete and restore.
		del := `mutation($id: ID!) { deleteUser(id: $id) { deletedAt } }`
		if r := e.GraphQL(t, e.AliceToken, del, map[string]any{"id": erin}); errCode(r) != "NOT_FOUND" {
			t.Fatalf("alice deletes erin: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, del, map[string]any{"id": erin}); data(t, r, "deleteUser")["deletedAt"] == nil {
			t.Fatalf("delete: %s", r.Body)
		}
		if r := e.GraphQL(t, tok, `{ me { id } }`, nil); r.Status != 401 {
			t.Fatalf("deleted user's session: %d (the delete revokes it: 401)", r.Status)
		}
		if r := e.GraphQL(t, e.AdminToken, `mutation($id: ID!) { restoreUser(id: $id) { deletedAt } }`, map[string]any{"id": erin}); data(t, r, "restoreUser")["deletedAt"] != nil {
			t.Fatalf("restore: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, `mutation($id: ID!) { deleteUser(id: $id) { id } }`, map[string]any{"id": e.Admin.ID}); errCode(r) != "CONFLICT" {
			t.Fatalf("last admin: %s", r.Body)
		}

		// History, newest first, through User.history.
		h := e.GraphQL(t, e.AdminToken, `query($id: ID!) { user(id: $id) { history(first: 20) {
			totalCount edges { cursor node { action actor address patch } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`, map[string]any{"id": erin})
		hist := data(t, h, "user")["history"].(map[string]any)
		var actions []string
		for _, ed := range hist["edges"].([]any) {
			actions = append(actions, ed.(map[string]any)["node"].(map[string]any)["action"].(string))
		}
		if got := strings.Join(actions, ","); got != "restore,delete,apiKey.revoke,login,apiKey.create,login,create" {
			t.Fatalf("history %s", got)
		}
		if pi := hist["pageInfo"].(map[string]any); fmt.Sprint(hist["totalCount"]) != "7" || pi["hasNextPage"] != false || pi["hasPreviousPage"] != false {
			t.Fatalf("history connection: %s", h.Body)
		}
		// The same history in pages of three, following endCursor.
		const page = `query($id: ID!, $after: String) { user(id: $id) { history(first: 3, after: $after) {
			totalCount edges { cursor node { action } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`
		var paged []string
		var after any
		for i := 0; i < 3; i++ {
			r := e.GraphQL(t, e.AdminToken, page, map[string]any{"id": erin, "after": after})
			c := data(t, r, "user")["history"].(map[string]any)
			pi := c["pageInfo"].(map[string]any)
			edges := c["edges"].([]any)
			if fmt.Sprint(c["totalCount"]) != "7" || pi["hasPreviousPage"] != (i > 0) || pi["hasNextPage"] != (i < 2) ||
				pi["startCursor"] != edges[0].(map[string]any)["cursor"] || pi["endCursor"] != edges[len(edges)-1].(map[string]any)["cursor"] {
				t.Fatalf("history page %d: %s", i, r.Body)
			}
			for _, ed := range edges {
				paged = append(paged, ed.(map[string]any)["node"].(map[string]any)["action"].(string))
			}
			after = pi["endCursor"]
		}
		if got := strings.Join(paged, ","); got != "restore,delete,apiKey.revoke,login,apiKey.create,login,create" {
			t.Fatalf("history in pages %s", got)
		}
		if r := e.GraphQL(t, e.AliceToken, `{ me { history { totalCount edges { node { action } } } } }`, nil); errCode(r) != "" {
			t.Fatalf("own history: %s", r.Body)
		}
		// Quota state in extensions.
		ext := e.GraphQL(t, e.AliceToken, `{ me { id } }`, nil).JSON["extensions"].(map[string]any)
		if rl, ok := ext["rateLimit"].(map[string]any); !ok || fmt.Sprint(rl["limit"]) != "10000" {
			t.Fatalf("rateLimit extension: %v", ext)
		}
	})
}
