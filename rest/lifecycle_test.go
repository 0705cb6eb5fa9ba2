package rest_test

import (
	"context"
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
