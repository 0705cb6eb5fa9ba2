package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// The authorization matrix's environment (policy_matrix_test.go): its
// users and each row's fresh target.

// target is one row's fresh user, as its setup asks.
type target struct {
	user         *usersvc.User
	token        string
	key, keyID   string
	groupID      string
	n            int
	deletedToken string
}

func (tg *target) fill(s string) string {
	return strings.NewReplacer("{id}", tg.user.ID, "{email}", tg.user.Email, "{n}", fmt.Sprint(tg.n),
		"{key}", tg.key, "{keyId}", tg.keyID, "{groupId}", tg.groupID).Replace(s)
}

func (tg *target) token4(e *testenv.Env, caller string) string {
	switch caller {
	case "owner":
		return tg.token
	case "other":
		return e.BobToken
	case "admin":
		return e.AdminToken
	}
	return tg.deletedToken
}

// matrixEnv is the environment the matrix runs in: the testenv users
// (Admin, Alice, Bob) and a deleted user's token.
type matrixEnv struct {
	*testenv.Env
	deletedToken string
	n            int
}

func newMatrixEnv(t *testing.T, db testenv.DB) *matrixEnv {
	e := testenv.Start(t, db)
	del, tok := e.NewUser(t, "Deleted", "deleted@example.com", "UTC", usersvc.RoleUser)
	if _, err := e.Svc.DeleteUser(usersvc.SystemContext(context.Background()), del.ID); err != nil {
		t.Fatal(err)
	}
	return &matrixEnv{Env: e, deletedToken: tok}
}

func (m *matrixEnv) newTarget(t *testing.T, s setup) *target {
	t.Helper()
	m.n++
	sys := usersvc.SystemContext(context.Background())
	u, tok := m.NewUser(t, "T", fmt.Sprintf("target%d@example.com", m.n), "UTC", usersvc.RoleUser)
	tg := &target{user: u, token: tok, n: m.n, deletedToken: m.deletedToken}
	if s.password {
		if _, err := m.Svc.PatchUser(sys, u.ID, []any{map[string]any{"op": "add", "path": "/password", "value": "target passphrase"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s.apiKey {
		key, k, err := m.Svc.CreateAPIKey(sys, u.ID, "matrix")
		if err != nil {
			t.Fatal(err)
		}
		tg.key, tg.keyID = key, fmt.Sprint(k.ID)
	}
	if s.group {
		g, err := m.Svc.CreateGroup(sys, usersvc.GroupInput{DisplayName: fmt.Sprint("group ", m.n), Members: []string{u.ID}})
		if err != nil {
			t.Fatal(err)
		}
		tg.groupID = g.ID
	}
	if s.deleted {
		if _, err := m.Svc.DeleteUser(sys, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return tg
}

// version is the target's stored version: a refused call must not move it.
func (m *matrixEnv) version(t *testing.T, id string) int64 {
	t.Helper()
	u, err := m.Store.User(context.Background(), id, false)
	if err != nil {
		t.Fatal(err)
	}
	return u.Version
}
