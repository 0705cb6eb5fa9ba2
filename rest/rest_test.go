package rest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

func path(u *usersvc.User) string { return "/api/users/" + u.ID }

func TestGetUser(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			name, token, path string
			status            int
		}{
			{"self", e.AliceToken, path(e.Alice), 200},
			{"other user is not found", e.AliceToken, path(e.Bob), 404},
			{"unknown id", e.AliceToken, "/api/users/usr-doesnotexist", 404},
			{"64-char id", e.AliceToken, "/api/users/" + strings.Repeat("x", 64), 404},
			{"65-char id", e.AliceToken, "/api/users/" + strings.Repeat("x", 65), 404},
			{"admin reads anyone", e.AdminToken, path(e.Bob), 200},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "GET", tc.path, tc.token, "")
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if r.JSON["success"] != (tc.status == 200) {
					t.Fatalf("success %v: %s", r.JSON["success"], r.Body)
				}
				if r.Int(t, "apiUsage") < 1 || r.Int(t, "apiDailyUsage") < 1 {
					t.Fatalf("counters missing: %s", r.Body)
				}
				if tc.status == 404 && r.JSON["error"] != "User not found." {
					t.Fatalf("error %q", r.JSON["error"])
				}
			})
		}
		r := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		for _, f := range []string{"id", "name", "email", "country", "timeZone", "description", "message", "disabled",
			"disabledMessage", "tags", "privileges", "group", "deviceId", "adminDevices", "from", "expires",
			"password", "creation", "modification", "lastLogin", "role", "deletedAt"} {
			if _, ok := r.JSON[f]; !ok {
				t.Errorf("field %q missing from %s", f, r.Body)
			}
		}
		if r.JSON["password"] != nil || r.JSON["description"] != nil {
			t.Errorf("password/description not null: %s", r.Body)
		}
		if tags, ok := r.JSON["tags"].(map[string]any); !ok || len(tags) != 0 {
			t.Errorf("tags = %v, want {}", r.JSON["tags"])
		}
		if p, ok := r.JSON["privileges"].([]any); !ok || len(p) != 0 {
			t.Errorf("privileges = %v, want []", r.JSON["privileges"])
		}
		if !strings.HasSuffix(r.JSON["creation"].(string), "Z") {
			t.Errorf("creation not UTC: %v", r.JSON["creation"])
		}
		if r.Header.Get("ETag") != `"v1"` || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers: %v", r.Header)
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id")
		}
		if nm := e.Do(t, "GET", path(e.Alice), e.AliceToken, "", `If-None-Match: "v1"`); nm.Status != 304 {
			t.Errorf("If-None-Match: %d", nm.Status)
		}
	})
}

func TestAuthentication(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		expiring, err := e.Svc.CreateToken(usersvc.SystemContext(context.Background()), e.Bob.ID, "short", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(2 * time.Hour)
		_, revoked := e.NewUser(t, "Rev", "rev@example.com", "UTC", usersvc.RoleUser)
		if _, err := e.Store.DB().Exec(`UPDATE tokens SET revoked = true WHERE hash = '` + usersvc.HashToken(revoked) + `'`); err != nil {
			t.Fatal(err)
		}
		unknown := usersvc.TokenPrefix + strings.Repeat("A", 43)
		for _, tc := range []struct {
			name   string
			header string
			url    string
		}{
			{"missing", "", path(e.Alice)},
			{"malformed header", "Bearer", path(e.Alice)},
			{"wrong scheme", "Basic " + e.AliceToken, path(e.Alice)},
			{"not a token", "Bearer hello", path(e.Alice)},
			{"unknown", "Bearer " + unknown, path(e.Alice)},
			{"expired", "Bearer " + expiring, path(e.Bob)},
			{"revoked", "Bearer " + revoked, path(e.Alice)},
			{"token in query string", "", path(e.Alice) + "?access_token=" + e.AliceToken},
			{"token in query string beside a header", "Bearer " + e.AliceToken, path(e.Alice) + "?x=" + e.AliceToken},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, target := range []string{tc.url, "/graphql?query=%7Bme%7Bid%7D%7D" + strings.TrimPrefix(strings.TrimPrefix(tc.url, path(e.Alice)), "?")} {
					if strings.Contains(tc.url, "?") {
						target = tc.url
					}
					var hdrs []string
					if tc.header != "" {
						hdrs = append(hdrs, "Authorization: "+tc.header)
					}
					r := e.Do(t, "GET", target, "", "", hdrs...)
					if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Fatalf("%s: status %d, WWW-Authenticate %q: %s", target, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
					}
					if _, ok := r.JSON["apiUsage"]; ok {
						t.Fatalf("counters shown to an unknown caller: %s", r.Body)
					}
				}
			})
		}
		// The scheme name is case-insensitive.
		if r := e.Do(t, "GET", path(e.Alice), "", "", "Authorization: bEaReR "+e.AliceToken); r.Status != 200 {
			t.Fatalf("lower-case scheme: %d", r.Status)
		}
	})
}

func TestUserStatesRefused(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		now := e.Clock.Now()
		for _, tc := range []struct {
			name  string
			patch string
			want  string
		}{
			{"disabled with message", `[{"op":"replace","path":"/disabled","value":true},{"op":"replace","path":"/disabledMessage","value":"Unpaid invoice."}]`, "Unpaid invoice."},
			{"disabled", `[{"op":"replace","path":"/disabled","value":true}]`, "This account is disabled."},
			{"not yet valid", `[{"op":"replace","path":"/from","value":"` + now.Add(time.Hour).Format(time.RFC3339) + `"}]`, "This account is not active yet."},
			{"expired", `[{"op":"replace","path":"/expires","value":"` + now.Add(-time.Hour).Format(time.RFC3339) + `"}]`, "This account has expired."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, tok := e.NewUser(t, "S", strings.ReplaceAll(tc.name, " ", "")+"@example.com", "UTC", usersvc.RoleUser)
				if r := e.Do(t, "PATCH", path(u), e.AdminToken, tc.patch, "Content-Type: application/json-patch+json"); r.Status != 200 {
					t.Fatalf("admin patch: %d %s", r.Status, r.Body)
				}
				for _, target := range []string{path(u), "/graphql?query=%7Bme%7Bid%7D%7D"} {
					r := e.Do(t, "GET", target, tok, "")
					if r.Status != 403 {
						t.Fatalf("%s: status %d: %s", target, r.Status, r.Body)
					}
					if !strings.Contains(string(r.Body), tc.want) {
						t.Fatalf("%s: want reason %q in %s", target, tc.want, r.Body)
					}
				}
			})
		}
		// A soft-deleted user's token is refused; admins still read the user.
		u, tok := e.NewUser(t, "D", "deleted@example.com", "UTC", usersvc.RoleUser)
		if _, err := e.Store.DB().Exec(softDeleteSQL(u.ID)); err != nil {
			t.Fatal(err)
		}
		if r := e.Do(t, "GET", path(u), tok, ""); r.Status != 403 || r.JSON["error"] != "This account has been deleted." {
			t.Fatalf("deleted user's token: %d %s", r.Status, r.Body)
		}
		r := e.Do(t, "GET", path(u), e.AdminToken, "")
		if r.Status != 200 || r.JSON["deletedAt"] == nil {
			t.Fatalf("admin reading deleted user: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", path(u), e.AliceToken, ""); r.Status != 404 {
			t.Fatalf("other user reading deleted user: %d", r.Status)
		}
	})
}

func softDeleteSQL(id string) string {
	ts := "'2026-01-01 00:00:00+00:00'"
	return "UPDATE users SET deleted_at = " + ts + " WHERE id = '" + id + "'"
}

func TestUsageCounters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		// Alice lives in Madrid (UTC+2 in June): 21:59Z is 23:59 local.
		e.Clock.Set(time.Date(2026, 6, 1, 21, 59, 0, 0, time.UTC))
		r1 := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		r2 := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if r2.Int(t, "apiUsage") != r1.Int(t, "apiUsage")+1 || r2.Int(t, "apiDailyUsage") != r1.Int(t, "apiDailyUsage")+1 {
			t.Fatalf("counters did not grow by one: %s then %s", r1.Body, r2.Body)
		}
		e.Clock.Set(time.Date(2026, 6, 1, 22, 1, 0, 0, time.UTC)) // 00:01 in Madrid, still June 1 in UTC
		r3 := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if r3.Int(t, "apiDailyUsage") != 1 || r3.Int(t, "apiUsage") != r2.Int(t, "apiUsage")+1 {
			t.Fatalf("after local midnight: %s", r3.Body)
		}
		// Bob (New York) is still on June 1: his day did not turn.
		b1 := e.Do(t, "GET", path(e.Bob), e.BobToken, "")
		e.Clock.Set(time.Date(2026, 6, 2, 3, 59, 0, 0, time.UTC)) // 23:59 in New York
		b2 := e.Do(t, "GET", path(e.Bob), e.BobToken, "")
		if b2.Int(t, "apiDailyUsage") != b1.Int(t, "apiDailyUsage")+1 {
			t.Fatalf("Bob's day turned early: %s then %s", b1.Body, b2.Body)
		}

		// 200 concurrent requests all count, exactly.
		const n = 200
		start := r3.Int(t, "apiUsage")
		var wg sync.WaitGroup
		statuses := make(chan int, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- e.Do(t, "GET", path(e.Alice), e.AliceToken, "").Status
			}()
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != 200 {
				t.Fatalf("concurrent request status %d", s)
			}
		}
		after := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if got := after.Int(t, "apiUsage"); got != start+n+1 {
			t.Fatalf("apiUsage %d after %d concurrent requests from %d", got, n, start)
		}

		// The counts survive a restart (a graceful stop flushes them).
		if err := e.Svc.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := e.Store.Close(); err != nil {
			t.Fatal(err)
		}
		st := testenv.OpenStore(t, db)
		h := testenv.NewHandler(testenv.NewService(st, e.Clock))
		again := testenv.Do(t, h, "GET", path(e.Alice), e.AliceToken, "")
		if again.Int(t, "apiUsage") != start+n+2 {
			t.Fatalf("after restart apiUsage = %d, want %d", again.Int(t, "apiUsage"), start+n+2)
		}
	})
}

func TestCORS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			origin string
			allow  bool
		}{{"https://app.example.com", true}, {"https://evil.example.net", false}} {
			r := e.Do(t, "OPTIONS", path(e.Alice), "", "", "Origin: "+tc.origin,
				"Access-Control-Request-Method: PATCH", "Access-Control-Request-Headers: authorization, content-type")
			got := r.Header.Get("Access-Control-Allow-Origin")
			if tc.allow && (got != tc.origin || r.Header.Get("Access-Control-Max-Age") == "") {
				t.Errorf("%s: allow-origin %q, max-age %q", tc.origin, got, r.Header.Get("Access-Control-Max-Age"))
			}
			if !tc.allow && got != "" {
				t.Errorf("%s: refused origin got allow-origin %q", tc.origin, got)
			}
			if r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("credentials allowed")
			}
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		if r := e.Do(t, "GET", "/healthz", "", ""); r.Status != 200 {
			t.Fatalf("healthz %d", r.Status)
		}
		if r := e.Do(t, "GET", "/readyz", "", ""); r.Status != 200 {
			t.Fatalf("readyz %d", r.Status)
		}
		if err := e.Store.Close(); err != nil {
			t.Fatal(err)
		}
		if r := e.Do(t, "GET", "/readyz", "", ""); r.Status != 503 {
			t.Fatalf("readyz with the database gone: %d", r.Status)
		}
		if r := e.Do(t, "GET", "/healthz", "", ""); r.Status != 200 {
			t.Fatalf("healthz with the database gone: %d", r.Status)
		}
		// Internal errors do not leak driver text.
		r := e.Do(t, "GET", path(e.Alice), e.AliceToken, "")
		if r.Status != 500 || r.JSON["error"] != "Internal server error." {
			t.Fatalf("with the database gone: %d %s", r.Status, r.Body)
		}
	})
}
