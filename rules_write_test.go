package usersvc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestWritePath: every way to write an existing user (replace, JSON
// Patch, merge patch, delete, restore, sign-in) goes through one path that
// saves only what changed, moves version on every saved change and
// modification on every saved edit (not on lastLogin alone), records one
// history entry per saved change, and saves and records nothing for a
// write that changes nothing or is refused.
func TestWritePath(t *testing.T) {
	const pw = "a long passphrase"
	for _, tc := range []struct {
		name  string
		setup []write // by the admin, before the write
		as    string  // "self" or "admin"
		w     write
		code  string // "" is success
		// After the write:
		version  int64             // stored version
		modMoved bool              // modification is the write's time
		actions  []string          // history entries the write added, newest first
		ops      string            // the newest added entry's patch (op path; …)
		saved    map[string]string // stored document fields, as JSON
	}{
		{name: "JSON Patch sets a field", as: "self",
			w:       patchW(`[{"op":"add","path":"/description","value":"on call"}]`),
			version: 2, modMoved: true, actions: []string{"patch"}, ops: "replace /description; replace /modification",
			saved: map[string]string{"description": `"on call"`, "name": `"T"`}},
		{name: "JSON Patch of several fields is one change", as: "admin",
			w:       patchW(`[{"op":"replace","path":"/name","value":"U"},{"op":"add","path":"/tags/team","value":"blue"},{"op":"add","path":"/privileges/-","value":"fleet"}]`),
			version: 2, modMoved: true, actions: []string{"patch"}, ops: "replace /name; replace /tags; replace /privileges; replace /modification",
			saved: map[string]string{"name": `"U"`, "tags": `{"team":"blue"}`, "privileges": `["fleet"]`}},
		{name: "JSON Patch that only tests saves nothing", as: "self",
			w:       patchW(`[{"op":"test","path":"/name","value":"T"}]`),
			version: 1, saved: map[string]string{"name": `"T"`}},
		{name: "JSON Patch writing the current value saves nothing", as: "self",
			w:       patchW(`[{"op":"replace","path":"/country","value":"ES"}]`),
			version: 1, saved: map[string]string{"country": `"ES"`}},
		{name: "JSON Patch whose test fails saves nothing", as: "self",
			w:    patchW(`[{"op":"replace","path":"/description","value":"lost"},{"op":"test","path":"/name","value":"Mallory"}]`),
			code: usersvc.EConflict, version: 1, saved: map[string]string{"description": `null`}},
		{name: "JSON Patch with an invalid value saves nothing", as: "self",
			w:    patchW(`[{"op":"replace","path":"/description","value":"kept?"},{"op":"replace","path":"/email","value":"not an email"}]`),
			code: usersvc.EInvalid, version: 1, saved: map[string]string{"description": `null`, "email": `"t@example.com"`}},
		{name: "JSON Patch refused for an admin-only field saves nothing", as: "self",
			w:    patchW(`[{"op":"replace","path":"/description","value":"kept?"},{"op":"replace","path":"/role","value":"admin"}]`),
			code: usersvc.EForbidden, version: 1, saved: map[string]string{"description": `null`, "role": `"user"`}},
		{name: "merge patch sets and clears", as: "admin",
			setup:   []write{patchW(`[{"op":"add","path":"/group","value":"g1"}]`)},
			w:       mergeW(`{"description":"merged","group":null,"tags":{"a":"b"}}`),
			version: 3, modMoved: true, actions: []string{"patch"}, ops: "replace /description; replace /tags; replace /group; replace /modification",
			saved: map[string]string{"description": `"merged"`, "group": `null`, "tags": `{"a":"b"}`}},
		{name: "merge patch of the current values saves nothing", as: "admin",
			w:       mergeW(`{"name":"T","tags":{}}`),
			version: 1, saved: map[string]string{"name": `"T"`, "tags": `{}`}},
		{name: "replace clears omitted optional fields", as: "self",
			setup:   []write{patchW(`[{"op":"add","path":"/description","value":"old"}]`)},
			w:       replaceW(`{"name":"T2","email":"t@example.com","country":"ES","timeZone":"UTC"}`),
			version: 3, modMoved: true, actions: []string{"replace"}, ops: "replace /name; replace /description; replace /modification",
			saved: map[string]string{"name": `"T2"`, "description": `null`}},
		{name: "replace by the user keeps admin-only fields they omit", as: "self",
			setup:   []write{patchW(`[{"op":"add","path":"/tags/team","value":"blue"},{"op":"add","path":"/dailyQuota","value":50}]`)},
			w:       replaceW(`{"name":"T","email":"t@example.com","country":"ES","timeZone":"UTC"}`),
			version: 2, saved: map[string]string{"tags": `{"team":"blue"}`, "dailyQuota": `50`}},
		{name: "replace by an admin clears admin-only fields omitted", as: "admin",
			setup:   []write{patchW(`[{"op":"add","path":"/tags/team","value":"blue"},{"op":"add","path":"/dailyQuota","value":50}]`)},
			w:       replaceW(`{"name":"T","email":"t@example.com","country":"ES","timeZone":"UTC"}`),
			version: 3, modMoved: true, actions: []string{"replace"}, ops: "replace /tags; replace /modification; replace /dailyQuota",
			saved: map[string]string{"tags": `{}`, "dailyQuota": `null`, "role": `"user"`}},
		{name: "replace keeps role and password when omitted", as: "admin",
			setup:   []write{patchW(`[{"op":"add","path":"/role","value":"admin"},{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:       replaceW(`{"name":"T","email":"t@example.com","country":"ES","timeZone":"UTC"}`),
			version: 2, saved: map[string]string{"role": `"admin"`}},
		{name: "replace with the same values saves nothing", as: "self",
			w:       replaceW(`{"name":"T","email":"t@example.com","country":"ES","timeZone":"UTC"}`),
			version: 1},
		{name: "replace with a different id is refused", as: "admin",
			w:    replaceW(`{"id":"usr-other","name":"X","email":"t@example.com","country":"ES","timeZone":"UTC"}`),
			code: usersvc.EInvalid, version: 1, saved: map[string]string{"name": `"T"`}},
		{name: "a new password is a change, recorded without its value", as: "self",
			w:       patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`),
			version: 2, modMoved: true, actions: []string{"patch"}, ops: "replace /modification; replace /password",
			saved: map[string]string{"password": `null`}},
		{name: "re-sending the current password is no change", as: "self",
			setup:   []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:       withCurrent(pw, replaceW(`{"name":"T","email":"t@example.com","country":"ES","timeZone":"UTC","password":"`+pw+`"}`)),
			version: 2},
		{name: "changing one's own password needs the current one", as: "self",
			setup: []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:     patchW(`[{"op":"add","path":"/password","value":"another passphrase"}]`),
			code:  usersvc.EInvalid, version: 2},
		{name: "re-sending the stored password without the current one is refused too", as: "self",
			setup: []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:     replaceW(`{"name":"T","email":"t@example.com","country":"ES","timeZone":"UTC","password":"` + pw + `"}`),
			code:  usersvc.EInvalid, version: 2},
		{name: "a wrong current password fails like a sign-in", as: "self",
			setup: []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:     withCurrent("not the password", patchW(`[{"op":"add","path":"/password","value":"another passphrase"}]`)),
			code:  usersvc.EUnauthenticated, version: 2},
		{name: "the right current password lets one's own password change", as: "self",
			setup:   []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:       withCurrent(pw, patchW(`[{"op":"add","path":"/password","value":"another passphrase"}]`)),
			version: 3, modMoved: true, actions: []string{"patch"}, ops: "replace /modification; replace /password"},
		{name: "an admin resets another's password without theirs", as: "admin",
			setup:   []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w:       patchW(`[{"op":"add","path":"/password","value":"another passphrase"}]`),
			version: 3, modMoved: true, actions: []string{"patch"}, ops: "replace /modification; replace /password"},
		{name: "delete sets deletedAt", as: "admin",
			w:       deleteW(),
			version: 2, modMoved: true, actions: []string{"delete"}, ops: "replace /modification; replace /deletedAt",
			saved: map[string]string{"deletedAt": `"2026-06-02T00:00:00Z"`}},
		{name: "the user deletes themselves", as: "self",
			w:       deleteW(),
			version: 2, modMoved: true, actions: []string{"delete"}, ops: "replace /modification; replace /deletedAt",
			saved: map[string]string{"deletedAt": `"2026-06-02T00:00:00Z"`}},
		{name: "deleting a deleted user saves nothing", as: "admin",
			setup:   []write{deleteW()},
			w:       deleteW(),
			version: 2, saved: map[string]string{"deletedAt": `"2026-06-01T23:00:00Z"`}},
		{name: "restore clears deletedAt", as: "admin",
			setup:   []write{deleteW()},
			w:       restoreW(),
			version: 3, modMoved: true, actions: []string{"restore"}, ops: "replace /modification; replace /deletedAt",
			saved: map[string]string{"deletedAt": `null`}},
		{name: "restoring a live user saves nothing", as: "admin",
			w:       restoreW(),
			version: 1, saved: map[string]string{"deletedAt": `null`}},
		{name: "un-delete by writing deletedAt null", as: "admin",
			setup:   []write{deleteW()},
			w:       patchW(`[{"op":"replace","path":"/deletedAt","value":null}]`),
			version: 3, modMoved: true, actions: []string{"patch"}, ops: "replace /modification; replace /deletedAt",
			saved: map[string]string{"deletedAt": `null`}},
		{name: "deletedAt cannot be written to a time", as: "admin",
			w:    patchW(`[{"op":"replace","path":"/deletedAt","value":"2026-01-01T00:00:00Z"}]`),
			code: usersvc.EInvalid, version: 1, saved: map[string]string{"deletedAt": `null`}},
		{name: "sign-in moves lastLogin and version, not modification", as: "admin",
			setup: []write{patchW(`[{"op":"add","path":"/password","value":"` + pw + `"}]`)},
			w: func(t *testing.T, ctx context.Context, svc *usersvc.Service, id string) (*usersvc.User, error) {
				_, err := svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.9"), "t@example.com", pw)
				return nil, err
			},
			version: 3, actions: []string{"login"}, ops: "replace /lastLogin",
			saved: map[string]string{"lastLogin": `"2026-06-02T00:00:00Z"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				target, tok := e.NewUser(t, "T", "t@example.com", "UTC", usersvc.RoleUser)
				admin := as(t, e, e.AdminToken)
				e.Clock.Set(time.Date(2026, 6, 1, 23, 0, 0, 0, time.UTC))
				for i, s := range tc.setup {
					if _, err := s(t, admin, e.Svc, target.ID); err != nil {
						t.Fatalf("setup %d: %v", i, err)
					}
				}
				before := stored(t, e, target.ID)
				historyBefore := len(audit(t, e, target.ID))
				e.Clock.Set(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC))
				ctx := admin
				if tc.as == "self" {
					ctx = as(t, e, tok)
				}
				_, err := tc.w(t, ctx, e.Svc, target.ID)
				if got := codeOf(err); got != tc.code {
					t.Fatalf("code %q (%v), want %q", got, err, tc.code)
				}
				after := stored(t, e, target.ID)
				if after.Version != tc.version {
					t.Errorf("version %d, want %d", after.Version, tc.version)
				}
				wantMod := before.Modification
				if tc.modMoved {
					wantMod = time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
				}
				if !after.Modification.Equal(wantMod) {
					t.Errorf("modification %s, want %s", after.Modification, wantMod)
				}
				entries := audit(t, e, target.ID)
				var added []string
				for _, en := range entries[:len(entries)-historyBefore] {
					added = append(added, en.Action)
				}
				if len(added) != len(tc.actions) || (len(added) > 0 && added[0] != tc.actions[0]) {
					t.Fatalf("history added %v, want %v", added, tc.actions)
				}
				if len(added) > 0 {
					if got := opsOf(entries[0].Patch); got != tc.ops {
						t.Errorf("recorded patch %q, want %q", got, tc.ops)
					}
					if tc.as == "admin" && entries[0].Actor != e.Admin.ID && tc.actions[0] != "login" {
						t.Errorf("actor %q, want the admin", entries[0].Actor)
					}
				}
				for f, want := range tc.saved {
					if got := docField(t, after, f); got != want {
						t.Errorf("stored %s = %s, want %s", f, got, want)
					}
				}
			})
		})
	}
}

// TestAuthorizationBeforeValidation: a caller who may not write a field
// is refused for it (EForbidden) whatever value they send, valid or not;
// only writes the caller may make are validated (EInvalid). Nothing is
// saved either way.
func TestAuthorizationBeforeValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		as    string // "self" or "admin"
		patch string
		code  string
	}{
		{"self, admin-only field, valid value", "self", `[{"op":"replace","path":"/role","value":"admin"}]`, usersvc.EForbidden},
		{"self, admin-only field, invalid role", "self", `[{"op":"replace","path":"/role","value":"root"}]`, usersvc.EForbidden},
		{"self, admin-only field, adminDevices out of range", "self", `[{"op":"replace","path":"/adminDevices","value":-1}]`, usersvc.EForbidden},
		{"self, admin-only field, empty tag name", "self", `[{"op":"add","path":"/tags/","value":"x"}]`, usersvc.EForbidden},
		{"self, admin-only field, not a bool", "self", `[{"op":"replace","path":"/disabled","value":"yes"}]`, usersvc.EForbidden},
		{"self, own field, invalid value", "self", `[{"op":"replace","path":"/email","value":"not an email"}]`, usersvc.EInvalid},
		{"admin, invalid role", "admin", `[{"op":"replace","path":"/role","value":"root"}]`, usersvc.EInvalid},
		{"admin, adminDevices out of range", "admin", `[{"op":"replace","path":"/adminDevices","value":-1}]`, usersvc.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				ctx := as(t, e, e.AdminToken)
				if tc.as == "self" {
					ctx = as(t, e, e.AliceToken)
				}
				_, err := e.Svc.PatchUser(ctx, e.Alice.ID, generic(t, tc.patch), nil)
				if got := codeOf(err); got != tc.code {
					t.Fatalf("code %q (%v), want %q", got, err, tc.code)
				}
				if v := stored(t, e, e.Alice.ID).Version; v != 1 {
					t.Fatalf("a refused write saved: version %d", v)
				}
			})
		})
	}
}

// TestConcurrentWritesLoseNothing: writes to one user at the same time
// are serialized on the user's row: every one is saved, each its own
// version and history entry.
func TestConcurrentWritesLoseNothing(t *testing.T) {
	const n = 20
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := as(t, e, e.AdminToken)
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				_, err := e.Svc.PatchUser(ctx, e.Alice.ID, []any{map[string]any{"op": "add", "path": fmt.Sprintf("/tags/t%d", i), "value": "x"}}, nil)
				errs <- err
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Errorf("write: %v", err)
			}
		}
		u := stored(t, e, e.Alice.ID)
		if len(u.Tags) != 20 || u.Version != 21 {
			t.Fatalf("%d tags at version %d after %d concurrent writes, want 20 at 21", len(u.Tags), u.Version, n)
		}
		if h := audit(t, e, e.Alice.ID); len(h) != 22 { // create, token.create and 20 patches
			t.Fatalf("%d history entries, want 22", len(h))
		}
	})
}

// TestManyUnknownKeys: a user body of 200,000 unique unknown keys (as a
// caller other than REST might hand over, past any parser's bound) is
// refused naming the least unknown key, in one pass over the keys (they
// were insertion-sorted: minutes for this body). The wait is a liveness
// bound, not a speed measurement.
func TestManyUnknownKeys(t *testing.T) {
	body := map[string]any{"name": "Alice", "k": 0}
	for i := range 200_000 {
		body[fmt.Sprintf("k%07d", i)] = 0
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		done := make(chan error, 1)
		go func() { _, err := e.Svc.ReplaceUser(as(t, e, e.AliceToken), e.Alice.ID, body, nil); done <- err }()
		select {
		case err := <-done:
			if codeOf(err) != usersvc.EInvalid || err.Error() != `Unknown field "k".` {
				t.Fatalf("got %v, want Unknown field \"k\"", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no answer in 10 s")
		}
	})
}

// TestSameLookingText: emails and names are stored in Unicode NFC, so the
// decomposed spelling of an address is the same account as the composed
// one (and signs in); invisible and bidirectional control characters are
// refused in emails and names; a look-alike from another script is
// another address (documented in EmailKey).
func TestSameLookingText(t *testing.T) {
	const composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
	doc := func(name, email string) map[string]any {
		return map[string]any{"name": name, "email": email, "country": "ES", "timeZone": "UTC", "password": "a long passphrase"}
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := as(t, e, e.AdminToken)
		u, err := e.Svc.CreateUser(admin, doc("Jose\u0301", decomposed))
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != composed || u.Name != "Jos\u00e9" {
			t.Fatalf("stored %q %q, want the NFC forms", u.Email, u.Name)
		}
		if _, err := e.Svc.CreateUser(admin, doc("Other", composed)); codeOf(err) != usersvc.EConflict {
			t.Fatalf("the composed spelling: %v, want a conflict with the decomposed one", err)
		}
		if _, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.1"), decomposed, "a long passphrase"); err != nil {
			t.Fatalf("sign-in with the decomposed spelling: %v", err)
		}
		for _, tc := range []struct{ name, email, field string }{
			{"Zero Width", "ali\u200bce@example.com", "email"},
			{"BOM", "\ufeffbob2@example.com", "email"},
			{"Joiner", "a\u200db@example.com", "email"},
			{"Evil\u202egnp.exe", "evil@example.com", "name"},
			{"Isolate \u2066x\u2069", "iso@example.com", "name"},
			{"New\nline", "nl@example.com", "name"},
			{"Hidden\u200b", "hidden@example.com", "name"},
		} {
			_, err := e.Svc.CreateUser(admin, doc(tc.name, tc.email))
			var ue *usersvc.Error
			if !errors.As(err, &ue) || ue.Code != usersvc.EInvalid || ue.Field != tc.field {
				t.Errorf("%q %q: %v, want invalid %s", tc.name, tc.email, err, tc.field)
			}
		}
		// Allowed: the joiners names need, and another script's look-alike.
		for _, d := range []map[string]any{doc("\U0001F468\u200d\U0001F469\u200d\U0001F467 Family", "family@example.com"), doc("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "fa@example.com"), doc("Cyrillic", "\u0430lice@example.com")} {
			if _, err := e.Svc.CreateUser(admin, d); err != nil {
				t.Errorf("%v: %v", d, err)
			}
		}
	})
}
