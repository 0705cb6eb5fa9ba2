package rest_test

import (
	"testing"

	"usersvc/internal/testenv"
)

// TestLastAdminConflict: how REST answers the last-admin rule (the rule
// itself, every way to break it, is TestLastActiveAdmin in the root
// package): 409 with the rule's message in the envelope, the caller's
// counters, and the user unchanged (same ETag), from PATCH, PUT and DELETE.
func TestLastAdminConflict(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct{ name, method, body, ctype string }{
			{"PATCH demote", "PATCH", `[{"op":"replace","path":"/role","value":"user"}]`, "Content-Type: application/json-patch+json"},
			{"merge patch disable", "PATCH", `{"disabled":true}`, "Content-Type: application/merge-patch+json"},
			{"PUT expires", "PUT", `{"name":"Admin","email":"admin@example.com","country":"ES","timeZone":"UTC","expires":"2021-01-01T00:00:00Z"}`, "Content-Type: application/json"},
			{"DELETE", "DELETE", "", "X-Nothing: 1"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.Do(t, "GET", path(e.Admin), e.AdminToken, "")
				r := e.Do(t, tc.method, path(e.Admin), e.AdminToken, tc.body, tc.ctype)
				if r.Status != 409 || r.JSON["success"] != false ||
					r.JSON["error"] != "The last active administrator cannot be demoted, disabled, deleted or made inactive." {
					t.Fatalf("want 409 with the rule's message: %d %s", r.Status, r.Body)
				}
				if r.JSON["apiUsage"] == nil || r.JSON["apiDailyUsage"] == nil {
					t.Fatalf("no counters: %s", r.Body)
				}
				if after := e.Do(t, "GET", path(e.Admin), e.AdminToken, ""); after.Header.Get("ETag") != before.Header.Get("ETag") {
					t.Fatalf("the refused write changed the admin: %s -> %s", before.Header.Get("ETag"), after.Header.Get("ETag"))
				}
			})
		}
	})
}
