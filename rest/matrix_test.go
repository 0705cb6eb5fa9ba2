package rest_test

import (
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestObjectLevelMatrix runs every REST operation on a target user as its
// owner, as another user, as an admin, and with a deleted user's token.
func TestObjectLevelMatrix(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		_, deletedTok := e.NewUser(t, "Del", "del@example.com", "UTC", usersvc.RoleUser)
		delUser := e.Do(t, "GET", "/api/users?email=del@example.com", e.AdminToken, "")
		delID := ids(t, delUser)[0]
		if r := e.Do(t, "DELETE", "/api/users/"+delID, e.AdminToken, ""); r.Status != 200 {
			t.Fatal(r.Status)
		}
		type op struct {
			name, method, suffix, body, ctype string
			owner, admin                      int // expected statuses; other user: 404, deleted token: 403
		}
		ops := []op{
			{"get", "GET", "", "", "", 200, 200},
			{"put", "PUT", "", `{"name":"T","email":"%s","country":"ES","timeZone":"UTC"}`, "application/json", 200, 200},
			{"patch", "PATCH", "", `[{"op":"add","path":"/description","value":"x"}]`, "application/json-patch+json", 200, 200},
			{"merge", "PATCH", "", `{"description":"y"}`, "application/merge-patch+json", 200, 200},
			{"history", "GET", "/history", "", "", 200, 200},
			{"list keys", "GET", "/apiKeys", "", "", 200, 200},
			{"create key", "POST", "/apiKeys", `{"label":"l"}`, "application/json", 201, 201},
			{"revoke key", "DELETE", "/apiKeys/999999", "", "", 404, 404},
			{"restore (of a live user: no change)", "POST", "/restore", "", "", 200, 200},
			{"delete", "DELETE", "", "", "", 200, 200},
		}
		n := 0
		for _, o := range ops {
			for _, who := range []string{"owner", "other", "admin", "deleted"} {
				n++
				t.Run(o.name+"/"+who, func(t *testing.T) {
					email := fmt.Sprintf("m%d@example.com", n)
					target, tok := e.NewUser(t, "T", email, "UTC", usersvc.RoleUser)
					caller := map[string]string{"owner": tok, "other": e.BobToken, "admin": e.AdminToken, "deleted": deletedTok}[who]
					want := map[string]int{"owner": o.owner, "other": 404, "admin": o.admin, "deleted": 403}[who]
					body := o.body
					if strings.Contains(body, "%s") {
						body = fmt.Sprintf(body, email)
					}
					var hdrs []string
					if o.ctype != "" {
						hdrs = append(hdrs, "Content-Type: "+o.ctype)
					}
					before := e.Do(t, "GET", path(target), e.AdminToken, "")
					r := e.Do(t, o.method, path(target)+o.suffix, caller, body, hdrs...)
					if r.Status != want {
						t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
					}
					if want >= 400 {
						after := e.Do(t, "GET", path(target), e.AdminToken, "")
						if after.Header.Get("ETag") != before.Header.Get("ETag") {
							t.Fatal("a refused request changed the user")
						}
					}
				})
			}
		}
		// Admin-only operations, tried by a non-admin.
		if r := e.Do(t, "POST", "/api/users", e.AliceToken, `{"name":"X","email":"x1@example.com","country":"ES","timeZone":"UTC"}`); r.Status != 403 {
			t.Fatalf("create by non-admin: %d", r.Status)
		}
		if r := e.Do(t, "GET", "/api/users?deleted=true", e.AliceToken, ""); len(ids(t, r)) != 0 {
			t.Fatalf("non-admin lists deleted users: %s", r.Body)
		}
	})
}

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
