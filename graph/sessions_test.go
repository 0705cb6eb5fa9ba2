package graph_test

import (
	"testing"

	"usersvc/internal/testenv"
)

// TestDeleteAndKeyRevocationEndSessions: through GraphQL, deleteUser ends
// the user's sessions for good (restoreUser does not revive them), and
// revokeApiKey ends the sessions exchanged for that key.
func TestDeleteAndKeyRevocationEndSessions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const setPw = `mutation($id: ID!) { patchUser(id: $id, patch: [{op: add, path: "/password", value: "alice passphrase"}]) { id } }`
		if r := e.GraphQL(t, e.AliceToken, setPw, map[string]any{"id": e.Alice.ID}); errCode(r) != "" {
			t.Fatal(string(r.Body))
		}
		login := func() string {
			r := e.GraphQL(t, "", `mutation { login(email: "alice@example.com", password: "alice passphrase") { token } }`, nil)
			tok, _ := data(t, r, "login")["token"].(string)
			return tok
		}
		me := func(tok string) int { return e.GraphQL(t, tok, `{ me { id } }`, nil).Status }

		session := login()
		if s := me(session); s != 200 {
			t.Fatalf("session: %d", s)
		}
		if r := e.GraphQL(t, session, `mutation($id: ID!) { deleteUser(id: $id) { id } }`, map[string]any{"id": e.Alice.ID}); errCode(r) != "" {
			t.Fatalf("delete: %s", r.Body)
		}
		if r := e.GraphQL(t, e.AdminToken, `mutation($id: ID!) { restoreUser(id: $id) { id } }`, map[string]any{"id": e.Alice.ID}); errCode(r) != "" {
			t.Fatalf("restore: %s", r.Body)
		}
		if s := me(session); s != 401 {
			t.Fatalf("the old session after delete and restore: %d, want 401", s)
		}
		if s := me(e.AliceToken); s != 200 {
			t.Fatalf("operator token after restore: %d", s)
		}

		session = login()
		k := data(t, e.GraphQL(t, session, `mutation { createApiKey(label: "car") { key apiKey { id } } }`, nil), "createApiKey")
		key, keyID := k["key"].(string), k["apiKey"].(map[string]any)["id"].(string)
		r := e.GraphQL(t, "", `mutation($k: String!) { loginWithApiKey(email: "alice@example.com", apiKey: $k) { token } }`, map[string]any{"k": key})
		fromKey, _ := data(t, r, "loginWithApiKey")["token"].(string)
		if s := me(fromKey); s != 200 {
			t.Fatalf("session from the key: %d", s)
		}
		if r := e.GraphQL(t, session, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": keyID}); errCode(r) != "" {
			t.Fatalf("revoke: %s", r.Body)
		}
		if s := me(fromKey); s != 401 {
			t.Fatalf("session from a revoked key: %d, want 401", s)
		}
		if s := me(session); s != 200 {
			t.Fatalf("password session after revoking a key: %d", s)
		}
	})
}
