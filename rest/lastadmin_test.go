package rest_test

import (
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestLastAdminCannotBecomeInactive: the last active admin cannot end their
// own ability to act through expires or from either, and admins who cannot
// act now do not count as the remaining one.
func TestLastAdminCannotBecomeInactive(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		now := usersvc.FormatTime(e.Clock.Now())
		lastAdmin := func(t *testing.T, r *testenv.Response) {
			t.Helper()
			msg, _ := r.JSON["error"].(string)
			if r.Status != 409 || msg != "The last active administrator cannot be demoted, disabled, deleted or made inactive." {
				t.Fatalf("want 409 last admin, got %d %s", r.Status, r.Body)
			}
		}
		for _, tc := range []struct{ name, patch string }{
			{"expires now", `[{"op":"add","path":"/expires","value":"` + now + `"}]`},
			{"expires in the past", `[{"op":"add","path":"/expires","value":"2020-01-01T00:00:00Z"}]`},
			{"from in the future", `[{"op":"add","path":"/from","value":"2099-01-01T00:00:00Z"}]`},
			{"from in the future and disabled off", `[{"op":"add","path":"/from","value":"2026-06-01T12:00:01Z"},{"op":"add","path":"/disabled","value":false}]`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				lastAdmin(t, patch(t, e, e.AdminToken, e.Admin.ID, tc.patch))
				if r := e.Do(t, "GET", path(e.Admin), e.AdminToken, ""); r.Status != 200 || r.JSON["expires"] != nil || r.JSON["from"] != nil {
					t.Fatalf("the admin after the refused write: %d %s", r.Status, r.Body)
				}
			})
		}
		// A PUT without from/expires keeps the admin active; with them, it is refused alike.
		doc := e.Do(t, "GET", path(e.Admin), e.AdminToken, "")
		lastAdmin(t, e.Do(t, "PUT", path(e.Admin), e.AdminToken, putBody(t, doc, "expires", `"2021-01-01T00:00:00Z"`)))

		// A future expiry still lets the admin act now: accepted.
		if r := patch(t, e, e.AdminToken, e.Admin.ID, `[{"op":"add","path":"/expires","value":"2099-01-01T00:00:00Z"}]`); r.Status != 200 {
			t.Fatalf("future expiry: %d %s", r.Status, r.Body)
		}
		if r := patch(t, e, e.AdminToken, e.Admin.ID, `[{"op":"replace","path":"/expires","value":null}]`); r.Status != 200 {
			t.Fatalf("clearing expires: %d %s", r.Status, r.Body)
		}

		// An expired or not yet active admin is not the remaining admin.
		for _, tc := range []struct{ name, alice string }{
			{"other admin expired", `[{"op":"replace","path":"/role","value":"admin"},{"op":"add","path":"/expires","value":"2026-01-01T00:00:00Z"}]`},
			{"other admin not active yet", `[{"op":"replace","path":"/expires","value":null},{"op":"add","path":"/from","value":"2027-01-01T00:00:00Z"}]`},
			{"other admin disabled", `[{"op":"replace","path":"/from","value":null},{"op":"replace","path":"/disabled","value":true}]`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := patch(t, e, e.AdminToken, e.Alice.ID, tc.alice); r.Status != 200 {
					t.Fatalf("setting alice up: %d %s", r.Status, r.Body)
				}
				lastAdmin(t, patch(t, e, e.AdminToken, e.Admin.ID, `[{"op":"replace","path":"/role","value":"user"}]`))
				lastAdmin(t, patch(t, e, e.AdminToken, e.Admin.ID, `[{"op":"add","path":"/expires","value":"2020-01-01T00:00:00Z"}]`))
			})
		}
		// Alice active again: now the admin may let their own account expire.
		if r := patch(t, e, e.AdminToken, e.Alice.ID, `[{"op":"replace","path":"/disabled","value":false}]`); r.Status != 200 {
			t.Fatal(r.Status)
		}
		if r := patch(t, e, e.AdminToken, e.Admin.ID, `[{"op":"add","path":"/expires","value":"`+now+`"}]`); r.Status != 200 {
			t.Fatalf("expiring with another active admin: %d %s", r.Status, r.Body)
		}
		// Time passes: Alice's own expiry now would leave nobody.
		e.Clock.Advance(time.Hour)
		r := patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/from","value":"2099-01-01T00:00:00Z"}]`)
		if msg, _ := r.JSON["error"].(string); r.Status != 409 || !strings.Contains(msg, "last active administrator") {
			t.Fatalf("alice postpones herself as the last admin: %d %s", r.Status, r.Body)
		}
	})
}
