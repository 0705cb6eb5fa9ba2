package store_test

import (
	"context"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestUserNameFilterUsesIndex: on PostgreSQL, SCIM's userName eq (the
// lookup identity providers send before every write) is planned through
// the sign-in key's unique index, not a scan of the users table; so is it
// inside an and.
func TestUserNameFilterUsesIndex(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("the plan is PostgreSQL's")
		}
		st := testenv.OpenStore(t, db)
		eq := &usersvc.Cond{Op: usersvc.CondCompare, Attr: usersvc.Attr{Field: "userName"}, Cmp: usersvc.CmpEq, Value: "Jane.Doe"}
		title := &usersvc.Cond{Op: usersvc.CondCompare, Attr: usersvc.Attr{Path: []string{"title"}}, Cmp: usersvc.CmpPresent}
		for _, c := range []*usersvc.Cond{eq, {Op: usersvc.CondAnd, Sub: []*usersvc.Cond{eq, title}}} {
			plan, err := st.ExplainUsers(context.Background(), usersvc.UserFilter{Provisioned: true, Where: c})
			if err != nil {
				t.Fatal(err)
			}
			if p := strings.Join(plan, "\n"); !strings.Contains(p, "users_email_key_key") {
				t.Fatalf("userName eq is not planned through the sign-in key's index:\n%s", p)
			}
		}
	})
}
