package moving_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
)

// gateStore holds the import's InsertUsers of batch blockAt until release
// is closed or the job's context ends; entered hears when it is reached.
type gateStore struct {
	usersvc.Store
	blockAt int32
	n       atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func newGate(st usersvc.Store, blockAt int32) *gateStore {
	return &gateStore{Store: st, blockAt: blockAt, entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gateStore) InsertUsers(ctx context.Context, users []*usersvc.User, entries []*usersvc.AuditEntry) ([]bool, error) {
	if g.n.Add(1) == g.blockAt {
		g.entered <- struct{}{}
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Store.InsertUsers(ctx, users, entries)
}

// waitJobEnd polls a job as ctx's admin until it is no longer running
// (at most 30 s, then the test fails).
func waitJobEnd(t *testing.T, jobs *moving.Jobs, ctx context.Context, id string) *usersvc.ImportJob {
	t.Helper()
	for range 600 {
		j, err := jobs.Job(ctx, id)
		if err != nil {
			t.Fatalf("reading job %s: %v", id, err)
		}
		if j.Status != usersvc.JobRunning {
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s still running after 30 s", id)
	return nil
}

// TestImportJobAdminLost: a job acts for the admin who started it only
// while that admin may import. Demoted while a batch is in flight, the
// job stops that batch (the re-check every second cancels it); disabled
// between batches, the next batch is not written. Either way the job
// reads cancelled, with the reason, to another admin, who may see it.
func TestImportJobAdminLost(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		for _, tc := range []struct {
			name       string
			blockAt    int32
			patch      string
			releaseNow bool // let the held batch go on once the change is made
			maxCreated int64
		}{
			{"demoted during a batch", 1, `[{"op":"replace","path":"/role","value":"user"}]`, false, 0},
			{"disabled between batches", 2, `[{"op":"replace","path":"/disabled","value":true}]`, true, 1000},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := testenv.Start(t, testenv.Another(t, db))
				ada, _ := e.NewUser(t, "Ada", "ada@example.com", "UTC", usersvc.RoleAdmin)
				gate := newGate(e.Store, tc.blockAt)
				jobs := moving.NewJobs(testenv.NewService(gate, e.Clock), gate)
				defer close(gate.release)
				var b strings.Builder
				for i := range 3000 {
					fmt.Fprintf(&b, `{"id":"j%d","name":"N","email":"j%d@example.com","country":"ES","timeZone":"UTC","role":"admin"}`+"\n", i, i)
				}
				j, _, err := jobs.Start(usersvc.WithPrincipal(context.Background(), &usersvc.Principal{User: ada}), strings.NewReader(b.String()), usersvc.ImportOptions{}, "")
				if err != nil {
					t.Fatal(err)
				}
				<-gate.entered
				if r := e.Do(t, "PATCH", "/api/users/"+ada.ID, e.AdminToken, tc.patch, "Content-Type: application/json-patch+json"); r.Status != 200 {
					t.Fatalf("changing Ada: %d %s", r.Status, r.Body)
				}
				if tc.releaseNow {
					gate.release <- struct{}{}
				}
				got := waitJobEnd(t, jobs, as(t, e, e.AdminToken), j.ID)
				want := "can no longer import (disabled, demoted, expired or deleted)"
				if got.Status != usersvc.JobCancelled || !strings.HasPrefix(got.Reason, "Cancelled after line ") || !strings.Contains(got.Reason, want) {
					t.Fatalf("job after Ada lost the right: %s %q", got.Status, got.Reason)
				}
				if got.Created > tc.maxCreated || int64(userCount(t, e)) != 4+got.Created {
					t.Fatalf("created %d (at most %d), %d users stored", got.Created, tc.maxCreated, userCount(t, e))
				}
			})
		}
	})
}

// recordStore watches the writes of a job's record: never two at once,
// counters that never go back, nothing after the end or after Run
// returned.
type recordStore struct {
	*gateStore
	mu         sync.Mutex
	writing    int
	last       usersvc.ImportCounts
	finished   bool
	stopped    bool
	saves      int
	violations []string
}

func (r *recordStore) enter(c usersvc.ImportCounts, finish bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writing++
	r.saves++
	switch {
	case r.writing > 1:
		r.violations = append(r.violations, "two writers at once")
	case r.stopped:
		r.violations = append(r.violations, "a write after Run returned")
	case r.finished:
		r.violations = append(r.violations, "a write after the job's end")
	case c.Lines < r.last.Lines || c.Bytes < r.last.Bytes || c.Created < r.last.Created || c.Failed < r.last.Failed:
		r.violations = append(r.violations, fmt.Sprintf("counters went back: %+v after %+v", c, r.last))
	}
	r.last, r.finished = c, r.finished || finish
}

func (r *recordStore) leave() {
	time.Sleep(100 * time.Microsecond) // widen the window another writer would need
	r.mu.Lock()
	r.writing--
	r.mu.Unlock()
}

func (r *recordStore) SaveImportProgress(ctx context.Context, id string, c usersvc.ImportCounts, fails []usersvc.ImportFailure, at time.Time) (bool, error) {
	r.enter(c, false)
	defer r.leave()
	return r.gateStore.SaveImportProgress(ctx, id, c, fails, at)
}

func (r *recordStore) FinishImportJob(ctx context.Context, id, status, reason string, c usersvc.ImportCounts, at time.Time) error {
	r.enter(c, true)
	defer r.leave()
	return r.gateStore.FinishImportJob(ctx, id, status, reason, c, at)
}

// TestImportJobOneWriter: with the record saved every millisecond as well
// as after every batch, its writes never overlap and its counters (bytes
// included, which are stored) only grow; stopping the jobs (Run returning) joins
// the job, whose record says where it stopped, and nothing writes after.
func TestImportJobOneWriter(t *testing.T) {
	defer moving.SetRecheck(time.Millisecond)()
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := as(t, e, e.AdminToken)
		rec := &recordStore{gateStore: newGate(e.Store, 4)}
		defer close(rec.release)
		jobs := moving.NewJobs(testenv.NewService(rec, e.Clock), rec)
		runCtx, stopRun := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { defer close(ran); jobs.Run(runCtx, nil) }()
		body := importFile()
		j, _, err := jobs.Start(admin, strings.NewReader(body), usersvc.ImportOptions{}, "")
		if err != nil {
			t.Fatal(err)
		}
		<-rec.entered // three batches written, the fourth held
		stopRun()
		<-ran
		rec.mu.Lock()
		rec.stopped = true
		rec.mu.Unlock()
		got, err := e.Store.ImportJob(context.Background(), j.ID)
		if err != nil || got.Status != usersvc.JobFailed || !strings.HasPrefix(got.Reason, "Interrupted after line ") || got.Created != 1500 || got.Bytes < 1500*80 {
			t.Fatalf("the job after the service stopped: %+v %v", got, err)
		}
		time.Sleep(20 * time.Millisecond) // a writer not joined would write now
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.violations) > 0 || rec.saves < 4 {
			t.Fatalf("%d saves; violations: %v", rec.saves, rec.violations)
		}
	})
}

// TestImportJobFailuresKept: a job keeps its first MaxJobFailures failed
// lines and counts the rest; a job finished more than JobRetention ago
// goes, with its failed lines, when another job starts.
func TestImportJobFailuresKept(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := as(t, e, e.AdminToken)
		var b strings.Builder
		for i := range 1200 {
			fmt.Fprintf(&b, `{"id":"f%d","name":"N","email":"not an email","country":"ES","timeZone":"UTC"}`+"\n", i)
		}
		b.WriteString(`{"name":"N","email":"ok@example.com","country":"ES","timeZone":"UTC"}` + "\n")
		j, _, err := e.Jobs.Start(admin, strings.NewReader(b.String()), usersvc.ImportOptions{}, "")
		if err != nil {
			t.Fatal(err)
		}
		got := waitJobEnd(t, e.Jobs, admin, j.ID)
		var kept []int64
		if err := e.Jobs.Failures(admin, j.ID, func(f usersvc.ImportFailure) error { kept = append(kept, f.Line); return nil }); err != nil {
			t.Fatal(err)
		}
		if got.Status != usersvc.JobCompleted || got.Failed != 1200 || got.Created != 1 || len(kept) != 1000 || kept[0] != 1 || kept[999] != 1000 {
			t.Fatalf("job %+v; kept %d failed lines (%v…)", got, len(kept), kept[:min(3, len(kept))])
		}
		// Eight days on, a new job sweeps it away.
		e.Clock.Advance(8 * 24 * time.Hour)
		j2, _, err := e.Jobs.Start(admin, strings.NewReader(`{"name":"N","email":"ok2@example.com","country":"ES","timeZone":"UTC"}`+"\n"), usersvc.ImportOptions{}, "")
		if err != nil {
			t.Fatal(err)
		}
		waitJobEnd(t, e.Jobs, admin, j2.ID)
		if _, err := e.Jobs.Job(admin, j.ID); usersvc.ErrorCode(err) != usersvc.ENotFound {
			t.Fatalf("the expired job: %v, want not found", err)
		}
		if rows, err := e.Store.ImportFailures(context.Background(), j.ID, 0, 10); err != nil || len(rows) != 0 {
			t.Fatalf("the expired job's failed lines: %d left, %v", len(rows), err)
		}
	})
}

// TestJobsRunSweeps: when Jobs.Run starts, a running job whose heartbeat
// is stale (its process died) is recorded as failed with the line it
// reached, and a job finished more than JobRetention ago is removed; a
// job running with a fresh heartbeat is left alone.
func TestJobsRunSweeps(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := context.Background()
		now := e.Clock.Now()
		newJob := func(id string, heartbeat time.Time) {
			t.Helper()
			if _, _, err := e.Store.CreateImportJob(ctx, &usersvc.ImportJob{ID: id, AdminID: e.Admin.ID, Mode: usersvc.ImportCreate,
				Status: usersvc.JobRunning, Started: heartbeat, Heartbeat: heartbeat}); err != nil {
				t.Fatal(err)
			}
		}
		newJob("imp-stale", now.Add(-20*time.Second))
		if _, err := e.Store.SaveImportProgress(ctx, "imp-stale", usersvc.ImportCounts{Lines: 1500}, nil, now.Add(-20*time.Second)); err != nil {
			t.Fatal(err)
		}
		newJob("imp-fresh", now.Add(-time.Second))
		newJob("imp-old", now.Add(-9*24*time.Hour))
		if err := e.Store.FinishImportJob(ctx, "imp-old", usersvc.JobCompleted, "", usersvc.ImportCounts{}, now.Add(-8*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { defer close(ran); e.Jobs.Run(runCtx, nil) }()
		// Both sweeps run at start, one after the other: wait for the
		// second (the old job gone) before stopping Run, whose stop would
		// cancel a sweep still under way.
		var stale *usersvc.ImportJob
		var oldErr error
		for range 600 {
			j, err := e.Store.ImportJob(ctx, "imp-stale")
			if err != nil {
				t.Fatal(err)
			}
			_, oldErr = e.Store.ImportJob(ctx, "imp-old")
			if stale = j; j.Status != usersvc.JobRunning && usersvc.ErrorCode(oldErr) == usersvc.ENotFound {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		<-ran
		if stale.Status != usersvc.JobFailed || !strings.HasPrefix(stale.Reason, "Interrupted after line 1500") {
			t.Fatalf("the stale job: %s %q", stale.Status, stale.Reason)
		}
		if j, err := e.Store.ImportJob(ctx, "imp-fresh"); err != nil || j.Status != usersvc.JobRunning {
			t.Fatalf("the fresh job: %+v %v", j, err)
		}
		if usersvc.ErrorCode(oldErr) != usersvc.ENotFound {
			t.Fatalf("the job finished 8 days ago: %v, want not found", oldErr)
		}
	})
}

// TestNoJobStartsAfterStop: once Run's context has ended (the server is
// stopping, and Run has joined every job), an import answers 503 and
// starts nothing: a job started then would be neither stopped nor joined,
// and the process would exit in the middle of its batch.
func TestNoJobStartsAfterStop(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		runCtx, stop := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { defer close(ran); e.Jobs.Run(runCtx, nil) }()
		stop()
		<-ran
		admin := e.As(t, e.AdminToken)
		j, _, err := e.Jobs.Start(admin, strings.NewReader(`{"name":"N","email":"late@example.com","country":"ES","timeZone":"UTC"}`+"\n"), usersvc.ImportOptions{}, "")
		if usersvc.ErrorCode(err) != usersvc.EUnavailable || j != nil {
			t.Fatalf("an import after the stop: %+v, %v; want unavailable and no job", j, err)
		}
		if n := e.UserCount(t); n != 3 {
			t.Fatalf("%d users, want the 3 the test began with", n)
		}
	})
}

// TestStaleJobStops: a job whose heartbeat another process found stale
// (a slow database) is recorded failed, "import again"; its own next
// progress save must tell it to stop rather than go on importing beside
// the operator's new run.
func TestStaleJobStops(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		ctx := context.Background()
		now := e.Clock.Now()
		if _, _, err := e.Store.CreateImportJob(ctx, &usersvc.ImportJob{ID: "imp-slow", AdminID: e.Admin.ID, Mode: usersvc.ImportCreate,
			Status: usersvc.JobRunning, Started: now, Heartbeat: now}); err != nil {
			t.Fatal(err)
		}
		if stop, err := e.Store.SaveImportProgress(ctx, "imp-slow", usersvc.ImportCounts{Lines: 10}, nil, now); err != nil || stop {
			t.Fatalf("a running job's save: stop %v, %v; want it to go on", stop, err)
		}
		if _, err := e.Store.FailStaleImports(ctx, now.Add(time.Second), now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if stop, err := e.Store.SaveImportProgress(ctx, "imp-slow", usersvc.ImportCounts{Lines: 20}, nil, now); err != nil || !stop {
			t.Fatalf("a save after the job was found stale: stop %v, %v; want it told to stop", stop, err)
		}
	})
}
