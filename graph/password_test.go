package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"usersvc/internal/testenv"
)

// TestResendingThePasswordIsNoChange: updateUser and patchUser carrying the
// stored password, with currentPassword, change nothing (same version,
// sessions live on); a different password is a change and ends the
// sessions.
func TestResendingThePasswordIsNoChange(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const upd = `mutation($id: ID!, $in: UpdateUserInput!, $cur: String) { updateUser(id: $id, input: $in, currentPassword: $cur) { version } }`
		const pat = `mutation($id: ID!, $p: [PatchOperationInput!]!, $cur: String) { patchUser(id: $id, patch: $p, currentPassword: $cur) { version } }`
		in := map[string]any{"name": "Alice", "email": "alice@example.com", "country": "ES", "timeZone": "Europe/Madrid", "password": "alice passphrase"}
		r := e.GraphQL(t, e.AliceToken, upd, map[string]any{"id": e.Alice.ID, "in": in})
		if v := fmt.Sprint(data(t, r, "updateUser")["version"]); v != "2" {
			t.Fatalf("setting the password: version %s, %s", v, r.Body)
		}
		login := e.GraphQL(t, "", `mutation { login(email: "alice@example.com", password: "alice passphrase") { token } }`, nil)
		session, _ := data(t, login, "login")["token"].(string) // version 3: lastLogin
		for name, send := range map[string]func() *testenv.Response{
			"updateUser": func() *testenv.Response {
				return e.GraphQL(t, session, upd, map[string]any{"id": e.Alice.ID, "in": in, "cur": "alice passphrase"})
			},
			"patchUser": func() *testenv.Response {
				return e.GraphQL(t, session, pat, map[string]any{"id": e.Alice.ID, "cur": "alice passphrase", "p": []any{
					map[string]any{"op": "replace", "path": "/password", "value": "alice passphrase"}}})
			},
		} {
			r := send()
			field := name
			if v := fmt.Sprint(data(t, r, field)["version"]); v != "3" {
				t.Fatalf("%s with the stored password: version %s, want 3: %s", name, v, r.Body)
			}
			if r := e.GraphQL(t, session, `{ me { id } }`, nil); r.Status != 200 {
				t.Fatalf("session after %s with the stored password: %d", name, r.Status)
			}
		}
		for cur, code := range map[any]string{nil: "INVALID", "a guess": "UNAUTHENTICATED"} {
			r := e.GraphQL(t, session, pat, map[string]any{"id": e.Alice.ID, "cur": cur, "p": []any{
				map[string]any{"op": "replace", "path": "/password", "value": "another passphrase"}}})
			if !strings.Contains(string(r.Body), `"code":"`+code+`"`) {
				t.Fatalf("patchUser with currentPassword %v: %s, want %s", cur, r.Body, code)
			}
		}
		r = e.GraphQL(t, session, upd, map[string]any{"id": e.Alice.ID, "in": merge(in, "password", "another passphrase"), "cur": "alice passphrase"})
		if v := fmt.Sprint(data(t, r, "updateUser")["version"]); v != "4" {
			t.Fatalf("a new password: version %s, %s", v, r.Body)
		}
		if r := e.GraphQL(t, session, `{ me { id } }`, nil); r.Status != 401 {
			t.Fatalf("session after a new password: %d", r.Status)
		}
	})
}
