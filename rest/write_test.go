package rest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"usersvc"
	"usersvc/internal/httpbody"
	"usersvc/internal/testenv"
	"usersvc/jsonpatch"
)

const jsonPatch = "Content-Type: application/json-patch+json"

// sampleValues is a new value for every writable field.
var sampleValues = map[string]string{
	"name": `"New Name"`, "email": `"new-%s@example.com"`, "country": `"FR"`, "timeZone": `"Asia/Tokyo"`,
	"description": `"d"`, "password": `"correct horse battery"`, "message": `"m"`, "tags": `{"k":"v"}`,
	"group": `"g"`, "deviceId": `"dev-1"`, "adminDevices": `5`, "from": `"2020-01-01T00:00:00Z"`,
	"expires": `"2099-01-01T00:00:00Z"`, "disabled": `true`, "disabledMessage": `"x"`,
	"privileges": `["p"]`, "role": `"admin"`, "deletedAt": `"2026-01-01T00:00:00Z"`, "dailyQuota": `7`, "userName": `"someone-%s"`, "scim": `{"title":"t"}`,
}

// putBody renders u's document with field set to val, as a PUT body.
func putBody(t *testing.T, r *testenv.Response, field, val string) string {
	t.Helper()
	doc := map[string]any{}
	for k, v := range r.JSON {
		doc[k] = v
	}
	doc[field] = json.RawMessage(val)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFieldAccess checks who may write each field (testenv.FieldWriters) for self,
// another user and an admin, through PUT and through each route a patch
// can take.
func TestFieldAccess(t *testing.T) {
	writers := testenv.CheckFieldWriters(t, sampleValues)
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		n := 0
		for field, sample := range sampleValues {
			access := writers[field]
			for _, route := range []string{"put", "replace", "add", "copy", "move", "whole"} {
				for _, who := range []string{"self", "other", "admin"} {
					n++
					t.Run(fmt.Sprintf("%s/%s/%s", field, route, who), func(t *testing.T) {
						val := sample
						if field == "email" || field == "userName" { // sign-in identifiers: unique
							val = fmt.Sprintf(sample, fmt.Sprint(n))
						}
						target, tok := e.NewUser(t, "T", fmt.Sprintf("t%d@example.com", n), "UTC", usersvc.RoleUser)
						caller := map[string]string{"self": tok, "other": e.BobToken, "admin": e.AdminToken}[who]
						before := e.Do(t, "GET", path(target), e.AdminToken, "")
						var r *testenv.Response
						switch route {
						case "put":
							r = e.Do(t, "PUT", path(target), caller, putBody(t, before, field, val))
						case "replace":
							r = e.Do(t, "PATCH", path(target), caller, `[{"op":"replace","path":"/`+field+`","value":`+val+`}]`, jsonPatch)
						case "add":
							r = e.Do(t, "PATCH", path(target), caller, `[{"op":"add","path":"/`+field+`","value":`+val+`}]`, jsonPatch)
						case "copy": // stash the value in description, then copy it over
							r = e.Do(t, "PATCH", path(target), caller, `[{"op":"add","path":"/tmp","value":`+val+`},{"op":"copy","from":"/tmp","path":"/`+field+`"},{"op":"remove","path":"/tmp"}]`, jsonPatch)
						case "move":
							r = e.Do(t, "PATCH", path(target), caller, `[{"op":"add","path":"/tmp","value":`+val+`},{"op":"move","from":"/tmp","path":"/`+field+`"}]`, jsonPatch)
						case "whole":
							r = e.Do(t, "PATCH", path(target), caller, `[{"op":"replace","path":"","value":`+putBody(t, before, field, val)+`}]`, jsonPatch)
						}
						want := 200
						switch {
						case who == "other":
							want = 404
						case who == "self" && access != "self":
							want = 403
						case who == "admin" && access == "undelete": // to a time: only null is allowed
							want = 400
						}
						if r.Status != want {
							t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
						}
						after := e.Do(t, "GET", path(target), e.AdminToken, "")
						changed := after.Header.Get("ETag") != before.Header.Get("ETag")
						if (want == 200) != changed {
							t.Fatalf("stored user changed=%v with status %d", changed, r.Status)
						}
						if want == 200 && r.JSON["password"] != nil {
							t.Fatalf("password echoed: %s", r.Body)
						}
						if want == 403 && !strings.Contains(r.JSON["error"].(string), field) {
							t.Fatalf("403 does not name %q: %s", field, r.Body)
						}
					})
				}
			}
		}
	})
}

func TestPutRules(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		base := `"name":"Alice","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid"`
		for _, tc := range []struct {
			name, body string
			status     int
			field      string
		}{
			{"minimal body keeps role and clears description", `{` + base + `}`, 200, ""},
			{"read-only fields are ignored", `{` + base + `,"id":"` + e.Alice.ID + `","creation":"2000-01-01T00:00:00Z","success":true,"apiUsage":9,"apiDailyUsage":9,"lastLogin":null,"modification":"x"}`, 200, ""},
			{"different id", `{` + base + `,"id":"usr-other"}`, 400, "id"},
			{"unknown field", `{` + base + `,"favourite":"x"}`, 400, "favourite"},
			{"case-folded key", `{` + base + `,"Email":"x@example.com"}`, 400, "Email"},
			{"ROLE", `{` + base + `,"ROLE":"admin"}`, 400, "ROLE"},
			{"duplicate key", `{` + base + `,"name":"Mallory"}`, 400, "name"},
			{"missing timeZone", `{"name":"A","email":"alice@example.com","country":"ES"}`, 400, "timeZone"},
			{"bad email", `{"name":"A","email":"A <a@example.com>","country":"ES","timeZone":"UTC"}`, 400, "email"},
			{"email taken, other case", `{"name":"A","email":"BOB@example.com","country":"ES","timeZone":"UTC"}`, 409, "email"},
			{"bad zone", `{"name":"A","email":"alice@example.com","country":"ES","timeZone":"Nowhere/City"}`, 400, "timeZone"},
			{"short password", `{` + base + `,"password":"short"}`, 400, "password"},
			{"malformed JSON", `{` + base, 400, ""},
			{"admin-only field, same value is fine", `{` + base + `,"role":"user","tags":{},"disabled":false}`, 200, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.Do(t, "GET", path(e.Alice), e.AdminToken, "")
				r := e.Do(t, "PUT", path(e.Alice), e.AliceToken, tc.body)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if tc.field != "" && r.JSON["field"] != tc.field {
					t.Fatalf("field %v, want %q: %s", r.JSON["field"], tc.field, r.Body)
				}
				if tc.status != 200 {
					after := e.Do(t, "GET", path(e.Alice), e.AdminToken, "")
					if after.Header.Get("ETag") != before.Header.Get("ETag") {
						t.Fatalf("a refused write changed the user")
					}
				}
			})
		}
		if r := e.Do(t, "PUT", path(e.Alice), e.AliceToken, `{`+base+`}`, "Accept-Language: es-ES,es;q=0.9", "Content-Type: text/plain"); r.Status != 415 {
			t.Fatalf("text/plain PUT: %d", r.Status)
		}
		big := `{` + base + `,"description":"` + strings.Repeat("x", httpbody.MaxBytes) + `"}`
		if r := e.Do(t, "PUT", path(e.Alice), e.AliceToken, big); r.Status != 413 {
			t.Fatalf("oversized body: %d", r.Status)
		}
	})
}

func TestPasswordIsWriteOnly(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, `[{"op":"replace","path":"/password","value":"a long passphrase"}]`, jsonPatch)
		if r.Status != 200 || r.JSON["password"] != nil || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("set password: %d %s", r.Status, r.Body)
		}
		var hash string
		if err := e.Store.DB().QueryRow(`SELECT password_hash FROM users WHERE id = '` + e.Alice.ID + `'`).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$2") || strings.Contains(hash, "passphrase") {
			t.Fatalf("stored password is not a bcrypt hash: %q", hash)
		}
		// A test op cannot probe the password: the document says null.
		if r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, `[{"op":"test","path":"/password","value":"a long passphrase"}]`, jsonPatch); r.Status != 409 {
			t.Fatalf("probing the password: %d", r.Status)
		}
		// null leaves it unchanged.
		if r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, `[{"op":"test","path":"/password","value":null}]`, jsonPatch); r.Status != 200 || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("no-op patch: %d %s", r.Status, r.Header.Get("ETag"))
		}
	})
}

func TestPatchRules(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			name, body, ctype string
			status            int
		}{
			{"json-patch", `[{"op":"replace","path":"/description","value":"hi"}]`, "application/json-patch+json", 200},
			{"application/json array", `[{"op":"replace","path":"/description","value":"hi 2"}]`, "application/json; charset=utf-8", 200},
			{"merge patch", `{"description":"merged","tags":null}`, "application/merge-patch+json", 200},
			{"other type", `[]`, "text/plain", 415},
			{"no type", `[]`, "", 415},
			{"empty patch", `[]`, "application/json-patch+json", 400},
			{"empty merge patch", `{}`, "application/merge-patch+json", 400},
			{"object as json-patch", `{"op":"add"}`, "application/json-patch+json", 400},
			{"bad pointer", `[{"op":"add","path":"description","value":"x"}]`, "application/json-patch+json", 400},
			{"unknown op", `[{"op":"ADD","path":"/description","value":"x"}]`, "application/json-patch+json", 400},
			{"missing value", `[{"op":"add","path":"/description"}]`, "application/json-patch+json", 400},
			{"missing path", `[{"op":"remove","path":"/nope"}]`, "application/json-patch+json", 400},
			{"unknown field added", `[{"op":"add","path":"/nope","value":1}]`, "application/json-patch+json", 400},
			{"failed test, nothing saved", `[{"op":"replace","path":"/description","value":"lost"},{"op":"test","path":"/name","value":"Mallory"}]`, "application/json-patch+json", 409},
			{"too many ops", "[" + strings.TrimSuffix(strings.Repeat(`{"op":"test","path":"/name","value":"Alice"},`, jsonpatch.MaxOps+1), ",") + "]", "application/json-patch+json", 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
				var hdrs []string
				if tc.ctype != "" {
					hdrs = append(hdrs, "Content-Type: "+tc.ctype)
				} else {
					hdrs = append(hdrs, "Content-Type:")
				}
				r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, tc.body, hdrs...)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if tc.status == 415 && r.Header.Get("Accept-Patch") != "application/json-patch+json, application/merge-patch+json" {
					t.Fatalf("Accept-Patch %q", r.Header.Get("Accept-Patch"))
				}
				if tc.status != 200 {
					if after := e.Do(t, "GET", path(e.Alice), e.AliceToken, ""); after.Header.Get("ETag") != before.Header.Get("ETag") {
						t.Fatal("a failed patch changed the user")
					}
				}
				if tc.status == 400 && tc.ctype == "application/json-patch+json" && strings.Contains(tc.body, "op") && tc.name != "too many ops" && tc.name != "unknown field added" && tc.name != "object as json-patch" {
					if !strings.HasPrefix(r.JSON["error"].(string), "Invalid patch operation (operation 0:") {
						t.Fatalf("error %q does not say which operation", r.JSON["error"])
					}
				}
			})
		}
		r := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if r.JSON["description"] != "merged" {
			t.Fatalf("merge patch result: %s", r.Body)
		}
	})
}

func TestPreconditions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		p := `[{"op":"replace","path":"/description","value":"v"}]`
		if r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, p, jsonPatch, `If-Match: "v7"`); r.Status != 412 || r.JSON["error"] != "Precondition Failed" {
			t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, p, jsonPatch, `If-Match: garbage`); r.Status != 412 {
			t.Fatalf("garbage If-Match: %d", r.Status)
		}
		r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, p, jsonPatch, `If-Match: "v1"`)
		if r.Status != 200 || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("matching If-Match: %d %s", r.Status, r.Header.Get("ETag"))
		}
		// A write that changes nothing keeps version and modification.
		again := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, p, jsonPatch, `If-Match: *`)
		if again.Header.Get("ETag") != `"v2"` || again.JSON["modification"] != r.JSON["modification"] {
			t.Fatalf("no-op write moved the version: %s", again.Header.Get("ETag"))
		}
		body := putBody(t, again, "description", `"w"`)
		if r := e.Do(t, "PUT", path(e.Alice), e.AliceToken, body, `If-Match: "v1"`); r.Status != 412 {
			t.Fatalf("PUT stale If-Match: %d", r.Status)
		}
	})
}

// TestRetriedWriteAfterLostAnswer: a client whose write committed but whose
// answer was lost (a 503 from the balancer, a dropped connection) retries
// it with the version it had read: the retry is 412 (GraphQL
// PRECONDITION_FAILED), not a second change, and the history holds the
// change once (docs/deploy.md, crash semantics).
func TestRetriedWriteAfterLostAnswer(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		before := len(history(t, e, e.AdminToken, e.Alice.ID))
		p := `[{"op":"replace","path":"/description","value":"once"}]`
		_ = e.Do(t, "PATCH", path(e.Alice), e.AliceToken, p, jsonPatch, `If-Match: "v1"`) // committed; the answer is lost
		if r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, p, jsonPatch, `If-Match: "v1"`); r.Status != 412 || r.JSON["success"] != false {
			t.Fatalf("REST retry: %d %s, want 412", r.Status, r.Body)
		}
		const m = `mutation($id: ID!) { patchUser(id: $id, ifVersion: 2, patch: [{op: replace, path: "/name", value: "Twice?"}]) { version } }`
		_ = e.GraphQL(t, e.AliceToken, m, map[string]any{"id": e.Alice.ID}) // committed; the answer is lost
		if r := e.GraphQL(t, e.AliceToken, m, map[string]any{"id": e.Alice.ID}); !strings.Contains(string(r.Body), `"code":"PRECONDITION_FAILED"`) {
			t.Fatalf("GraphQL retry: %s, want PRECONDITION_FAILED", r.Body)
		}
		r := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if r.Header.Get("ETag") != `"v3"` || r.JSON["description"] != "once" || r.JSON["name"] != "Twice?" {
			t.Fatalf("after the retries: %s %s", r.Header.Get("ETag"), r.Body)
		}
		if n := len(history(t, e, e.AdminToken, e.Alice.ID)); n != before+2 {
			t.Fatalf("history grew by %d entries, want 2", n-before)
		}
	})
}

func TestConcurrentPatches(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const n = 50
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := e.Do(t, "PATCH", path(e.Alice), e.AdminToken, fmt.Sprintf(`[{"op":"add","path":"/tags/t%d","value":"%d"}]`, i, i), jsonPatch)
				if r.Status != 200 {
					t.Errorf("patch %d: %d %s", i, r.Status, r.Body)
				}
			}(i)
		}
		wg.Wait()
		r := e.Do(t, "GET", path(e.Alice), e.AdminToken, "")
		tags := r.JSON["tags"].(map[string]any)
		if len(tags) != n {
			t.Fatalf("%d tags after %d concurrent patches: %v", len(tags), n, tags)
		}
		if r.Header.Get("ETag") != fmt.Sprintf(`"v%d"`, n+1) {
			t.Fatalf("ETag %s after %d writes", r.Header.Get("ETag"), n)
		}
	})
}

func TestSpanishMessages(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct{ method, path, body, want string }{
			{"GET", "/api/users/usr-nope", "", "Usuario no encontrado."},
			{"PATCH", path(e.Alice), `[{"op":"replace","path":"/email","value":"not an email"}]`, "Correo electrónico inválido."},
			{"PATCH", path(e.Alice), `[{"op":"nope","path":"/email"}]`, "Operación de parche inválida"},
		} {
			r := e.Do(t, tc.method, tc.path, e.AliceToken, tc.body, "Accept-Language: es-MX,es;q=0.9,en;q=0.5", jsonPatch)
			if !strings.HasPrefix(r.JSON["error"].(string), tc.want) || r.Header.Get("Content-Language") != "es" {
				t.Errorf("%s %s: %s", tc.method, tc.path, r.Body)
			}
		}
	})
}
