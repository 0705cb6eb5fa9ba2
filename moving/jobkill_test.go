package moving_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
	"usersvc/spool"
	"usersvc/store"
)

// killAfterInserts is a store whose process dies (SIGKILL) right after
// its second batch of imported users commits.
type killAfterInserts struct {
	usersvc.Store
	n *atomic.Int32
}

func (k killAfterInserts) InsertUsers(ctx context.Context, users []*usersvc.User, entries []*usersvc.AuditEntry) ([]bool, error) {
	ok, err := k.Store.InsertUsers(ctx, users, entries)
	if err == nil && k.n.Add(1) == 2 {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return ok, err
}

// importFile is 3,000 users, the file both processes of
// TestImportJobKilled import.
func importFile() string {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, `{"id":"k%d","name":"K","email":"k%d@example.com","country":"ES","timeZone":"UTC"}`+"\n", i, i)
	}
	return b.String()
}

// TestImportJobKilledHelper is the server TestImportJobKilled kills: it
// starts an import job and dies when its second batch commits.
func TestImportJobKilledHelper(t *testing.T) {
	url, admin := os.Getenv("USERSVC_TEST_KILL_URL"), os.Getenv("USERSVC_TEST_KILL_ADMIN")
	if url == "" {
		t.Skip("run by TestImportJobKilled")
	}
	st, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.User(context.Background(), admin, false)
	if err != nil {
		t.Fatal(err)
	}
	killing := killAfterInserts{st, &atomic.Int32{}}
	jobs := moving.NewJobs(usersvc.NewService(killing), killing)
	d, _, err := spool.Open(os.Getenv("USERSVC_TEST_KILL_SPOOL"), moving.DefaultSpoolMax)
	if err != nil {
		t.Fatal(err)
	}
	jobs.UseSpool(d)
	ctx := usersvc.WithPrincipal(context.Background(), &usersvc.Principal{User: u})
	if _, _, err := jobs.Start(ctx, strings.NewReader(importFile()), usersvc.ImportOptions{}, "kill"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Second)
	t.Fatal("the job never committed its second batch")
}

// TestImportJobKilled: a server killed (SIGKILL) half-way through an
// import job leaves a record that reads as failed with the line it
// reached, once its heartbeat is stale; importing the file again with
// upsert finishes the work without duplicates.
func TestImportJobKilled(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		spoolDir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestImportJobKilledHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "USERSVC_TEST_KILL_URL="+db.URL, "USERSVC_TEST_KILL_ADMIN="+e.Admin.ID, "USERSVC_TEST_KILL_SPOOL="+spoolDir)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the server was not killed half-way: %v\n%s", err, out)
		}
		// The killed process left its body in the spool; the next start
		// (spool.Open, as serve does) removes it.
		if left, _ := filepath.Glob(filepath.Join(spoolDir, spool.Pattern)); len(left) != 1 {
			t.Fatalf("spool files after the kill: %v, want the killed job's", left)
		}
		if _, removed, err := spool.Open(spoolDir, moving.DefaultSpoolMax); err != nil || removed != 1 {
			t.Fatalf("the next start removed %d spool files (%v), want 1", removed, err)
		}
		if left, _ := filepath.Glob(filepath.Join(spoolDir, "*")); len(left) != 0 {
			t.Fatalf("spool files after the next start: %v", left)
		}
		admin := as(t, e, e.AdminToken)
		j, err := e.Store.ImportJobByKey(context.Background(), e.Admin.ID, "kill")
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != "running" {
			t.Fatalf("the killed job's record: %+v", j)
		}
		// Its heartbeat stops; 20 s later (the test clock) it reads as failed.
		e.Clock.Set(time.Now().Add(20 * time.Second))
		got, err := e.Jobs.Job(admin, j.ID)
		if err != nil || got.Status != "failed" || !strings.HasPrefix(got.Reason, "Interrupted after line ") || !strings.Contains(got.Reason, "upsert") {
			t.Fatalf("after the heartbeat stopped: %+v %v", got, err)
		}
		before := userCount(t, e)
		if before != 3+1000 {
			t.Fatalf("%d users after the kill, want the 3 and the two committed batches (1,000)", before)
		}
		counts, fails := importAll(t, e.Svc, importFile(), usersvc.ImportOptions{Mode: usersvc.ImportUpsert})
		if counts.Created != 2000 || counts.Unchanged != 1000 || len(fails) != 0 || userCount(t, e) != 3+3000 {
			t.Fatalf("upsert after the kill: %+v %+v, %d users", counts, fails, userCount(t, e))
		}
	})
}
