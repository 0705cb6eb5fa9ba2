package usersvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// Helpers for the rule tests (rules_*_test.go): they call the Service
// directly, as the transports do, with a context made from a real token.

// as authenticates token on e's service, as the server does for every
// request, and returns the request context that carries the caller.
func as(t *testing.T, e *testenv.Env, token string) context.Context {
	t.Helper()
	return e.As(t, token)
}

// generic decodes a JSON literal the way the transports hand bodies to the
// service: objects, arrays, strings, bools, nil and json.Number.
func generic(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("test JSON %s: %v", s, err)
	}
	return v
}

// write is one call of the write path on user id.
type write func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error)

func replaceW(body string) write {
	return func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
		return svc.ReplaceUser(ctx, id, generic(t, body), nil)
	}
}

func patchW(body string) write {
	return func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
		return svc.PatchUser(ctx, id, generic(t, body), nil)
	}
}

// withCurrent is w with the caller's current password given.
func withCurrent(current string, w write) write {
	return func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
		return w(t, usersvc.WithCurrentPassword(ctx, current), svc, id)
	}
}

func mergeW(body string) write {
	return func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
		return svc.MergePatchUser(ctx, id, generic(t, body), nil)
	}
}

func deleteW() write {
	return func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
		return svc.DeleteUser(ctx, id)
	}
}

func restoreW() write {
	return func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
		return svc.RestoreUser(ctx, id)
	}
}

// stored reads user id straight from the store (no cache, no visibility rule).
func stored(t *testing.T, e *testenv.Env, id string) *usersvc.User {
	t.Helper()
	u, err := e.Store.User(context.Background(), id, false)
	if err != nil {
		t.Fatalf("stored user %s: %v", id, err)
	}
	return u
}

// docField renders one field of u's public document as compact JSON.
func docField(t *testing.T, u *usersvc.User, field string) string {
	t.Helper()
	b, err := json.Marshal(u.Document())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	raw, ok := m[field]
	if !ok {
		t.Fatalf("the document has no field %q", field)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// audit lists user id's history, newest first.
func audit(t *testing.T, e *testenv.Env, id string) []*usersvc.AuditEntry {
	t.Helper()
	return e.Audit(t, id)
}

// opsOf renders a recorded patch as "op path" pairs joined by "; ".
func opsOf(p []usersvc.PatchOperation) string {
	var parts []string
	for _, op := range p {
		parts = append(parts, op["op"].(string)+" "+op["path"].(string))
	}
	return strings.Join(parts, "; ")
}

// codeOf is err's code, "" for no error (usersvc.ErrorCode says internal).
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return usersvc.ErrorCode(err)
}
