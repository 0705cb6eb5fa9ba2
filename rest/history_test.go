package rest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

func history(t *testing.T, e *testenv.Env, token, id string) []map[string]any {
	t.Helper()
	r := e.Do(t, "GET", "/api/users/"+id+"/history", token, "")
	if r.Status != 200 {
		t.Fatalf("history: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, h := range r.JSON["history"].([]any) {
		out = append(out, h.(map[string]any))
	}
	return out
}

func TestHistory(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		r := e.Do(t, "POST", "/api/users", e.AdminToken, `{"name":"Dan","email":"dan@example.com","country":"ES","timeZone":"UTC","password":"dan passphrase"}`)
		dan := r.JSON["id"].(string)
		var keyID string
		steps := []func(){
			func() {
				e.Do(t, "PUT", "/api/users/"+dan, e.AdminToken, `{"name":"Dan B","email":"dan@example.com","country":"ES","timeZone":"UTC","role":"admin"}`)
			},
			func() {
				patch(t, e, e.AdminToken, dan, `[{"op":"replace","path":"/password","value":"new dan passphrase"}]`)
			},
			func() { signIn(t, e, `{"userName":"dan@example.com","password":"new dan passphrase"}`) },
			func() {
				k := e.Do(t, "POST", "/api/users/"+dan+"/apiKeys", e.AdminToken, `{"label":"k"}`)
				keyID = fmt.Sprint(k.JSON["apiKey"].(map[string]any)["id"])
			},
			func() { e.Do(t, "DELETE", "/api/users/"+dan+"/apiKeys/"+keyID, e.AdminToken, "") },
			func() { e.Do(t, "DELETE", "/api/users/"+dan, e.AdminToken, "") },
			func() { e.Do(t, "POST", "/api/users/"+dan+"/restore", e.AdminToken, "") },
		}
		for _, step := range steps {
			e.Clock.Advance(time.Second)
			step()
		}
		h := history(t, e, e.AdminToken, dan)
		var actions []string
		for _, entry := range h {
			actions = append(actions, entry["action"].(string))
			if entry["address"] != "192.0.2.1" || entry["at"] == nil || entry["actor"] == nil {
				t.Fatalf("entry lacks who/when/where: %v", entry)
			}
		}
		want := "restore,delete,apiKey.revoke,apiKey.create,login,patch,replace,create"
		if strings.Join(actions, ",") != want {
			t.Fatalf("actions %v, want %s", actions, want)
		}
		b, _ := json.Marshal(h)
		if strings.Contains(string(b), "passphrase") || !strings.Contains(string(b), `"value":"password changed"`) {
			t.Fatalf("history shows a password: %s", b)
		}
		replace := h[6]["patch"].([]any)
		if len(replace) != 3 || !strings.Contains(fmt.Sprint(replace), "/modification") || !strings.Contains(fmt.Sprint(replace), "/role") || !strings.Contains(fmt.Sprint(replace), "/name") {
			t.Fatalf("replace patch: %v", replace)
		}
		if h[4]["actor"] != dan {
			t.Fatalf("login actor %v", h[4]["actor"])
		}
		// Self and admin read it; others do not; the cursor pages it.
		if r := e.Do(t, "GET", path(e.Bob)+"/history", e.AliceToken, ""); r.Status != 404 {
			t.Fatalf("other's history: %d", r.Status)
		}
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/description","value":"x"}]`)
		if mine := history(t, e, e.AliceToken, e.Alice.ID); len(mine) != 3 || mine[0]["action"] != "patch" || mine[1]["action"] != "token.create" {
			t.Fatalf("alice's history: %v", mine)
		}
		p1 := e.Do(t, "GET", "/api/users/"+dan+"/history?limit=5", e.AdminToken, "")
		next, _ := p1.JSON["nextCursor"].(string)
		p2 := e.Do(t, "GET", "/api/users/"+dan+"/history?limit=5&cursor="+next, e.AdminToken, "")
		if len(p1.JSON["history"].([]any)) != 5 || len(p2.JSON["history"].([]any)) != 3 || p2.JSON["nextCursor"] != nil {
			t.Fatalf("history pages: %s / %s", p1.Body, p2.Body)
		}
		// Append-only: no route edits or removes it.
		for _, m := range []string{"PUT", "PATCH", "DELETE", "POST"} {
			if r := e.Do(t, m, "/api/users/"+dan+"/history", e.AdminToken, "{}"); r.Status != 404 && r.Status != 405 {
				t.Fatalf("%s history: %d", m, r.Status)
			}
		}
	})
}
