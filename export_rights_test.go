package usersvc_test

import (
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestExportStopsForWhoLostTheRight: an export's later pages read the
// caller again, so an admin demoted, disabled or deleted, or whose token
// was revoked, after the first page (exports are bounded by idleness,
// not by time) gets no further page, and no more hashes.
func TestExportStopsForWhoLostTheRight(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		for _, tc := range []struct {
			name string
			lose func(t *testing.T, e *testenv.Env, ada *usersvc.User, token string)
			want string
		}{
			{"demoted", func(t *testing.T, e *testenv.Env, ada *usersvc.User, _ string) {
				replace(t, e, ada.ID, "role", "user")
			}, usersvc.EForbidden},
			{"disabled", func(t *testing.T, e *testenv.Env, ada *usersvc.User, _ string) {
				replace(t, e, ada.ID, "disabled", true)
			}, usersvc.EForbidden},
			{"token revoked", func(t *testing.T, e *testenv.Env, _ *usersvc.User, token string) {
				if _, err := e.Store.DB().Exec(`UPDATE tokens SET revoked = true WHERE hash = '` + usersvc.HashToken(token) + `'`); err != nil {
					t.Fatal(err)
				}
			}, usersvc.EUnauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := testenv.Start(t, testenv.Another(t, db))
				ada, token := e.NewUser(t, "Ada", "ada@example.com", "UTC", usersvc.RoleAdmin)
				ctx := e.As(t, token)
				first, err := e.Svc.ExportUsers(ctx, "", 2, true)
				if err != nil || len(first) != 2 {
					t.Fatalf("first page: %d lines, %v; want 2", len(first), err)
				}
				tc.lose(t, e, ada, token)
				next, err := e.Svc.ExportUsers(ctx, first[1].ID, 2, true)
				if usersvc.ErrorCode(err) != tc.want || len(next) != 0 {
					t.Fatalf("next page after the right was lost: %d lines, %v; want %s", len(next), err, tc.want)
				}
			})
		}
	})
}

// replace sets one field of user id, as the first admin.
func replace(t *testing.T, e *testenv.Env, id, field string, value any) {
	t.Helper()
	patch := []any{map[string]any{"op": "replace", "path": "/" + field, "value": value}}
	if _, err := e.Svc.PatchUser(as(t, e, e.AdminToken), id, patch, nil); err != nil {
		t.Fatalf("replace %s: %v", field, err)
	}
}
