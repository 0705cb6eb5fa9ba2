package testenv

import (
	"context"
	"strings"
	"testing"

	"usersvc"
	"usersvc/moving"
)

// ImportAll runs an import as the command line does (system context,
// package moving's reader handing batches to Service.ImportUsers) and
// returns the counts and failures; an import that cannot go on fails t.
func ImportAll(t testing.TB, svc *usersvc.Service, input string, opts usersvc.ImportOptions) (usersvc.ImportCounts, []usersvc.ImportFailure) {
	t.Helper()
	var fails []usersvc.ImportFailure
	counts, err := moving.Import(usersvc.SystemContext(context.Background()), svc, strings.NewReader(input),
		moving.Options{ImportOptions: opts, Failed: func(f usersvc.ImportFailure) { fails = append(fails, f) }})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return counts, fails
}

// As is the context of the user token authenticates, from 192.0.2.1. It
// ends with the test, so the subscriptions a test opens end too.
func (e *Env) As(t testing.TB, token string) context.Context {
	t.Helper()
	p, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(token))
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	ctx, cancel := context.WithCancel(usersvc.WithClientAddr(usersvc.WithPrincipal(context.Background(), p), "192.0.2.1"))
	t.Cleanup(cancel)
	return ctx
}

// UserCount is how many users are stored, deleted ones too.
func (e *Env) UserCount(t testing.TB) int {
	t.Helper()
	n := 0
	after := ""
	for {
		users, err := e.Store.UsersAfter(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n += len(users)
		if len(users) < 1000 {
			return n
		}
		after = users[len(users)-1].ID
	}
}

// Audit is the user's history, newest first.
func (e *Env) Audit(t testing.TB, id string) []*usersvc.AuditEntry {
	t.Helper()
	entries, err := e.Store.Audit(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
