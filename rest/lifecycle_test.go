package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

func patch(t *testing.T, e *testenv.Env, token, id, body string) *testenv.Response {
	t.Helper()
	return e.Do(t, "PATCH", "/api/users/"+id, token, body, jsonPatch)
}

func ids(t *testing.T, r *testenv.Response) []string {
	t.Helper()
	users, ok := r.JSON["users"].([]any)
	if !ok {
		t.Fatalf("no users in %s", r.Body)
	}
	var out []string
	for _, u := range users {
		out = append(out, u.(map[string]any)["id"].(string))
	}
	return out
}

func TestListUsers(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AdminToken, e.Bob.ID, `[{"op":"replace","path":"/group","value":"night"},{"op":"replace","path":"/disabled","value":true}]`)
		gone, _ := e.NewUser(t, "Gone Person", "gone@example.com", "UTC", usersvc.RoleUser)
		if r := e.Do(t, "DELETE", path(gone), e.AdminToken, ""); r.Status != 200 {
			t.Fatalf("delete: %d", r.Status)
		}
		for _, tc := range []struct {
			name, token, query string
			want               []string
			status             int
		}{
			{"admin sees live users", e.AdminToken, "", []string{e.Admin.ID, e.Alice.ID, e.Bob.ID}, 200},
			{"a user sees only themselves", e.AliceToken, "", []string{e.Alice.ID}, 200},
			{"a user's filters stay within themselves", e.AliceToken, "?email=bob@example.com", nil, 200},
			{"email, any case", e.AdminToken, "?email=ALICE@example.com", []string{e.Alice.ID}, 200},
			{"group", e.AdminToken, "?group=night", []string{e.Bob.ID}, 200},
			{"role", e.AdminToken, "?role=admin", []string{e.Admin.ID}, 200},
			{"disabled", e.AdminToken, "?disabled=true", []string{e.Bob.ID}, 200},
			{"deleted", e.AdminToken, "?deleted=true", []string{gone.ID}, 200},
			{"deleted, for a user", e.AliceToken, "?deleted=true", nil, 200},
			{"search name, any case", e.AdminToken, "?search=ALI", []string{e.Alice.ID}, 200},
			{"search email", e.AdminToken, "?search=bob%40ex", []string{e.Bob.ID}, 200},
			{"search is literal", e.AdminToken, "?search=%25", nil, 200},
			{"newest first", e.AdminToken, "?order=desc", []string{e.Bob.ID, e.Alice.ID, e.Admin.ID}, 200},
			{"limit 0", e.AdminToken, "?limit=0", nil, 400},
			{"limit 101", e.AdminToken, "?limit=101", nil, 400},
			{"bad cursor", e.AdminToken, "?cursor=%21%21", nil, 400},
			{"bad boolean", e.AdminToken, "?disabled=maybe", nil, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "GET", "/api/users"+tc.query, tc.token, "")
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if tc.status != 200 {
					return
				}
				got := ids(t, r)
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				if _, ok := r.JSON["nextCursor"]; !ok {
					t.Fatalf("nextCursor missing: %s", r.Body)
				}
			})
		}
	})
}

// TestPagination pages through 250 users while more are added between
// pages: every user that existed at the start appears exactly once.
func TestPagination(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		want := map[string]bool{e.Admin.ID: true, e.Alice.ID: true, e.Bob.ID: true}
		mk := func(i int) string {
			e.Clock.Advance(time.Millisecond)
			u, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: fmt.Sprint("P", i), Email: fmt.Sprintf("p%d@example.com", i), Country: "ES", TimeZone: "UTC"}.Document())
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}
		for i := 0; i < 247; i++ {
			want[mk(i)] = true
		}
		seen := map[string]int{}
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			q := "/api/users?limit=100"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.Do(t, "GET", q, e.AdminToken, "")
			if r.Status != 200 {
				t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
			}
			for _, id := range ids(t, r) {
				seen[id]++
			}
			for i := 0; i < 5; i++ { // users arrive while the client pages
				mk(1000 + pages*10 + i)
			}
			next, _ := r.JSON["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("user %s seen %d times", id, seen[id])
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("user %s seen %d times", id, n)
			}
		}
	})
}

// TestListQueryCount checks that a page costs one statement whatever its
// size.
func TestListQueryCount(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		for i := 0; i < 120; i++ {
			if _, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: "Q", Email: fmt.Sprintf("q%d@example.com", i), Country: "ES", TimeZone: "UTC"}.Document()); err != nil {
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
		page := func(limit int) int64 {
			n.Store(0)
			r := testenv.Do(t, h, "GET", "/api/users?limit="+strconv.Itoa(limit), e.AdminToken, "")
			if got := len(ids(t, r)); got != limit {
				t.Fatalf("%d users, want %d", got, limit)
			}
			return n.Load()
		}
		// count is the fewer statements of two pages: without a change-log
		// follower a cached token check lives one second, so on a slow
		// machine one page may read the token again; the entry it refills
		// lives another second, so never both.
		count := func(limit int) int64 {
			testenv.Do(t, h, "GET", "/api/users/"+e.Admin.ID, e.AdminToken, "") // warm: token last-use written
			return min(page(limit), page(limit))
		}
		// One statement, the page (REST answers no total count), whatever
		// its size: the token check is cached and usage is counted in
		// memory.
		if small, big := count(10), count(100); small != 1 || big != 1 {
			t.Fatalf("statements: %d for 10 users, %d for 100; want 1 each", small, big)
		}
	})
}

func TestCreateDeleteRestore(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		body := `{"name":"Carol","email":"carol@example.com","country":"FR","timeZone":"Europe/Paris","tags":{"team":"ops"},"password":"carol's passphrase"}`
		if r := e.Do(t, "POST", "/api/users", e.AliceToken, body); r.Status != 403 {
			t.Fatalf("non-admin create: %d", r.Status)
		}
		for _, bad := range []string{`{"name":"X"}`, `{"name":"X","email":"bad","country":"FR","timeZone":"UTC"}`, `{"name":"X","email":"x@example.com","country":"FR","timeZone":"UTC","Role":"admin"}`} {
			if r := e.Do(t, "POST", "/api/users", e.AdminToken, bad); r.Status != 400 {
				t.Fatalf("create %s: %d", bad, r.Status)
			}
		}
		r := e.Do(t, "POST", "/api/users", e.AdminToken, body)
		if r.Status != 201 || !strings.HasPrefix(r.Header.Get("Location"), "/api/users/usr-") || r.JSON["password"] != nil || r.JSON["role"] != "user" {
			t.Fatalf("create: %d %v %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		carol := r.Header.Get("Location")
		if r := e.Do(t, "POST", "/api/users", e.AdminToken, body); r.Status != 409 {
			t.Fatalf("duplicate email: %d", r.Status)
		}
		tok := e.Do(t, "POST", "/api/Auth/Token", "", `{"userName":"carol@example.com","password":"carol's passphrase"}`)
		if tok.Status != 200 {
			t.Fatalf("carol signs in: %d %s", tok.Status, tok.Body)
		}
		carolTok := tok.JSON["token"].(string)
		if r := e.Do(t, "GET", carol, carolTok, ""); r.Status != 200 || r.JSON["lastLogin"] == nil {
			t.Fatalf("carol reads herself: %d %s", r.Status, r.Body)
		}
		// Other users cannot delete her; she can delete herself.
		if r := e.Do(t, "DELETE", carol, e.AliceToken, ""); r.Status != 404 {
			t.Fatalf("alice deletes carol: %d", r.Status)
		}
		if r := e.Do(t, "DELETE", carol, carolTok, ""); r.Status != 200 || r.JSON["deletedAt"] == nil {
			t.Fatalf("self delete: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", carol, carolTok, ""); r.Status != 401 {
			t.Fatalf("deleted user's session still works: %d (the delete revokes it: 401)", r.Status)
		}
		if r := e.Do(t, "GET", "/api/users?search=carol", e.AdminToken, ""); len(ids(t, r)) != 0 {
			t.Fatalf("deleted user listed without the filter")
		}
		if r := e.Do(t, "POST", carol+"/restore", e.AliceToken, ""); r.Status != 404 {
			t.Fatalf("non-admin restore: %d", r.Status)
		}
		if r := e.Do(t, "POST", carol+"/restore", e.AdminToken, ""); r.Status != 200 || r.JSON["deletedAt"] != nil {
			t.Fatalf("restore: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", carol, carolTok, ""); r.Status != 401 {
			t.Fatalf("restored user's old session: %d, want 401 (the delete ended it)", r.Status)
		}
		// Restore by writing deletedAt: null.
		e.Do(t, "DELETE", carol, e.AdminToken, "")
		id := strings.TrimPrefix(carol, "/api/users/")
		if r := patch(t, e, e.AdminToken, id, `[{"op":"replace","path":"/deletedAt","value":null}]`); r.Status != 200 || r.JSON["deletedAt"] != nil {
			t.Fatalf("restore by patch: %d %s", r.Status, r.Body)
		}
	})
}

func TestLookups(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		r := e.Do(t, "GET", "/api/users/countries", e.AliceToken, "")
		c, _ := r.JSON["countries"].(map[string]any)
		if r.Status != 200 || c["ES"] != "Spain" || len(c) != 249 {
			t.Fatalf("countries: %d %d", r.Status, len(c))
		}
		r = e.Do(t, "GET", "/api/users/timeZones", e.AliceToken, "")
		z, _ := r.JSON["timeZones"].([]any)
		if r.Status != 200 || len(z) < 300 || !strings.Contains(string(r.Body), `"Europe/Madrid"`) {
			t.Fatalf("timeZones: %d %d", r.Status, len(z))
		}
		if r := e.Do(t, "GET", "/api/users/countries", "", ""); r.Status != 401 {
			t.Fatalf("lookups need a token: %d", r.Status)
		}
	})
}

func signIn(t *testing.T, e *testenv.Env, body string) *testenv.Response {
	t.Helper()
	return e.Do(t, "POST", "/api/Auth/Token", "", body)
}

func TestSignInAndAPIKeys(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		e.Clock.Advance(time.Minute)
		pre := e.Do(t, "GET", path(e.Alice), e.AdminToken, "")
		r := signIn(t, e, `{"userName":"ALICE@example.com","password":"alice passphrase"}`)
		if r.Status != 200 || r.JSON["success"] != true || r.JSON["expires"] != usersvc.FormatTime(e.Clock.Now().Add(24*time.Hour)) {
			t.Fatalf("sign in: %d %s", r.Status, r.Body)
		}
		session := r.JSON["token"].(string)
		g := e.Do(t, "GET", path(e.Alice), session, "")
		if g.Status != 200 || g.JSON["lastLogin"] == nil {
			t.Fatalf("session token: %d %s", g.Status, g.Body)
		}
		// Signing in moves lastLogin and the version (the ETag), not modification.
		if g.JSON["modification"] != pre.JSON["modification"] || g.Header.Get("ETag") == pre.Header.Get("ETag") {
			t.Fatalf("sign-in: modification %v -> %v, ETag %s -> %s", pre.JSON["modification"], g.JSON["modification"], pre.Header.Get("ETag"), g.Header.Get("ETag"))
		}
		for _, bad := range []string{
			`{"userName":"alice@example.com","password":"wrong"}`,
			`{"userName":"nobody@example.com","password":"alice passphrase"}`,
			`{"userName":"alice@example.com","apiKey":"usk_nope"}`,
		} {
			if r := signIn(t, e, bad); r.Status != 401 || r.JSON["error"] != "Invalid API key or username." {
				t.Fatalf("%s: %d %s", bad, r.Status, r.Body)
			}
		}
		// API keys: create, list (never the secret), sign in, refuse as bearer, revoke.
		k := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":"tracker"}`)
		if k.Status != 201 || !strings.HasPrefix(k.JSON["key"].(string), usersvc.APIKeyPrefix) {
			t.Fatalf("create key: %d %s", k.Status, k.Body)
		}
		key := k.JSON["key"].(string)
		keyID := fmt.Sprint(k.JSON["apiKey"].(map[string]any)["id"])
		if r := e.Do(t, "POST", path(e.Bob)+"/apiKeys", e.AliceToken, `{"label":"x"}`); r.Status != 404 {
			t.Fatalf("key for another user: %d", r.Status)
		}
		if r := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":""}`); r.Status != 400 {
			t.Fatalf("empty label: %d", r.Status)
		}
		if r := e.Do(t, "GET", path(e.Alice), key, ""); r.Status != 401 {
			t.Fatalf("API key used as bearer: %d", r.Status)
		}
		if r := signIn(t, e, `{"userName":"alice@example.com","apiKey":"`+key+`"}`); r.Status != 200 {
			t.Fatalf("sign in with key: %d %s", r.Status, r.Body)
		}
		if r := signIn(t, e, `{"userName":"bob@example.com","apiKey":"`+key+`"}`); r.Status != 401 {
			t.Fatalf("key for the wrong user: %d", r.Status)
		}
		list := e.Do(t, "GET", path(e.Alice)+"/apiKeys", e.AdminToken, "")
		if list.Status != 200 || strings.Contains(string(list.Body), key) || !strings.Contains(string(list.Body), `"label":"tracker"`) || !strings.Contains(string(list.Body), `"lastUsed":"`) {
			t.Fatalf("list keys: %d %s", list.Status, list.Body)
		}
		// A password change revokes sessions, not API keys or operator tokens.
		if r := e.Do(t, "PATCH", path(e.Alice), e.AliceToken, `[{"op":"replace","path":"/password","value":"a new passphrase"}]`,
			"Content-Type: application/json-patch+json", "X-Current-Password: alice passphrase"); r.Status != 200 {
			t.Fatalf("password change: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 401 {
			t.Fatalf("session after password change: %d", r.Status)
		}
		if r := e.Do(t, "GET", path(e.Alice), e.AliceToken, ""); r.Status != 200 {
			t.Fatalf("operator token after password change: %d", r.Status)
		}
		if r := signIn(t, e, `{"userName":"alice@example.com","apiKey":"`+key+`"}`); r.Status != 200 {
			t.Fatalf("API key after password change: %d", r.Status)
		}
		if r := e.Do(t, "DELETE", path(e.Alice)+"/apiKeys/"+keyID, e.BobToken, ""); r.Status != 404 {
			t.Fatalf("bob revokes alice's key: %d", r.Status)
		}
		if r := e.Do(t, "DELETE", path(e.Alice)+"/apiKeys/"+keyID, e.AliceToken, ""); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := signIn(t, e, `{"userName":"alice@example.com","apiKey":"`+key+`"}`); r.Status != 401 {
			t.Fatalf("revoked key: %d", r.Status)
		}
		if r := e.Do(t, "DELETE", path(e.Alice)+"/apiKeys/"+keyID, e.AliceToken, ""); r.Status != 404 {
			t.Fatalf("revoke twice: %d", r.Status)
		}
	})
}

func TestSignInThrottle(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		for i := 0; i < 5; i++ {
			if r := signIn(t, e, `{"userName":"alice@example.com","password":"guess `+fmt.Sprint(i)+`"}`); r.Status != 401 {
				t.Fatalf("failure %d: %d", i, r.Status)
			}
		}
		r := signIn(t, e, `{"userName":"alice@example.com","password":"alice passphrase"}`)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth try: %d %v", r.Status, r.Header)
		}
		if secs, _ := strconv.Atoi(r.Header.Get("Retry-After")); secs < 1 || secs > 900 {
			t.Fatalf("Retry-After %d", secs)
		}
		// Another account from the same address is not blocked yet.
		if r := signIn(t, e, `{"userName":"bob@example.com","password":"nope nope"}`); r.Status != 401 {
			t.Fatalf("other account: %d", r.Status)
		}
		e.Clock.Advance(16 * time.Minute)
		if r := signIn(t, e, `{"userName":"alice@example.com","password":"alice passphrase"}`); r.Status != 200 {
			t.Fatalf("after the window: %d %s", r.Status, r.Body)
		}
		// Per address: 20 failures over many accounts block the address.
		for i := 0; i < 20; i++ {
			signIn(t, e, fmt.Sprintf(`{"userName":"u%d@example.com","password":"x"}`, i))
		}
		if r := signIn(t, e, `{"userName":"fresh@example.com","password":"x"}`); r.Status != 429 {
			t.Fatalf("address throttle: %d", r.Status)
		}
	})
}

func TestQuota(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		// 20:00Z on June 1 is 22:00 in Madrid: two hours to Alice's midnight.
		e.Clock.Set(time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC))
		if r := patch(t, e, e.AdminToken, e.Alice.ID, `[{"op":"add","path":"/dailyQuota","value":3}]`); r.Status != 200 {
			t.Fatal(r.Status)
		}
		e.Clock.Set(time.Date(2026, 6, 1, 22, 30, 0, 0, time.UTC)) // 00:30 June 2 in Madrid: a fresh day
		for i := 1; i <= 3; i++ {
			r := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
			if r.Status != 200 || r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(3-i) {
				t.Fatalf("request %d: %d %v", i, r.Status, r.Header)
			}
			if r.Header.Get("RateLimit-Reset") != strconv.Itoa(23*3600+30*60) {
				t.Fatalf("RateLimit-Reset %s", r.Header.Get("RateLimit-Reset"))
			}
		}
		r := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if r.Status != 429 || r.Header.Get("Retry-After") != strconv.Itoa(23*3600+30*60) || r.Int(t, "apiDailyUsage") != 4 {
			t.Fatalf("past the quota: %d %v %s", r.Status, r.Header, r.Body)
		}
		if g := e.GraphQL(t, e.AliceToken, `{ me { id } }`, nil); g.Status != 429 {
			t.Fatalf("GraphQL past the quota: %d", g.Status)
		}
		// Bob's default quota is untouched.
		if r := e.Do(t, "GET", path(e.Bob), e.BobToken, ""); r.Status != 200 || r.Header.Get("RateLimit-Limit") != "10000" {
			t.Fatalf("bob: %d %v", r.Status, r.Header)
		}
		e.Clock.Set(time.Date(2026, 6, 2, 22, 0, 1, 0, time.UTC)) // just past midnight in Madrid
		if r := e.Do(t, "GET", path(e.Alice), e.AliceToken, ""); r.Status != 200 || r.Header.Get("RateLimit-Remaining") != "2" {
			t.Fatalf("next day: %d %v", r.Status, r.Header)
		}
	})
}

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

// TestSignInIsMetered: a successful sign-in (API key or password) is one
// of the user's requests: it counts against the daily quota and past it
// is refused with 429 and no session, so API-key sign-ins (no hashing)
// cannot mint sessions and history entries without bound.
func TestSignInIsMetered(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		k := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":"tracker"}`)
		if k.Status != 201 {
			t.Fatalf("create key: %d %s", k.Status, k.Body)
		}
		key := k.JSON["key"].(string)
		if r := patch(t, e, e.AdminToken, e.Alice.ID, `[{"op":"add","path":"/dailyQuota","value":5}]`); r.Status != 200 {
			t.Fatal(r.Status)
		}
		e.Clock.Advance(24 * time.Hour) // a fresh day: nothing counted yet
		byKey := `{"userName":"alice@example.com","apiKey":"` + key + `"}`
		byPassword := `{"userName":"alice@example.com","password":"alice passphrase"}`
		for i, body := range []string{byKey, byKey, byPassword, byKey, byKey} {
			if r := signIn(t, e, body); r.Status != 200 {
				t.Fatalf("sign-in %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		entries := len(history(t, e, e.AdminToken, e.Alice.ID))
		for _, body := range []string{byKey, byPassword} {
			r := signIn(t, e, body)
			if r.Status != 429 || r.JSON["token"] != nil || r.Header.Get("Retry-After") == "" {
				t.Fatalf("sign-in past the quota: %d %v %s", r.Status, r.Header, r.Body)
			}
		}
		if got := len(history(t, e, e.AdminToken, e.Alice.ID)); got != entries {
			t.Fatalf("refused sign-ins wrote history: %d entries, then %d", entries, got)
		}
		// The bearer's own requests see the sign-ins in the day's usage.
		if r := e.Do(t, "GET", path(e.Alice), e.AliceToken, ""); r.Status != 429 || r.Int(t, "apiDailyUsage") != 8 {
			t.Fatalf("Alice after 7 sign-ins: %d %s", r.Status, r.Body)
		}
		// Bob's sign-ins are his own.
		if r := e.Do(t, "GET", path(e.Bob), e.BobToken, ""); r.Status != 200 || r.Int(t, "apiDailyUsage") != 1 {
			t.Fatalf("Bob: %d %s", r.Status, r.Body)
		}
	})
}
