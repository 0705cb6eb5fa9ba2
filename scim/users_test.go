package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

const users = "/scim/v2/Users"

// newSCIMUser posts a User and returns its id.
func newSCIMUser(t *testing.T, e *testenv.Env, body string) string {
	t.Helper()
	r := e.Do(t, "POST", users, e.AdminToken, body)
	if r.Status != 201 {
		t.Fatalf("POST: %d %s", r.Status, r.Body)
	}
	return r.JSON["id"].(string)
}

func userBody(name string, extra string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name + `","active":true,` +
		`"name":{"givenName":"G","familyName":"F"},"emails":[{"value":"` + strings.ToLower(name) + `@example.com","type":"work","primary":true}]` + extra + `}`
}

// scimError checks an answer is SCIM's error with status and scimType.
func scimError(t *testing.T, r *testenv.Response, status int, scimType string) {
	t.Helper()
	if r.Status != status || r.JSON["status"] != fmt.Sprint(status) || scimType != "" && r.JSON["scimType"] != scimType ||
		!strings.Contains(fmt.Sprint(r.JSON["schemas"]), "urn:ietf:params:scim:api:messages:2.0:Error") || r.JSON["detail"] == "" {
		t.Fatalf("want %d %s, got %d %s", status, scimType, r.Status, r.Body)
	}
}

// TestUserLifecycle: create, read, ETag and If-Match (412 when stale),
// replace, the Okta and Entra ID PATCH shapes, delete; every write is a
// version and a history entry, and a stale write changes nothing.
func TestUserLifecycle(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		r := e.Do(t, "POST", users, e.AdminToken, userBody("Jane.Doe", `,"title":"Engineer","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"Department":"R&D","manager":{"value":"m1"}}`),
			"Content-Type: application/scim+json")
		if r.Status != 201 || r.Header.Get("Location") != "http://example.com/scim/v2/Users/"+fmt.Sprint(r.JSON["id"]) || r.Header.Get("ETag") != `W/"1"` {
			t.Fatalf("POST: %d %v %s", r.Status, r.Header, r.Body)
		}
		id := r.JSON["id"].(string)
		ext := r.JSON["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
		if ext["department"] != "R&D" || r.JSON["active"] != true || r.JSON["displayName"] != "G F" {
			t.Fatalf("POST answer: %s", r.Body)
		}
		// The user in every API: userName, email from the primary email, name.
		u, err := e.Svc.User(usersvc.SystemContext(context.Background()), id)
		if err != nil || *u.UserName != "Jane.Doe" || u.Email != "jane.doe@example.com" || u.Name != "G F" || u.Country != "ZZ" || u.TimeZone != "UTC" {
			t.Fatalf("stored: %+v %v", u, err)
		}
		get := e.Do(t, "GET", users+"/"+id, e.AdminToken, "")
		if get.Status != 200 || get.JSON["meta"].(map[string]any)["version"] != `W/"1"` {
			t.Fatalf("GET: %d %s", get.Status, get.Body)
		}
		// If-Match: a stale version is 412 and changes nothing.
		okta := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
		scimError(t, e.Do(t, "PATCH", users+"/"+id, e.AdminToken, okta, `If-Match: W/"7"`), 412, "")
		scimError(t, e.Do(t, "DELETE", users+"/"+id, e.AdminToken, "", `If-Match: W/"7"`), 412, "")
		scimError(t, e.Do(t, "PUT", users+"/"+id, e.AdminToken, userBody("Jane.Doe", ""), `If-Match: "x"`), 412, "")
		// Okta deactivates without a path; the answer is 204 with the ETag.
		p := e.Do(t, "PATCH", users+"/"+id, e.AdminToken, okta, `If-Match: W/"1"`)
		if p.Status != 204 || p.Header.Get("ETag") != `W/"2"` {
			t.Fatalf("Okta PATCH: %d %v %s", p.Status, p.Header, p.Body)
		}
		// Entra ID: op names in any case, "False" as a string, paths with a
		// value filter (an element made when none matches), the extension.
		entra := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"active","value":"True"},
			{"op":"Add","path":"emails[type eq \"home\"].value","value":"jane@home.example"},
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"jane.d@example.com"},
			{"op":"Replace","path":"name.familyName","value":"Smith"},
			{"op":"Remove","path":"title"},
			{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Ops"}]}`
		p = e.Do(t, "PATCH", users+"/"+id+"?attributes=emails,active,name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", e.AdminToken, entra)
		if p.Status != 200 || p.JSON["active"] != true || p.JSON["title"] != nil || p.JSON["displayName"] != nil {
			t.Fatalf("Entra PATCH: %d %s", p.Status, p.Body)
		}
		emails, _ := json.Marshal(p.JSON["emails"])
		if string(emails) != `[{"primary":true,"type":"work","value":"jane.d@example.com"},{"type":"home","value":"jane@home.example"}]` {
			t.Fatalf("emails after PATCH: %s", emails)
		}
		if n := p.JSON["name"].(map[string]any); n["familyName"] != "Smith" || n["givenName"] != nil {
			t.Fatalf("name selection: %v", n)
		}
		if d := p.JSON["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any); d["department"] != "Ops" || d["manager"] != nil {
			t.Fatalf("extension selection: %v", d)
		}
		u, _ = e.Svc.User(usersvc.SystemContext(context.Background()), id)
		if u.Email != "jane.d@example.com" || u.Disabled || u.Version != 3 {
			t.Fatalf("after PATCH: %+v", u)
		}
		// Atomic: one bad operation and nothing is saved.
		bad := `{"Operations":[{"op":"replace","path":"displayName","value":"Changed"},{"op":"replace","path":"nosuch","value":1}]}`
		scimError(t, e.Do(t, "PATCH", users+"/"+id, e.AdminToken, bad), 400, "invalidPath")
		if u2, _ := e.Svc.User(usersvc.SystemContext(context.Background()), id); u2.Version != 3 || u2.Name == "Changed" {
			t.Fatalf("a failed PATCH saved: %+v", u2)
		}
		// PUT replaces: what it leaves out is gone (title, the extension).
		put := e.Do(t, "PUT", users+"/"+id, e.AdminToken, userBody("jane.doe", `,"displayName":"Jane"`), `If-Match: W/"3"`)
		if put.Status != 200 || put.JSON["displayName"] != "Jane" || put.JSON["userName"] != "jane.doe" || put.JSON["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] != nil {
			t.Fatalf("PUT: %d %s", put.Status, put.Body)
		}
		// History: create, patch, patch, replace (every write on the one path).
		h := e.Do(t, "GET", "/api/users/"+id+"/history", e.AdminToken, "")
		if got := fmt.Sprint(actions(h)); got != "[replace patch patch create]" {
			t.Fatalf("history: %s", got)
		}
		// DELETE is the soft delete; the user leaves SCIM and REST keeps it.
		if d := e.Do(t, "DELETE", users+"/"+id, e.AdminToken, "", `If-Match: W/"4"`); d.Status != 204 {
			t.Fatalf("DELETE: %d %s", d.Status, d.Body)
		}
		scimError(t, e.Do(t, "GET", users+"/"+id, e.AdminToken, ""), 404, "")
		scimError(t, e.Do(t, "DELETE", users+"/"+id, e.AdminToken, ""), 404, "")
		if g := e.Do(t, "GET", "/api/users/"+id, e.AdminToken, ""); g.Status != 200 || g.JSON["deletedAt"] == nil {
			t.Fatalf("REST after DELETE: %d %s", g.Status, g.Body)
		}
		// A user SCIM does not list (no userName) is not found through it.
		scimError(t, e.Do(t, "GET", users+"/"+e.Alice.ID, e.AdminToken, ""), 404, "")
		scimError(t, e.Do(t, "PATCH", users+"/"+e.Alice.ID, e.AdminToken, okta), 404, "")
	})
}

func actions(r *testenv.Response) []string {
	var out []string
	entries, _ := r.JSON["history"].([]any)
	for _, e := range entries {
		out = append(out, e.(map[string]any)["action"].(string))
	}
	return out
}

// TestBadRequests: garbage is 400 with SCIM's error and scimType, and
// changes nothing; a taken userName (in any case, or another user's
// email) is 409 uniqueness.
func TestBadRequests(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		id := newSCIMUser(t, e, userBody("Taken", ""))
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			scimType                 string
		}{
			{"not JSON", "POST", users, `{"userName": tru`, 400, "invalidSyntax"},
			{"not an object", "POST", users, `[1]`, 400, "invalidSyntax"},
			{"no userName", "POST", users, `{"displayName":"x"}`, 400, "invalidValue"},
			{"wrong type", "POST", users, `{"userName":"x","active":"maybe"}`, 400, "invalidValue"},
			{"emails not objects", "POST", users, `{"userName":"x","emails":[1]}`, 400, "invalidValue"},
			{"short password", "POST", users, `{"userName":"x","password":"short"}`, 400, "invalidValue"},
			{"userName taken", "POST", users, userBody("taken", ""), 409, "uniqueness"},
			{"userName is another user's email", "POST", users, userBody("ALICE@example.com", ""), 409, "uniqueness"},
			{"PUT no userName", "PUT", users + "/" + id, `{"userame":"x"}`, 400, "invalidValue"},
			{"PATCH no operations", "PATCH", users + "/" + id, `{"Operations":[]}`, 400, "invalidSyntax"},
			{"PATCH bad op", "PATCH", users + "/" + id, `{"Operations":[{"op":"move","path":"title"}]}`, 400, "invalidSyntax"},
			{"PATCH remove without path", "PATCH", users + "/" + id, `{"Operations":[{"op":"remove"}]}`, 400, "noTarget"},
			{"PATCH bad path", "PATCH", users + "/" + id, `{"Operations":[{"op":"add","path":"emails[type eq","value":"x"}]}`, 400, "invalidPath"},
			{"PATCH read-only", "PATCH", users + "/" + id, `{"Operations":[{"op":"add","path":"groups","value":[{"value":"g"}]}]}`, 400, "mutability"},
			{"PATCH no match", "PATCH", users + "/" + id, `{"Operations":[{"op":"replace","path":"emails[type ne \"work\"].value","value":"a@b.c"}]}`, 400, "noTarget"},
			{"PATCH userName removed", "PATCH", users + "/" + id, `{"Operations":[{"op":"remove","path":"userName"}]}`, 400, "invalidValue"},
			{"PATCH userName taken", "PATCH", users + "/" + id, `{"Operations":[{"op":"replace","path":"userName","value":"bob@EXAMPLE.com"}]}`, 409, "uniqueness"},
			{"media type", "POST", users, `{}`, 415, ""},
			{"bad count", "GET", users + "?count=ten", "", 400, "invalidValue"},
			{"bad attributes", "GET", users + "?attributes=nosuch", "", 400, "invalidPath"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var headers []string
				if tc.status == 415 {
					headers = append(headers, "Content-Type: text/plain")
				}
				scimError(t, e.Do(t, tc.method, tc.path, e.AdminToken, tc.body, headers...), tc.status, tc.scimType)
			})
		}
		if u, _ := e.Svc.User(usersvc.SystemContext(context.Background()), id); u.Version != 1 {
			t.Fatalf("a refused request changed the user: version %d", u.Version)
		}
		if r := e.Do(t, "GET", users, e.AdminToken, ""); r.JSON["totalResults"] != json.Number("1") {
			t.Fatalf("a refused request created a user: %s", r.Body)
		}
	})
}

// TestDeactivateLinkedUser: a user linked by giving them a userName (no
// SCIM attributes of their own) is deactivated and reactivated with
// Okta's PATCH: the history holds the change of disabled alone, the user
// keeps no scim object, and SCIM still shows their email.
func TestDeactivateLinkedUser(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		id := e.Alice.ID
		if r := e.Do(t, "PATCH", "/api/users/"+id, e.AdminToken, `[{"op":"add","path":"/userName","value":"alice.l"}]`, "Content-Type: application/json-patch+json"); r.Status != 200 {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		for _, active := range []bool{false, true} {
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%t}}]}`, active)
			if r := e.Do(t, "PATCH", users+"/"+id, e.AdminToken, body); r.Status != 204 {
				t.Fatalf("PATCH active %v: %d %s", active, r.Status, r.Body)
			}
			h := e.Do(t, "GET", "/api/users/"+id+"/history?limit=1", e.AdminToken, "")
			entries, _ := h.JSON["history"].([]any)
			if len(entries) != 1 {
				t.Fatalf("history: %s", h.Body)
			}
			var paths []string
			for _, op := range entries[0].(map[string]any)["patch"].([]any) {
				paths = append(paths, op.(map[string]any)["path"].(string))
			}
			if got := strings.Join(paths, " "); got != "/disabled" {
				t.Fatalf("active %v: history paths %q, want the change of disabled alone", active, got)
			}
		}
		u, err := e.Svc.User(usersvc.SystemContext(context.Background()), id)
		if err != nil || u.SCIM != nil || u.Disabled {
			t.Fatalf("stored: scim %v disabled %v, %v", u.SCIM, u.Disabled, err)
		}
		g := e.Do(t, "GET", users+"/"+id, e.AdminToken, "")
		if emails := fmt.Sprint(g.JSON["emails"]); g.Status != 200 || emails != "[map[primary:true value:"+u.Email+"]]" {
			t.Fatalf("GET: %d %s", g.Status, g.Body)
		}
	})
}
