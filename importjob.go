package usersvc

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Import jobs: an import started over HTTP (POST /api/users/import). The
// body is spooled to a temporary file first (the request ends with 202),
// then a goroutine imports it as the command line does, recording its
// counts, failed lines and a heartbeat in the database after every batch
// and every importHeartbeat. The record is what outlives the process: a
// job whose heartbeat stopped (its process died) reads as failed, with the
// line it reached; running the file again with mode upsert finishes it. A
// cancel is a flag in the record, seen by whichever process runs the job.

// ImportJob is the record of an import started over HTTP.
type ImportJob struct {
	ID     string `json:"id"`
	Status string `json:"status"` // running, completed, failed, cancelled
	Mode   string `json:"mode"`
	DryRun bool   `json:"dryRun"`
	ImportCounts
	Reason   string     `json:"reason,omitempty"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished"`

	AdminID         string    `json:"-"`
	IdempotencyKey  *string   `json:"-"`
	CancelRequested bool      `json:"-"`
	Heartbeat       time.Time `json:"-"`
}

// Import job statuses.
const (
	JobRunning   = "running"
	JobCompleted = "completed"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// ImportJobStore keeps import jobs' records (see the top of this file).
type ImportJobStore interface {
	// CreateImportJob records a new running job; when the admin already
	// has a job with the same idempotency key it returns that one and
	// false.
	CreateImportJob(ctx context.Context, j *ImportJob) (*ImportJob, bool, error)
	ImportJobByKey(ctx context.Context, adminID, key string) (*ImportJob, error)
	ImportJob(ctx context.Context, id string) (*ImportJob, error)
	// SaveImportProgress records a running job's counts, new failed lines
	// and heartbeat, and reports whether a cancel was asked for.
	SaveImportProgress(ctx context.Context, id string, c ImportCounts, fails []ImportFailure, at time.Time) (cancel bool, err error)
	FinishImportJob(ctx context.Context, id, status, reason string, c ImportCounts, at time.Time) error
	RequestImportCancel(ctx context.Context, id string) error
	// FailStaleImports marks failed the running jobs whose heartbeat is
	// older than before.
	FailStaleImports(ctx context.Context, before, at time.Time) (int, error)
	// ImportFailures lists a job's failed lines after afterLine.
	ImportFailures(ctx context.Context, id string, afterLine int64, limit int) ([]ImportFailure, error)
}

// Import job limits.
const (
	// MaxImportBody is the largest body POST /api/users/import takes.
	MaxImportBody = 1 << 30
	// importHeartbeat is how often a running job's record is touched;
	// importStale is how old a heartbeat may get before the job reads as
	// interrupted.
	importHeartbeat = 2 * time.Second
	importStale     = 15 * time.Second
	// maxIdempotencyKey bounds an Idempotency-Key.
	maxIdempotencyKey = 255
)

var (
	errJobCancelled   = errors.New("cancelled")
	errServerStopping = errors.New("the server stopped")
	errJobNotFound    = Errorf(ENotFound, "Import job not found.")
)

// importJobs are the jobs this process runs.
type importJobs struct {
	mu      sync.Mutex
	cancels map[string]context.CancelCauseFunc
	wg      sync.WaitGroup
	// Dir is where bodies are spooled (os.TempDir() when "").
	dir string
}

// StartImport spools body (NDJSON, at most MaxImportBody bytes) and starts
// a job importing it as the caller, an admin. With an idempotency key the
// admin used before, it returns that job (body unread) and false.
func (s *Service) StartImport(ctx context.Context, body io.Reader, opts ImportOptions, key string) (*ImportJob, bool, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := Authorize(actor, ActionImport, nil, s.now()); err != nil {
		return nil, false, err
	}
	switch opts.Mode {
	case "":
		opts.Mode = ImportCreate
	case ImportCreate, ImportUpsert:
	default:
		return nil, false, FieldErrorf(EInvalid, "mode", "The import mode must be %q or %q.", ImportCreate, ImportUpsert)
	}
	var keyp *string
	if key != "" {
		if len(key) > maxIdempotencyKey || !validText(key) {
			return nil, false, FieldErrorf(EInvalid, "Idempotency-Key", "An Idempotency-Key is 1 to %d bytes of text.", maxIdempotencyKey)
		}
		keyp = &key
		if j, err := s.Store.ImportJobByKey(ctx, actor.ID, key); err == nil {
			return s.freshJob(ctx, j), false, nil
		} else if ErrorCode(err) != ENotFound {
			return nil, false, err
		}
	}
	spool, err := os.CreateTemp(s.jobs.dir, "usersvc-import-*.ndjson")
	if err != nil {
		return nil, false, Internal(err)
	}
	started := false
	defer func() {
		if !started {
			spool.Close()
			os.Remove(spool.Name())
		}
	}()
	n, err := io.Copy(spool, io.LimitReader(body, MaxImportBody+1))
	switch {
	case err != nil:
		return nil, false, Errorf(EInvalid, "Reading the body: %s", err.Error())
	case n > MaxImportBody:
		return nil, false, Errorf(ETooLarge, "An import body is at most %d bytes; import larger files with usersvc import.", int64(MaxImportBody))
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, false, Internal(err)
	}
	now := s.now()
	j, created, err := s.Store.CreateImportJob(ctx, &ImportJob{ID: newJobID(), AdminID: actor.ID, IdempotencyKey: keyp,
		Mode: opts.Mode, DryRun: opts.DryRun, Status: JobRunning, Started: now, Heartbeat: now})
	if err != nil || !created {
		return j, false, err
	}
	started = true
	s.runJob(WithPrincipal(WithClientAddr(context.Background(), ClientAddr(ctx)), &Principal{User: actor}), j, spool, opts)
	return j, true, nil
}

func newJobID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "imp-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// runJob imports spool in the background (see the top of this file).
func (s *Service) runJob(ctx context.Context, j *ImportJob, spool *os.File, opts ImportOptions) {
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
			spool.Close()
			os.Remove(spool.Name())
		}()
		// The record is written on a context of its own: a cancel ends the
		// import, not its bookkeeping.
		rec, stopRec := context.WithCancel(context.WithoutCancel(ctx))
		defer stopRec()
		var mu sync.Mutex
		var counts ImportCounts
		var pending []ImportFailure
		save := func() {
			mu.Lock()
			c, fails := counts, pending
			pending = nil
			mu.Unlock()
			if stop, err := s.Store.SaveImportProgress(rec, j.ID, c, fails, s.now()); err == nil && stop {
				cancel(errJobCancelled)
			}
		}
		tick := time.NewTicker(importHeartbeat)
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					save()
				}
			}
		}()
		opts.Progress = func(c ImportCounts) {
			mu.Lock()
			counts = c
			mu.Unlock()
			save()
		}
		opts.Failed = func(f ImportFailure) {
			mu.Lock()
			pending = append(pending, f)
			mu.Unlock()
		}
		final, err := s.Import(ctx, spool, opts)
		tick.Stop()
		close(done)
		mu.Lock()
		counts, fails := final, pending
		pending = nil
		mu.Unlock()
		status, reason := JobCompleted, ""
		switch cause := context.Cause(ctx); {
		case err == nil:
		case errors.Is(cause, errJobCancelled):
			status = JobCancelled
		case errors.Is(cause, errServerStopping):
			status, reason = JobFailed, fmt.Sprintf("Interrupted after line %d: the server stopped. Import the file again with mode upsert to finish.", final.Lines)
		default:
			status, reason = JobFailed, fmt.Sprintf("Stopped after line %d: %s", final.Lines, ErrorMessage(err, "en"))
		}
		if len(fails) > 0 {
			_, _ = s.Store.SaveImportProgress(rec, j.ID, counts, fails, s.now())
		}
		_ = s.Store.FinishImportJob(rec, j.ID, status, reason, counts, s.now())
	}()
}

// stopImports ends this process's running jobs (the server is stopping):
// each is recorded as failed with the line it reached.
func (s *Service) stopImports() {
	s.jobs.mu.Lock()
	for _, cancel := range s.jobs.cancels {
		cancel(errServerStopping)
	}
	s.jobs.mu.Unlock()
	s.jobs.wg.Wait()
}

// ImportJobOf reads one of the caller's import jobs (admins only; another
// admin's job is not found). A running job whose heartbeat stopped reads
// as failed (and is recorded so).
func (s *Service) ImportJobOf(ctx context.Context, id string) (*ImportJob, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := Authorize(actor, ActionImport, nil, s.now()); err != nil {
		return nil, err
	}
	if !possibleID(id) {
		return nil, errJobNotFound
	}
	j, err := s.Store.ImportJob(ctx, id)
	if ErrorCode(err) == ENotFound || err == nil && j.AdminID != actor.ID {
		return nil, errJobNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.freshJob(ctx, j), nil
}

// freshJob is j, or j as failed when its heartbeat stopped.
func (s *Service) freshJob(ctx context.Context, j *ImportJob) *ImportJob {
	now := s.now()
	if j.Status != JobRunning || now.Sub(j.Heartbeat) < importStale {
		return j
	}
	if _, err := s.Store.FailStaleImports(ctx, now.Add(-importStale), now); err == nil {
		if fresh, err := s.Store.ImportJob(ctx, j.ID); err == nil {
			return fresh
		}
	}
	return j
}

// CancelImport asks the process running the caller's job to stop it; what
// was committed stays. Cancelling a finished job changes nothing.
func (s *Service) CancelImport(ctx context.Context, id string) (*ImportJob, error) {
	j, err := s.ImportJobOf(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Status != JobRunning {
		return j, nil
	}
	if err := s.Store.RequestImportCancel(ctx, id); err != nil {
		return nil, err
	}
	s.jobs.mu.Lock()
	if cancel := s.jobs.cancels[id]; cancel != nil {
		cancel(errJobCancelled) // this process runs it: at once
	}
	s.jobs.mu.Unlock()
	j.CancelRequested = true
	return j, nil
}

// ImportFailures writes the caller's job's failed lines to w as NDJSON
// (line, field, code, message), in line order.
func (s *Service) ImportFailures(ctx context.Context, id string, each func(ImportFailure) error) error {
	if _, err := s.ImportJobOf(ctx, id); err != nil {
		return err
	}
	after := int64(0)
	for {
		page, err := s.Store.ImportFailures(ctx, id, after, 1000)
		if err != nil {
			return err
		}
		for _, f := range page {
			if err := each(f); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].Line
	}
}
