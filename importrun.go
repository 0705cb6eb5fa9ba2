package usersvc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"usersvc/spool"
)

// Running an import job (see importjob.go). The job goroutine imports;
// one recorder goroutine beside it is the only writer of the job's record
// while it runs (its counts, kept failed lines and heartbeat, each save
// the newest counts, so they only grow) and re-checks, every
// importRecheck, that the admin the job acts for may still import. The
// job goroutine joins the recorder before it writes the end, and
// stopImports joins every job goroutine.

// importRecheck is how often a running job re-checks its admin and
// touches its record (besides after every batch).
var importRecheck = time.Second

var errAdminLost = errors.New("the admin lost the right to import")

// runJob imports f in the background as the principal of ctx.
func (s *Service) runJob(ctx context.Context, j *ImportJob, f *spool.File, opts ImportOptions) {
	ctx, cancel := context.WithCancelCause(ctx)
	s.jobs.mu.Lock()
	if s.jobs.cancels == nil {
		s.jobs.cancels = map[string]context.CancelCauseFunc{}
	}
	s.jobs.cancels[j.ID] = cancel
	s.jobs.wg.Add(1)
	s.jobs.mu.Unlock()
	go func() {
		defer s.jobs.wg.Done()
		defer func() {
			s.jobs.mu.Lock()
			delete(s.jobs.cancels, j.ID)
			s.jobs.mu.Unlock()
			cancel(nil)
			f.Remove()
		}()
		// The record is written on a context of its own: a cancel ends the
		// import, not its bookkeeping.
		rec := &jobRecorder{s: s, id: j.ID, adminID: j.AdminID, ctx: context.WithoutCancel(ctx), cancel: cancel,
			wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
		go rec.run()
		opts.Progress = rec.progress
		opts.Failed = rec.failed
		opts.BeforeBatch = func(ctx context.Context) error {
			if rec.adminLost(ctx) {
				cancel(errAdminLost)
				return context.Cause(ctx)
			}
			return nil
		}
		final, err := s.Import(ctx, f, opts)
		close(rec.stop)
		<-rec.done
		status, reason := JobCompleted, ""
		switch cause := context.Cause(ctx); {
		case err == nil:
		case errors.Is(cause, errAdminLost):
			status, reason = JobCancelled, fmt.Sprintf("Cancelled after line %d: the admin who started it can no longer import (disabled, demoted, expired or deleted).", final.Lines)
		case errors.Is(cause, errJobCancelled):
			status, reason = JobCancelled, fmt.Sprintf("Cancelled after line %d.", final.Lines)
		case errors.Is(cause, errServerStopping):
			status, reason = JobFailed, fmt.Sprintf("Interrupted after line %d: the server stopped. Import the file again with mode upsert to finish.", final.Lines)
		default:
			status, reason = JobFailed, fmt.Sprintf("Stopped after line %d: %s", final.Lines, ErrorMessage(err, "en"))
		}
		if fails := rec.take(); len(fails) > 0 {
			_, _ = s.store.SaveImportProgress(rec.ctx, j.ID, final, fails, s.now())
		}
		_ = s.store.FinishImportJob(rec.ctx, j.ID, status, reason, final, s.now())
	}()
}

// jobRecorder writes a running job's record (see the top of this file).
type jobRecorder struct {
	s       *Service
	id      string
	adminID string
	ctx     context.Context
	cancel  context.CancelCauseFunc

	mu      sync.Mutex
	counts  ImportCounts
	pending []ImportFailure
	kept    int // failed lines kept so far (at most MaxJobFailures)

	wake chan struct{} // a batch ended
	stop chan struct{} // the import returned
	done chan struct{} // run returned
}

func (r *jobRecorder) progress(c ImportCounts) {
	r.mu.Lock()
	r.counts = c
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *jobRecorder) failed(f ImportFailure) {
	r.mu.Lock()
	if r.kept < MaxJobFailures {
		r.pending = append(r.pending, f)
		r.kept++
	}
	r.mu.Unlock()
}

// take returns the failed lines not yet saved.
func (r *jobRecorder) take() []ImportFailure {
	r.mu.Lock()
	defer r.mu.Unlock()
	fails := r.pending
	r.pending = nil
	return fails
}

func (r *jobRecorder) run() {
	defer close(r.done)
	tick := time.NewTicker(importRecheck)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
		case <-tick.C:
			if r.adminLost(r.ctx) {
				r.cancel(errAdminLost) // stops even a batch in flight
			}
		}
		r.mu.Lock()
		c := r.counts
		r.mu.Unlock()
		if stop, err := r.s.store.SaveImportProgress(r.ctx, r.id, c, r.take(), r.s.now()); err == nil && stop {
			r.cancel(errJobCancelled)
		}
	}
}

// adminLost reports whether the admin the job acts for may no longer
// import: disabled, demoted, expired or deleted. A failed read is not a
// loss (the next check reads again).
func (r *jobRecorder) adminLost(ctx context.Context) bool {
	u, err := r.s.store.User(ctx, r.adminID, false)
	if ErrorCode(err) == ENotFound {
		return true
	}
	if err != nil {
		return false
	}
	now := r.s.now()
	return usable(u, now) != nil || Authorize(u, ActionImport, nil, now) != nil
}

// stopImports ends this process's running jobs (the server is stopping):
// each is recorded as failed with the line it reached, and every job
// goroutine has returned when it does.
func (s *Service) stopImports() {
	s.jobs.mu.Lock()
	for _, cancel := range s.jobs.cancels {
		cancel(errServerStopping)
	}
	s.jobs.mu.Unlock()
	s.jobs.wg.Wait()
}

// expireJobs removes the jobs that finished more than JobRetention ago,
// with their failed lines. A failure is left for the next sweep.
func (s *Service) expireJobs(ctx context.Context) {
	_, _ = s.store.DeleteImportJobsFinishedBefore(ctx, s.now().Add(-JobRetention))
}
