package rest_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

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
