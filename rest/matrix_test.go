package rest_test

import (
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestNoProbing: a patch cannot read or test anything a GET does not show.
func TestNoProbing(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		for _, p := range []string{
			`[{"op":"test","path":"/password","value":"alice passphrase"}]`,
			`[{"op":"copy","from":"/passwordHash","path":"/description"}]`,
			`[{"op":"copy","from":"/password_hash","path":"/description"}]`,
			`[{"op":"test","path":"/version","value":2}]`,
			`[{"op":"move","from":"/apiUsage","path":"/description"}]`,
		} {
			r := patch(t, e, e.AliceToken, e.Alice.ID, p)
			if r.Status != 409 && r.Status != 400 {
				t.Fatalf("%s: %d", p, r.Status)
			}
			if strings.Contains(string(r.Body), "$2") {
				t.Fatalf("%s leaked a hash: %s", p, r.Body)
			}
		}
		// The one probe that succeeds is the one a GET answers too.
		if r := patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"test","path":"/password","value":null}]`); r.Status != 200 {
			t.Fatalf("test password null: %d", r.Status)
		}
	})
}

// TestAuthFailuresLookAlike: malformed, unknown, expired and revoked tokens
// get the same answer, so a client cannot tell which check failed.
func TestAuthFailuresLookAlike(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		_, revoked := e.NewUser(t, "R", "r@example.com", "UTC", usersvc.RoleUser)
		if _, err := e.Store.DB().Exec(`UPDATE tokens SET revoked = true WHERE hash = '` + usersvc.HashToken(revoked) + `'`); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, h := range []string{"Bearer usv_x", "Bearer " + usersvc.TokenPrefix + strings.Repeat("B", 43), "Bearer " + revoked, "Token abc"} {
			r := e.Do(t, "GET", path(e.Alice), "", "", "Authorization: "+h)
			bodies = append(bodies, fmt.Sprint(r.Status, " ", string(r.Body)))
		}
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Fatalf("answers differ: %q vs %q", bodies[0], b)
			}
		}
	})
}
