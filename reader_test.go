package usersvc_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// countingReads is a Reader that notes each call and answers from the
// store it wraps.
type countingReads struct {
	usersvc.Reads
	mu    sync.Mutex
	calls []string
}

func (c *countingReads) note(m string) { c.mu.Lock(); c.calls = append(c.calls, m); c.mu.Unlock() }

func (c *countingReads) took() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range c.calls {
		seen[m] = true
	}
	var list []string
	for m := range seen {
		list = append(list, m)
	}
	sort.Strings(list)
	c.calls = nil
	return strings.Join(list, ",")
}

func (c *countingReads) User(ctx context.Context, id string, forUpdate bool) (*usersvc.User, error) {
	c.note("User")
	return c.Reads.User(ctx, id, forUpdate)
}

func (c *countingReads) ListUsers(ctx context.Context, q usersvc.ListQuery) ([]*usersvc.User, int, error) {
	c.note("ListUsers")
	return c.Reads.ListUsers(ctx, q)
}

func (c *countingReads) Histories(ctx context.Context, ids []string, before int64, limit int) (map[string][]*usersvc.AuditEntry, error) {
	c.note("Histories")
	return c.Reads.Histories(ctx, ids, before, limit)
}

func (c *countingReads) CountHistories(ctx context.Context, ids []string) (map[string]int, error) {
	c.note("CountHistories")
	return c.Reads.CountHistories(ctx, ids)
}

func (c *countingReads) UsersAfter(ctx context.Context, after string, limit int) ([]*usersvc.User, error) {
	c.note("UsersAfter")
	return c.Reads.UsersAfter(ctx, after, limit)
}

// TestReaderRouting: through the real handler (REST and GraphQL), the
// plain reads go to Service.Reader and nothing else does: token checks,
// the caller's own user, the reads writes decide on and API keys stay on
// the store.
func TestReaderRouting(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		r := &countingReads{Reads: e.Store}
		e.Svc.Reader = r
		bob := e.Bob.ID
		for _, tc := range []struct {
			name         string
			method, path string
			token        string
			body         string
			graphQL      string
			status       int
			reader       string // the Reader's methods called, sorted
		}{
			{name: "REST GET of another user", method: "GET", path: "/api/users/" + bob, token: e.AdminToken, status: 200, reader: "User"},
			{name: "REST GET of oneself", method: "GET", path: "/api/users/" + e.Admin.ID, token: e.AdminToken, status: 200, reader: ""},
			{name: "REST GET of another user, by a non-admin", method: "GET", path: "/api/users/" + bob, token: e.AliceToken, status: 404, reader: "User"},
			{name: "REST list", method: "GET", path: "/api/users?limit=2", token: e.AdminToken, status: 200, reader: "ListUsers"},
			{name: "REST history of another user", method: "GET", path: "/api/users/" + bob + "/history", token: e.AdminToken, status: 200, reader: "Histories,User"},
			{name: "REST export", method: "GET", path: "/api/users/export", token: e.AdminToken, status: 200, reader: "UsersAfter"},
			{name: "REST PATCH of another user", method: "PATCH", path: "/api/users/" + bob, token: e.AdminToken, body: `[{"op":"replace","path":"/name","value":"Bobby"}]`, status: 200, reader: ""},
			{name: "REST PUT of oneself", method: "PUT", path: "/api/users/" + e.Alice.ID, token: e.AliceToken, body: `{"name":"Alicia","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid"}`, status: 200, reader: ""},
			{name: "REST API keys", method: "GET", path: "/api/users/" + bob + "/apiKeys", token: e.AdminToken, status: 200, reader: ""},
			{name: "GraphQL users", graphQL: `{ users(first: 2) { edges { node { id } } } }`, token: e.AdminToken, status: 200, reader: "ListUsers"},
			{name: "GraphQL users with history and totals", graphQL: `{ users(first: 5) { totalCount edges { node { id history(first: 1) { totalCount edges { node { action } } } } } } }`, token: e.AdminToken, status: 200, reader: "CountHistories,Histories,ListUsers"},
			{name: "GraphQL user(id) of another user", graphQL: fmt.Sprintf(`{ user(id: %q) { id } }`, bob), token: e.AdminToken, status: 200, reader: "User"},
			{name: "GraphQL me", graphQL: `{ me { id } }`, token: e.AliceToken, status: 200, reader: ""},
			{name: "GraphQL patchUser", graphQL: fmt.Sprintf(`mutation { patchUser(id: %q, patch: [{op: replace, path: "/name", value: "Robert"}]) { id } }`, bob), token: e.AdminToken, status: 200, reader: ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r.took() // forget what earlier cases read
				var res *testenv.Response
				if tc.graphQL != "" {
					res = e.GraphQL(t, tc.token, tc.graphQL, nil)
				} else {
					res = e.Do(t, tc.method, tc.path, tc.token, tc.body)
				}
				if res.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
				}
				if res.Status == http.StatusOK && tc.graphQL != "" && strings.Contains(string(res.Body), `"errors"`) {
					t.Fatalf("errors: %s", res.Body)
				}
				if got := r.took(); got != tc.reader {
					t.Errorf("the Reader served %q, want %q", got, tc.reader)
				}
			})
		}
	})
}
