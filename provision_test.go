package usersvc_test

import (
	"context"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestProvisioningKey: a SCIM provisioning key reaches /scim/v2 and
// nothing else (REST and GraphQL answer 403); only an admin may own one,
// and it stops working on /scim/v2 when its owner stops being one; a
// plain user's token is 403 on /scim/v2, no token 401.
func TestProvisioningKey(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		admin2, _ := e.NewUser(t, "Provisioner", "prov@example.com", "UTC", usersvc.RoleAdmin)
		key, err := e.Svc.CreateScopedToken(sys, admin2.ID, "idp", 0, usersvc.ScopeSCIM)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.CreateScopedToken(sys, e.Alice.ID, "idp", 0, usersvc.ScopeSCIM); codeOf(err) != usersvc.EInvalid {
			t.Fatalf("a plain user's provisioning key: %v", err)
		}
		if _, err := e.Svc.CreateScopedToken(sys, admin2.ID, "idp", 0, "everything"); codeOf(err) != usersvc.EInvalid {
			t.Fatalf("an unknown scope: %v", err)
		}
		for _, tc := range []struct {
			method, path, token, body string
			status                    int
		}{
			{"GET", "/scim/v2/Users", key, "", 200},
			{"GET", "/scim/v2/ServiceProviderConfig", key, "", 200},
			{"POST", "/scim/v2/Users", key, `{"userName":"via-key"}`, 201},
			{"GET", "/scim/v2/Users", e.AdminToken, "", 200},
			{"GET", "/api/users/" + admin2.ID, key, "", 403},
			{"GET", "/api/users", key, "", 403},
			{"POST", "/graphql", key, `{"query":"{ me { id } }"}`, 403},
			{"GET", "/scim/v2/Users", e.AliceToken, "", 403},
			{"GET", "/scim/v2/Groups", e.AliceToken, "", 403},
			{"GET", "/scim/v2/Users", "", "", 401},
			{"GET", "/scim/v2/Users", "usv_" + strings.Repeat("A", 43), "", 401},
		} {
			r := e.Do(t, tc.method, tc.path, tc.token, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s %s with %.8s: %d, want %d: %s", tc.method, tc.path, tc.token, r.Status, tc.status, r.Body)
			}
			if strings.HasPrefix(tc.path, "/scim/") && tc.status >= 400 && !strings.Contains(string(r.Body), "urn:ietf:params:scim:api:messages:2.0:Error") {
				t.Errorf("%s %s: not SCIM's error: %s", tc.method, tc.path, r.Body)
			}
		}
		// Demoted, the key's owner provisions no more.
		if _, err := e.Svc.MergePatchUser(sys, admin2.ID, map[string]any{"role": "user"}, nil); err != nil {
			t.Fatal(err)
		}
		if r := e.Do(t, "GET", "/scim/v2/Users", key, ""); r.Status != 403 {
			t.Fatalf("a demoted owner's key: %d %s", r.Status, r.Body)
		}
	})
}

// TestSCIMDeactivationEndsTokens: a SCIM PATCH active:false disables the
// user: their tokens are refused at once in this process, and on
// PostgreSQL in a second process as soon as it has heard the change (the
// 1 s bound is the heartbeat rule, TestCacheNeedsHeartbeats).
func TestSCIMDeactivationEndsTokens(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		checkers := []*usersvc.Service{e.Svc}
		if db.Name == "postgres" {
			startWatching(t, e.Svc)
			p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
			startWatching(t, p2)
			checkers = append(checkers, p2)
		}
		sys := usersvc.SystemContext(context.Background())
		for i, checker := range checkers {
			r := e.Do(t, "POST", "/scim/v2/Users", e.AdminToken, `{"userName":"leaver`+string(rune('a'+i))+`","emails":[{"value":"l@example.com"}]}`)
			if r.Status != 201 {
				t.Fatalf("POST: %d %s", r.Status, r.Body)
			}
			id := r.JSON["id"].(string)
			tok, err := e.Svc.CreateToken(sys, id, "t", 0)
			if err != nil {
				t.Fatal(err)
			}
			cached(t, checker, tok)
			gen := usersvc.AuthGeneration(checker, id)
			okta := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
			if p := e.Do(t, "PATCH", "/scim/v2/Users/"+id, e.AdminToken, okta); p.Status != 204 {
				t.Fatalf("PATCH: %d %s", p.Status, p.Body)
			}
			if checker != e.Svc {
				waitHeard(t, checker, id, gen)
			}
			if _, err := auth(checker, tok); codeOf(err) != usersvc.EForbidden {
				t.Fatalf("checker %d: a deactivated user's token: %v", i, err)
			}
		}
	})
}

// TestSignInStaysUnambiguous: a user with a userName signs in with it (in
// any case), not with their email; no two users ever share a sign-in
// identifier, whichever way it is given (userName or email, any case);
// users without a userName keep unique emails; provisioned users may
// share emails; a deleted provisioned user's userName is free again, and
// restoring them is a conflict while it is taken.
func TestSignInStaysUnambiguous(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sys := usersvc.SystemContext(context.Background())
		pw := "a long enough password"
		create := func(doc map[string]any) (*usersvc.User, error) {
			base := map[string]any{"name": "N", "email": "", "country": "ES", "timeZone": "UTC", "password": pw}
			for k, v := range doc {
				base[k] = v
			}
			return e.Svc.CreateUser(sys, base)
		}
		jo, err := create(map[string]any{"userName": "Jo.Smith", "email": "shared@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := create(map[string]any{"userName": "kim", "email": "shared@example.com"}); err != nil {
			t.Fatalf("provisioned users sharing an email: %v", err)
		}
		login := func(id string) (string, error) {
			s, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.1"), id, pw)
			if err != nil {
				return "", err
			}
			p, err := auth(e.Svc, s.Token)
			if err != nil {
				return "", err
			}
			return p.User.ID, nil
		}
		if got, err := login("JO.SMITH"); err != nil || got != jo.ID {
			t.Fatalf("sign-in with the userName: %s, %v", got, err)
		}
		if _, err := login("shared@example.com"); codeOf(err) != usersvc.EUnauthenticated {
			t.Fatalf("sign-in with a provisioned user's email: %v", err)
		}
		for name, doc := range map[string]map[string]any{
			"a userName taken, in another case":   {"userName": "jo.smith", "email": "x1@example.com"},
			"a userName that is a user's email":   {"userName": "ALICE@example.com"},
			"an email of a user without userName": {"email": "Bob@Example.com"},
		} {
			if _, err := create(doc); codeOf(err) != usersvc.EConflict {
				t.Errorf("%s: %v, want a conflict", name, err)
			}
		}
		if _, err := create(map[string]any{"userName": "Jos\u00e9"}); err != nil {
			t.Fatal(err)
		}
		if _, err := create(map[string]any{"userName": "jose\u0301"}); codeOf(err) != usersvc.EConflict {
			t.Fatalf("a userName in another Unicode form: %v", err)
		}
		// A user whose userName spells an address: that address is the
		// userName's, no other user may sign in with it.
		if _, err := create(map[string]any{"userName": "Zed@Example.com", "email": "z@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := create(map[string]any{"email": "zed@example.com"}); codeOf(err) != usersvc.EConflict {
			t.Fatalf("an email another user signs in with: %v", err)
		}
		// Deleted, a provisioned user's userName is free; restoring is a
		// conflict while another holds it.
		if _, err := e.Svc.DeleteUser(sys, jo.ID); err != nil {
			t.Fatal(err)
		}
		jo2, err := create(map[string]any{"userName": "JO.smith"})
		if err != nil {
			t.Fatalf("a deleted user's userName again: %v", err)
		}
		if _, err := e.Svc.RestoreUser(sys, jo.ID); codeOf(err) != usersvc.EConflict {
			t.Fatalf("restoring over a taken userName: %v", err)
		}
		if got, err := login("jo.smith"); err != nil || got != jo2.ID {
			t.Fatalf("sign-in after re-provisioning: %s, %v", got, err)
		}
		// An existing user linked to the IdP by giving them a userName now
		// signs in with it, and appears in SCIM's /Users.
		if _, err := e.Svc.MergePatchUser(sys, e.Bob.ID, map[string]any{"userName": "bobby"}, nil); err != nil {
			t.Fatal(err)
		}
		r := e.Do(t, "GET", "/scim/v2/Users?filter=userName%20eq%20%22BOBBY%22", e.AdminToken, "")
		if r.Status != 200 || !strings.Contains(string(r.Body), e.Bob.ID) || !strings.Contains(string(r.Body), "bob@example.com") {
			t.Fatalf("a linked user in SCIM: %d %s", r.Status, r.Body)
		}
	})
}
