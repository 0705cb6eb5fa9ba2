package usersvc_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestReadYourWritesAcrossReplicas: two processes on one primary (A, and
// B whose Reader is a real streaming standby). A write acknowledged by A
// is in B's very next read through the handler, even while the standby
// has stopped replaying (B's reads then come from the primary), and B's
// reads come from the standby again once it has caught up.
func TestReadYourWritesAcrossReplicas(t *testing.T) {
	cl := testenv.StartReplicated(t)
	primaryURL, standbyURL := cl.Schema(t)
	a := testenv.Start(t, testenv.DB{Name: "postgres", URL: primaryURL})
	stB := testenv.OpenStore(t, testenv.DB{Name: "postgres", URL: primaryURL})
	svcB := testenv.NewService(stB, a.Clock)
	sb, err := store.OpenStandby(context.Background(), standbyURL, stB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	svcB.Reader = sb
	b := testenv.NewHandler(svcB)
	bob := "/api/users/" + a.Bob.ID
	cl.CatchUp(t)

	// read asks B for Bob (REST), the user list and Bob's history
	// (GraphQL), and says whether each showed name.
	read := func(t *testing.T, name string) {
		t.Helper()
		if r := testenv.Do(t, b, "GET", bob, a.AdminToken, ""); r.Status != 200 || !strings.Contains(string(r.Body), `"name":"`+name+`"`) {
			t.Errorf("GET Bob on B: %d %s; want name %s", r.Status, r.Body, name)
		}
		r := testenv.Do(t, b, "POST", "/graphql", a.AdminToken, `{"query":"{ users(first: 10) { edges { node { name history(first: 1) { edges { node { patch } } } } } } }"}`, "Content-Type: application/json")
		if r.Status != 200 || !strings.Contains(string(r.Body), `"name":"`+name+`"`) || !strings.Contains(string(r.Body), `"value":"`+name+`"`) {
			t.Errorf("users with history on B: %d %s; want %s, and a patch to it", r.Status, r.Body, name)
		}
	}
	before := sb.Stats()

	cl.PauseReplay(t)
	if r := a.Do(t, "PATCH", bob, a.AdminToken, `[{"op":"replace","path":"/name","value":"Roberto"}]`); r.Status != 200 {
		t.Fatalf("PATCH on A: %d %s", r.Status, r.Body)
	}
	read(t, "Roberto")
	// The standby itself still has the old name: B did not read there.
	db, err := sql.Open("postgres", standbyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var onStandby string
	if err := db.QueryRow("SELECT name FROM users WHERE id = $1", a.Bob.ID).Scan(&onStandby); err != nil || onStandby != "Bob" {
		t.Fatalf("Bob's name on the paused standby: %q, %v; want the old one", onStandby, err)
	}
	paused := sb.Stats()
	if paused.Behind-before.Behind < 3 || paused.Standby != before.Standby {
		t.Errorf("reads while paused: %+v (before %+v); want every one from the primary, as the standby was behind", paused, before)
	}

	cl.ResumeReplay(t)
	if r := a.Do(t, "PATCH", bob, a.AdminToken, `[{"op":"replace","path":"/name","value":"Rob"}]`); r.Status != 200 {
		t.Fatalf("PATCH on A: %d %s", r.Status, r.Body)
	}
	read(t, "Rob")
	if resumed := sb.Stats(); resumed.Standby-paused.Standby < 3 {
		t.Errorf("reads after resuming: %+v (paused %+v); want them from the standby", resumed, paused)
	}
}
