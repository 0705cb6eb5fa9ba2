package store_test

import (
	"context"
	"reflect"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestJSONColumns checks that tags and privileges round-trip identically on
// both databases (jsonb on PostgreSQL, text on SQLite), including unicode,
// escapes and empty values.
func TestJSONColumns(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := usersvc.SystemContext(context.Background())
		for _, tc := range []struct {
			name  string
			tags  map[string]string
			privs []string
		}{
			{"empty", map[string]string{}, []string{}},
			{"unicode and escapes", map[string]string{"zona": "España ☀", "quote": `a "b" \ c`, "nl": "x\ny", "": ""}, []string{"a/b", "ñ", "<script>"}},
			{"order kept in arrays", map[string]string{"k": "v"}, []string{"z", "a", "m"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, err := e.Store.User(ctx, e.Bob.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				u.Tags, u.Privileges = tc.tags, tc.privs
				u.Version++
				if err := e.Store.UpdateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				got, err := e.Store.User(ctx, e.Bob.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Tags, tc.tags) || !reflect.DeepEqual(got.Privileges, tc.privs) {
					t.Fatalf("got %v %v, want %v %v", got.Tags, got.Privileges, tc.tags, tc.privs)
				}
			})
		}
	})
}

func TestEmailUniqueCaseInsensitive(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		_, err := e.Svc.CreateUser(usersvc.SystemContext(context.Background()), usersvc.NewUserInput{
			Name: "X", Email: "ALICE@Example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if usersvc.ErrorCode(err) != usersvc.EConflict {
			t.Fatalf("got %v, want conflict", err)
		}
	})
}

func TestBootstrap(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		svc := testenv.NewService(st, &testenv.Clock{})
		ctx := context.Background()
		tok, created, err := svc.Bootstrap(ctx)
		if err != nil || !created || tok == "" {
			t.Fatalf("first bootstrap: %q %v %v", tok, created, err)
		}
		p, err := svc.Authenticate(ctx, "Bearer "+tok)
		if err != nil || !p.User.IsAdmin() {
			t.Fatalf("bootstrap token: %v", err)
		}
		if tok2, created, err := svc.Bootstrap(ctx); err != nil || created || tok2 != "" {
			t.Fatalf("second bootstrap: %q %v %v", tok2, created, err)
		}
	})
}
