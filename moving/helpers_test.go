package moving_test

import (
	"context"
	"encoding/json"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

var importAll = testenv.ImportAll

func as(t *testing.T, e *testenv.Env, token string) context.Context {
	t.Helper()
	return e.As(t, token)
}

func userCount(t *testing.T, e *testenv.Env) int { t.Helper(); return e.UserCount(t) }

func audit(t *testing.T, e *testenv.Env, id string) []*usersvc.AuditEntry {
	t.Helper()
	return e.Audit(t, id)
}

// patchText is a recorded patch as JSON.
func patchText(p []usersvc.PatchOperation) string {
	b, _ := json.Marshal(p)
	return string(b)
}
