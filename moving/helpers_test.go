package moving_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
)

// importAll runs an import as the command line does (system context) and
// returns the counts and failures.
func importAll(t *testing.T, svc *usersvc.Service, input string, opts usersvc.ImportOptions) (usersvc.ImportCounts, []usersvc.ImportFailure) {
	t.Helper()
	var fails []usersvc.ImportFailure
	counts, err := moving.Import(usersvc.SystemContext(context.Background()), svc, strings.NewReader(input),
		moving.Options{ImportOptions: opts, Failed: func(f usersvc.ImportFailure) { fails = append(fails, f) }})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return counts, fails
}

// as is the context of the user token authenticates, from 192.0.2.1.
func as(t *testing.T, e *testenv.Env, token string) context.Context {
	t.Helper()
	p, err := e.Svc.Authenticate(context.Background(), usersvc.Bearer(token))
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	ctx, cancel := context.WithCancel(usersvc.WithClientAddr(usersvc.WithPrincipal(context.Background(), p), "192.0.2.1"))
	t.Cleanup(cancel)
	return ctx
}

func userCount(t *testing.T, e *testenv.Env) int {
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

func audit(t *testing.T, e *testenv.Env, id string) []*usersvc.AuditEntry {
	t.Helper()
	entries, err := e.Store.Audit(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// patchText is a recorded patch as JSON.
func patchText(p []usersvc.PatchOperation) string {
	b, _ := json.Marshal(p)
	return string(b)
}
