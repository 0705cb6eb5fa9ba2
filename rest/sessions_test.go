package rest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// TestDeleteEndsSessions: deleting a user revokes their sign-in sessions,
// so a restore does not bring them back; operator tokens and API keys are
// only suspended while the user is deleted.
func TestDeleteEndsSessions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		k := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":"tracker"}`)
		key := k.JSON["key"].(string)
		s := signIn(t, e, `{"userName":"alice@example.com","password":"alice passphrase"}`)
		session := s.JSON["token"].(string)
		if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 200 { // cached now
			t.Fatalf("session: %d", r.Status)
		}
		for _, who := range []struct{ name, token string }{{"self", session}, {"admin", e.AdminToken}} {
			t.Run(who.name, func(t *testing.T) {
				if r := e.Do(t, "DELETE", path(e.Alice), who.token, ""); r.Status != 200 {
					t.Fatalf("delete: %d %s", r.Status, r.Body)
				}
				if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 403 && r.Status != 401 {
					t.Fatalf("session of a deleted user: %d", r.Status)
				}
				if r := e.Do(t, "POST", path(e.Alice)+"/restore", e.AdminToken, ""); r.Status != 200 {
					t.Fatalf("restore: %d %s", r.Status, r.Body)
				}
				if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 401 {
					t.Fatalf("the old session after delete and restore: %d, want 401", r.Status)
				}
				if r := e.Do(t, "GET", path(e.Alice), e.AliceToken, ""); r.Status != 200 {
					t.Fatalf("operator token after restore: %d", r.Status)
				}
				s := signIn(t, e, `{"userName":"alice@example.com","apiKey":"`+key+`"}`)
				if s.Status != 200 {
					t.Fatalf("API key after restore: %d %s", s.Status, s.Body)
				}
				session = s.JSON["token"].(string) // the next round deletes this one
				if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 200 {
					t.Fatalf("new session: %d", r.Status)
				}
			})
		}
	})
}

// TestRevokingAKeyEndsItsSessions: the sessions exchanged for an API key
// end with it; sessions from a password or another key do not.
func TestRevokingAKeyEndsItsSessions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		patch(t, e, e.AliceToken, e.Alice.ID, `[{"op":"add","path":"/password","value":"alice passphrase"}]`)
		newKey := func(label string) (key, id string) {
			k := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":"`+label+`"}`)
			return k.JSON["key"].(string), fmt.Sprint(k.JSON["apiKey"].(map[string]any)["id"])
		}
		session := func(body string) string {
			r := signIn(t, e, body)
			if r.Status != 200 {
				t.Fatalf("sign in: %d %s", r.Status, r.Body)
			}
			tok := r.JSON["token"].(string)
			if r := e.Do(t, "GET", path(e.Alice), tok, ""); r.Status != 200 { // cached now
				t.Fatalf("session: %d", r.Status)
			}
			return tok
		}
		car, carID := newKey("car")
		van, _ := newKey("van")
		fromCar1 := session(`{"userName":"alice@example.com","apiKey":"` + car + `"}`)
		fromCar2 := session(`{"userName":"alice@example.com","apiKey":"` + car + `"}`)
		fromVan := session(`{"userName":"alice@example.com","apiKey":"` + van + `"}`)
		fromPassword := session(`{"userName":"alice@example.com","password":"alice passphrase"}`)

		if r := e.Do(t, "DELETE", path(e.Alice)+"/apiKeys/"+carID, fromPassword, ""); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"first session from the revoked key", fromCar1, 401},
			{"second session from the revoked key", fromCar2, 401},
			{"session from another key", fromVan, 200},
			{"session from the password", fromPassword, 200},
			{"operator token", e.AliceToken, 200},
		} {
			if r := e.Do(t, "GET", path(e.Alice), tc.token, ""); r.Status != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, r.Status, tc.want)
			}
		}
	})
}

// TestRevokingAKeyReachesOtherProcesses: a session cached by another
// process ends when its key is revoked here (PostgreSQL notice).
func TestRevokingAKeyReachesOtherProcesses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("several processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		other := testenv.NewHandler(testenv.NewService(testenv.OpenStore(t, db), e.Clock))
		watching := make(chan error, 1)
		go func() { watching <- e.Svc.WatchChanges(ctx, time.Hour) }()
		k := e.Do(t, "POST", path(e.Alice)+"/apiKeys", e.AliceToken, `{"label":"car"}`)
		key, keyID := k.JSON["key"].(string), fmt.Sprint(k.JSON["apiKey"].(map[string]any)["id"])
		session := signIn(t, e, `{"userName":"alice@example.com","apiKey":"`+key+`"}`).JSON["token"].(string)
		ok := false
		for i := 0; i < 100 && !ok; i++ { // bounded: until the cache is live and holds the session
			if r := e.Do(t, "GET", path(e.Alice), session, ""); r.Status != 200 {
				t.Fatalf("session: %d", r.Status)
			}
			ok = e.Svc.AuthCached(session)
			if !ok {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !ok {
			t.Fatal("the token cache never went live")
		}
		if r := testenv.Do(t, other, "DELETE", path(e.Alice)+"/apiKeys/"+keyID, e.AliceToken, ""); r.Status != 200 {
			t.Fatalf("revoke through the other process: %d", r.Status)
		}
		refused := false
		for i := 0; i < 250 && !refused; i++ { // at most ~5 s
			refused = e.Do(t, "GET", path(e.Alice), session, "").Status == 401
			if !refused {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !refused {
			t.Fatal("a session of a key revoked by another process was still served from the cache")
		}
		cancel()
		if err := <-watching; err != nil {
			t.Fatal(err)
		}
	})
}
