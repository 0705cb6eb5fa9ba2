package moving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"usersvc"
	"usersvc/spool"
)

// Running an import job (see jobs.go). The job goroutine imports; one
// recorder goroutine beside it is the only writer of the job's record
// while it runs (its counts, kept failed lines and heartbeat, each save
// the newest counts, so they only grow) and re-checks, every recheck,
// that the admin the job acts for may still import. The job goroutine
// joins the recorder before it writes the end, and Run, when its context
// ends, joins every job goroutine.

// recheck is how often a running job re-checks its admin and touches its
// record (besides after every batch).
var recheck = time.Second

var errAdminLost = errors.New("the admin lost the right to import")

// Run does the jobs' background work until ctx ends: at start, the jobs
// whose process died (their heartbeat stale) are recorded as failed and
// those finished more than JobRetention ago removed; when ctx ends, this
// process's running jobs stop, each recorded as failed with the line it
// reached, and Run returns once every job goroutine has. logger (nil:
// slog.Default()) hears of a failed start-up sweep.
func (j *Jobs) Run(ctx context.Context, logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	now := j.svc.Time()
	if _, err := j.store.FailStaleImports(ctx, now.Add(-stale), now); err != nil && ctx.Err() == nil {
		logger.Error("marking interrupted import jobs", "err", err)
	}
	j.expire(ctx)
	<-ctx.Done()
	j.mu.Lock()
	j.closed = true
	for _, cancel := range j.cancels {
		cancel(errServerStopping)
	}
	j.mu.Unlock()
	j.wg.Wait()
}

// expire removes the jobs that finished more than JobRetention ago, with
// their failed lines. A failure is left for the next sweep.
func (j *Jobs) expire(ctx context.Context) {
	_, _ = j.store.DeleteImportJobsFinishedBefore(ctx, j.svc.Time().Add(-JobRetention))
}

// run imports f in the background as the principal of ctx, and reports
// whether it started: once Run has stopped the jobs, none starts (the job
// is recorded as failed, its file removed), so every job goroutine is one
// Run joins.
func (j *Jobs) run(ctx context.Context, job *usersvc.ImportJob, f *spool.File, opts usersvc.ImportOptions) bool {
	ctx, cancel := context.WithCancelCause(ctx)
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		cancel(errServerStopping)
		f.Remove()
		_ = j.store.FinishImportJob(context.WithoutCancel(ctx), job.ID, usersvc.JobFailed,
			"Not started: the server was stopping. Import the file again.", usersvc.ImportCounts{}, j.svc.Time())
		return false
	}
	j.cancels[job.ID] = cancel
	j.wg.Add(1)
	j.mu.Unlock()
	go func() {
		defer j.wg.Done()
		defer func() {
			j.mu.Lock()
			delete(j.cancels, job.ID)
			j.mu.Unlock()
			cancel(nil)
			f.Remove()
		}()
		// The record is written on a context of its own: a cancel ends the
		// import, not its bookkeeping.
		rec := &recorder{j: j, id: job.ID, adminID: job.AdminID, ctx: context.WithoutCancel(ctx), cancel: cancel,
			wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
		go rec.run()
		final, err := Import(ctx, j.svc, f, Options{ImportOptions: opts, Progress: rec.progress, Failed: rec.failed,
			BeforeBatch: func(ctx context.Context) error {
				if !j.svc.MayStillImport(ctx, job.AdminID) {
					cancel(errAdminLost)
					return context.Cause(ctx)
				}
				return nil
			}})
		close(rec.stop)
		<-rec.done
		status, reason := usersvc.JobCompleted, ""
		switch cause := context.Cause(ctx); {
		case err == nil:
		case errors.Is(cause, errAdminLost):
			status, reason = usersvc.JobCancelled, fmt.Sprintf("Cancelled after line %d: the admin who started it can no longer import (disabled, demoted, expired or deleted).", final.Lines)
		case errors.Is(cause, errJobCancelled):
			status, reason = usersvc.JobCancelled, fmt.Sprintf("Cancelled after line %d.", final.Lines)
		case errors.Is(cause, errServerStopping):
			status, reason = usersvc.JobFailed, fmt.Sprintf("Interrupted after line %d: the server stopped. Import the file again with mode upsert to finish.", final.Lines)
		default:
			status, reason = usersvc.JobFailed, fmt.Sprintf("Stopped after line %d: %s", final.Lines, usersvc.ErrorMessage(err, "en"))
		}
		if fails := rec.take(); len(fails) > 0 {
			_, _ = j.store.SaveImportProgress(rec.ctx, job.ID, final, fails, j.svc.Time())
		}
		_ = j.store.FinishImportJob(rec.ctx, job.ID, status, reason, final, j.svc.Time())
	}()
	return true
}

// recorder writes a running job's record (see the top of this file).
type recorder struct {
	j       *Jobs
	id      string
	adminID string
	ctx     context.Context
	cancel  context.CancelCauseFunc

	mu      sync.Mutex
	counts  usersvc.ImportCounts
	pending []usersvc.ImportFailure
	kept    int // failed lines kept so far (at most MaxJobFailures)

	wake chan struct{} // a batch ended
	stop chan struct{} // the import returned
	done chan struct{} // run returned
}

func (r *recorder) progress(c usersvc.ImportCounts) {
	r.mu.Lock()
	r.counts = c
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) failed(f usersvc.ImportFailure) {
	r.mu.Lock()
	if r.kept < MaxJobFailures {
		r.pending = append(r.pending, f)
		r.kept++
	}
	r.mu.Unlock()
}

// take returns the failed lines not yet saved.
func (r *recorder) take() []usersvc.ImportFailure {
	r.mu.Lock()
	defer r.mu.Unlock()
	fails := r.pending
	r.pending = nil
	return fails
}

func (r *recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
		case <-tick.C:
			if !r.j.svc.MayStillImport(r.ctx, r.adminID) {
				r.cancel(errAdminLost) // stops even a batch in flight
			}
		}
		r.mu.Lock()
		c := r.counts
		r.mu.Unlock()
		if stop, err := r.j.store.SaveImportProgress(r.ctx, r.id, c, r.take(), r.j.svc.Time()); err == nil && stop {
			r.cancel(errJobCancelled)
		}
	}
}
