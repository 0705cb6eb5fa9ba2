package usersvc_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/jsonpatch"
	"usersvc/store"
)

// asOn is ctx for a request made with token, as the server builds it.
func asOn(t *testing.T, svc *usersvc.Service, token string) context.Context {
	t.Helper()
	p, err := auth(svc, token)
	if err != nil {
		t.Fatal(err)
	}
	return usersvc.WithPrincipal(context.Background(), p)
}

func patchJSON(t *testing.T, patch string) any {
	t.Helper()
	ops, err := jsonpatch.Parse([]byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestWriteStatements counts the statements each kind of write sends:
// one statement on PostgreSQL (plus the read of another user), a
// transaction where the last-admin rule needs the other admins locked.
func TestWriteStatements(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var n atomic.Int64
		st, err := store.Open(context.Background(), db.URL, store.Options{OnQuery: func() { n.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		svc := testenv.NewService(st, e.Clock)
		admin, alice := asOn(t, svc, e.AdminToken), asOn(t, svc, e.AliceToken)
		// The store's driver also counts BEGIN and COMMIT. PostgreSQL saves
		// in one statement; SQLite (no data-modifying WITH) in a transaction
		// of two. Demoting an admin counts the other admins first, in the
		// save's transaction.
		want := map[string]map[string]int64{
			"postgres": {"own user": 1, "another user": 2, "demote an admin": 4},
			"sqlite":   {"own user": 4, "another user": 5, "demote an admin": 5},
		}[db.Name]
		e.NewUser(t, "Admin 2", "admin2@example.com", "UTC", usersvc.RoleAdmin) // so the first may step down
		for _, tc := range []struct {
			name  string
			ctx   context.Context
			id    string
			patch string
		}{
			{"own user", alice, e.Alice.ID, `[{"op":"replace","path":"/description","value":"mine"}]`},
			{"another user", admin, e.Bob.ID, `[{"op":"add","path":"/tags/a","value":"b"}]`},
			{"demote an admin", admin, e.Admin.ID, `[{"op":"replace","path":"/role","value":"user"}]`},
		} {
			n.Store(0)
			if _, err := svc.PatchUser(tc.ctx, tc.id, patchJSON(t, tc.patch), nil); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := n.Load(); got != want[tc.name] {
				t.Errorf("%s: %d statements, want %d", tc.name, got, want[tc.name])
			}
		}
	})
}

// TestConcurrentWrites: concurrent tag adds all land, through the
// caller's own user (the fast path starts from the token check's copy)
// and through another user's.
func TestConcurrentWrites(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := asOn(t, e.Svc, e.AdminToken)
		for _, target := range []*usersvc.User{e.Admin, e.Alice} {
			entries, err := e.Store.CountAudit(context.Background(), target.ID)
			if err != nil {
				t.Fatal(err)
			}
			const n = 50
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					patch := fmt.Sprintf(`[{"op":"add","path":"/tags/t%d","value":"%d"}]`, i, i)
					if _, err := e.Svc.PatchUser(ctx, target.ID, patchJSON(t, patch), nil); err != nil {
						t.Errorf("%s, patch %d: %v", target.Name, i, err)
					}
				}()
			}
			wg.Wait()
			u, err := e.Store.User(context.Background(), target.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(u.Tags) != n || u.Version != 1+n {
				t.Errorf("%s: %d tags, version %d after %d concurrent adds: %v", target.Name, len(u.Tags), u.Version, n, u.Tags)
			}
			if c, err := e.Store.CountAudit(context.Background(), target.ID); err != nil || c != entries+n {
				t.Errorf("%s: %d history entries (%v), want %d", target.Name, c, err, entries+n)
			}
		}
	})
}

// TestConcurrentIfMatch: many writes with the same version: exactly one
// wins, every other fails its precondition.
func TestConcurrentIfMatch(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			name  string
			token string
			user  *usersvc.User
		}{
			{"own user", e.AliceToken, e.Alice},
			{"another user", e.AdminToken, e.Bob},
		} {
			ctx := asOn(t, e.Svc, tc.token)
			u, err := e.Store.User(context.Background(), tc.user.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			version := u.Version
			const n = 50
			var wins, failed atomic.Int64
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					patch := fmt.Sprintf(`[{"op":"replace","path":"/description","value":"d%d"}]`, i)
					_, err := e.Svc.PatchUser(ctx, tc.user.ID, patchJSON(t, patch), &version)
					switch {
					case err == nil:
						wins.Add(1)
					case usersvc.ErrorCode(err) == usersvc.EPreconditionFailed:
						failed.Add(1)
					default:
						t.Errorf("%s: %v", tc.name, err)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 || failed.Load() != n-1 {
				t.Errorf("%s: %d won, %d failed the precondition; want 1 and %d", tc.name, wins.Load(), failed.Load(), n-1)
			}
		}
	})
}

// TestAdminsDemoteEachOther: two admins demoting each other at the same
// moment cannot both succeed; an active admin always remains.
func TestAdminsDemoteEachOther(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		second, secondToken := e.NewUser(t, "Second", "second@example.com", "UTC", usersvc.RoleAdmin)
		sys := usersvc.SystemContext(context.Background())
		demote := patchJSON(t, `[{"op":"replace","path":"/role","value":"user"}]`)
		promote := patchJSON(t, `[{"op":"replace","path":"/role","value":"admin"}]`)
		for round := range 10 {
			first, other := asOn(t, e.Svc, e.AdminToken), asOn(t, e.Svc, secondToken)
			var wg sync.WaitGroup
			var ok atomic.Int64
			for _, w := range []struct {
				ctx context.Context
				id  string
			}{{first, second.ID}, {other, e.Admin.ID}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.Svc.PatchUser(w.ctx, w.id, demote, nil); err == nil {
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
			if ok.Load() > 1 {
				t.Fatalf("round %d: both demotions succeeded", round)
			}
			admins, err := e.Store.CountActiveAdmins(context.Background(), "", e.Clock.Now(), false)
			if err != nil || admins < 1 {
				t.Fatalf("round %d: %d active admins (%v)", round, admins, err)
			}
			for _, id := range []string{e.Admin.ID, second.ID} {
				if _, err := e.Svc.PatchUser(sys, id, promote, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestManyWriters: 20 writers at once, fast and locked writes mixed, all
// succeed (SQLite has one connection and one writer at a time).
func TestManyWriters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin, alice := asOn(t, e.Svc, e.AdminToken), asOn(t, e.Svc, e.AliceToken)
		var wg sync.WaitGroup
		for w := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5 {
					var err error
					switch (w + i) % 4 {
					case 0: // fast: own user
						_, err = e.Svc.PatchUser(alice, e.Alice.ID, patchJSON(t, fmt.Sprintf(`[{"op":"replace","path":"/description","value":"w%d-%d"}]`, w, i)), nil)
					case 1: // fast: another user
						_, err = e.Svc.PatchUser(admin, e.Bob.ID, patchJSON(t, fmt.Sprintf(`[{"op":"add","path":"/tags/w%d","value":"%d"}]`, w, i)), nil)
					case 2: // locked: a password change
						_, err = e.Svc.PatchUser(admin, e.Bob.ID, patchJSON(t, fmt.Sprintf(`[{"op":"add","path":"/password","value":"password w%d-%d"}]`, w, i)), nil)
					case 3: // locked: the admin's own expiry (the last-admin question)
						_, err = e.Svc.PatchUser(admin, e.Admin.ID, patchJSON(t, fmt.Sprintf(`[{"op":"replace","path":"/expires","value":"2099-01-01T00:00:%02dZ"}]`, w)), nil)
					}
					if err != nil {
						t.Errorf("writer %d, write %d: %v", w, i, err)
					}
				}
			}()
		}
		wg.Wait()
	})
}

// TestFastWriteUpdatesCache: after a fast-path write the token cache holds
// the new state, in this process at once and in another once the notice
// is heard, exactly as after a locked write: a non-admin's disable, expiry
// or start in the future refuse their token; a tag change is seen.
func TestFastWriteUpdatesCache(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var other *usersvc.Service
		if db.Name == "postgres" {
			other = testenv.NewService(testenv.OpenStore(t, db), e.Clock)
			startWatching(t, other)
		}
		admin := asOn(t, e.Svc, e.AdminToken)
		for i, tc := range []struct {
			name, patch string
			right       func(p *usersvc.Principal, err error) bool
		}{
			{"disable", `[{"op":"replace","path":"/disabled","value":true}]`, refused},
			{"expires in the past", `[{"op":"replace","path":"/expires","value":"2020-01-01T00:00:00Z"}]`, refused},
			{"from in the future", `[{"op":"replace","path":"/from","value":"2099-01-01T00:00:00Z"}]`, refused},
			{"tags", `[{"op":"add","path":"/tags/seen","value":"yes"}]`, func(p *usersvc.Principal, err error) bool {
				return err == nil && p.User.Tags["seen"] == "yes"
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				victim, token := e.NewUser(t, tc.name, fmt.Sprintf("victim%d@example.com", i), "UTC", usersvc.RoleUser)
				procs := []*usersvc.Service{e.Svc}
				if other != nil {
					procs = append(procs, other)
				}
				gens := make([]uint64, len(procs))
				for j, p := range procs { // fill each cache
					if _, err := auth(p, token); err != nil {
						t.Fatal(err)
					}
					gens[j] = usersvc.AuthGeneration(p, victim.ID)
				}
				if _, err := e.Svc.PatchUser(admin, victim.ID, patchJSON(t, tc.patch), nil); err != nil {
					t.Fatal(err)
				}
				for j, p := range procs {
					if j > 0 {
						waitHeard(t, p, victim.ID, gens[j])
					}
					if pr, err := auth(p, token); !tc.right(pr, err) {
						t.Errorf("process %d after the write: principal %+v, err %v", j+1, pr, err)
					}
				}
			})
		}
	})
}

// TestFastWriteRacesCacheFill forces the bad interleaving with a fast-path
// write: a token check reads a non-admin user, the write commits and
// refreshes the cache, and only then does the check try to cache what it
// read. The stale read must not be cached.
func TestFastWriteRacesCacheFill(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := asOn(t, e.Svc, e.AdminToken)
		victim, token := e.NewUser(t, "Victim", "victim@example.com", "UTC", usersvc.RoleUser)
		var once sync.Once
		usersvc.SetAuthBeforePut(e.Svc, func(owner *usersvc.User) {
			if owner.ID != victim.ID {
				return
			}
			once.Do(func() {
				if _, err := e.Svc.PatchUser(admin, victim.ID, patchJSON(t, `[{"op":"replace","path":"/disabled","value":true}]`), nil); err != nil {
					t.Errorf("disable: %v", err)
				}
			})
		})
		defer usersvc.SetAuthBeforePut(e.Svc, nil)
		if _, err := auth(e.Svc, token); err != nil {
			t.Fatalf("the racing check read the user before the change, so it passes: %v", err)
		}
		usersvc.SetAuthBeforePut(e.Svc, nil)
		for i := range 3 {
			if p, err := auth(e.Svc, token); !refused(p, err) {
				t.Fatalf("check %d after the disable committed: principal %+v, err %v", i+1, p, err)
			}
		}
	})
}
