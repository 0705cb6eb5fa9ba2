package usersvc_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// killAfterCommit is a store whose process dies (SIGKILL) right after a
// user's change commits: before the write announces it, before anything
// else in the process runs.
type killAfterCommit struct{ usersvc.Store }

func (k killAfterCommit) SaveUser(ctx context.Context, w *usersvc.UserSave) (bool, error) {
	saved, err := k.Store.SaveUser(ctx, w)
	if saved && err == nil {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // never returns
	}
	return saved, err
}

// TestKilledWriterHelper is the process TestKilledWriterIsHeard kills: it
// disables a user and dies right after the commit. It runs only when that
// test starts it.
func TestKilledWriterHelper(t *testing.T) {
	url, id := os.Getenv("USERSVC_TEST_KILL_URL"), os.Getenv("USERSVC_TEST_KILL_USER")
	if url == "" {
		t.Skip("run by TestKilledWriterIsHeard")
	}
	st, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := usersvc.NewService(killAfterCommit{st})
	_, err = svc.PatchUser(usersvc.SystemContext(context.Background()), id,
		[]any{map[string]any{"op": "replace", "path": "/disabled", "value": true}}, nil)
	t.Fatalf("the write returned (%v): the process should have died at its commit", err)
}

// TestKilledWriterIsHeard: a process killed with SIGKILL right after a
// commit that ends a user's access never announces it; another process
// that had the user's token cached refuses it anyway, as soon as its next
// read of the change log (every 200 ms, within the cache's one-second
// bound) has run.
func TestKilledWriterIsHeard(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
		startWatching(t, p2)
		cached(t, p2, e.BobToken)
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "USERSVC_TEST_KILL_URL="+db.URL, "USERSVC_TEST_KILL_USER="+e.Bob.ID)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the writer was not killed at its commit: %v\n%s", err, out)
		}
		killed := time.Now()
		if u, err := e.Store.User(context.Background(), e.Bob.ID, false); err != nil || !u.Disabled {
			t.Fatalf("the killed writer's change is not committed: %+v, %v", u, err)
		}
		// Wait (bounded) until the second process has read the log after
		// the kill; its cache must then refuse the token.
		for i := 0; i < 500 && !usersvc.AuthHeard(p2).After(killed); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !usersvc.AuthHeard(p2).After(killed) {
			t.Fatal("the second process never read the change log after the kill")
		}
		if _, err := auth(p2, e.BobToken); usersvc.ErrorCode(err) != usersvc.EForbidden && usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
			t.Fatalf("Bob's token after his disable was committed and the log read: %v, want refused", err)
		}
	})
}
