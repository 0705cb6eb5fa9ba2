package usersvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"usersvc/spool"
)

// Import jobs: an import started over HTTP (POST /api/users/import). The
// body is spooled to a file first (package spool; the request ends with 202),
// then a goroutine imports it as the command line does, recording its
// counts, failed lines and a heartbeat in the database after every batch
// and every importRecheck (importrun.go). The record is what outlives the process: a
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

	AdminID        string  `json:"-"`
	IdempotencyKey *string `json:"-"`
	// RequestDigest is the SHA-256 (hex) of the request the key stands
	// for: mode, dryRun and body (requestDigest).
	RequestDigest   string    `json:"-"`
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
	// DeleteImportJobsFinishedBefore removes the jobs finished before
	// before, with their failed lines.
	DeleteImportJobsFinishedBefore(ctx context.Context, before time.Time) (int, error)
}

// Import job limits.
const (
	// MaxImportBody is the largest body POST /api/users/import takes.
	MaxImportBody = 1 << 30
	// importStale is how old a heartbeat (written every importRecheck)
	// may get before the job reads as interrupted.
	importStale = 15 * time.Second
	// maxIdempotencyKey bounds an Idempotency-Key.
	maxIdempotencyKey = 255
	// MaxJobFailures is how many failed lines a job keeps (the first
	// ones, in line order); past it they are counted, not stored.
	MaxJobFailures = 1000
	// JobRetention is how long a finished job (its record and failed
	// lines) is kept; older ones are removed when the service starts and
	// whenever a job starts.
	JobRetention = 7 * 24 * time.Hour
	// DefaultSpoolMax caps the bytes of the bodies spooled at once when
	// UseSpool was not called (USERSVC_SPOOL_MAX_BYTES sets it in serve).
	DefaultSpoolMax = 4 << 30
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
	// spool is where bodies wait for their job (spoolDir).
	spool *spool.Dir
}

// UseSpool makes d the directory import bodies are spooled to (serve
// opens it from USERSVC_SPOOL_DIR and USERSVC_SPOOL_MAX_BYTES, which
// removes what a crashed process left there). Without it, the first
// import opens DefaultSpoolDir with DefaultSpoolMax.
func (s *Service) UseSpool(d *spool.Dir) {
	s.jobs.mu.Lock()
	s.jobs.spool = d
	s.jobs.mu.Unlock()
}

// DefaultSpoolDir is the spool directory when none is configured.
func DefaultSpoolDir() string { return filepath.Join(os.TempDir(), "usersvc-spool") }

func (s *Service) spoolDir() (*spool.Dir, error) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if s.jobs.spool == nil {
		d, _, err := spool.Open(DefaultSpoolDir(), DefaultSpoolMax)
		if err != nil {
			return nil, err
		}
		s.jobs.spool = d
	}
	return s.jobs.spool, nil
}

// StartImport spools body (NDJSON, at most MaxImportBody bytes) and starts
// a job importing it as the caller, an admin. With an idempotency key the
// admin used before for the same request (body, mode and dryRun), it
// returns that job and false; the same key with another request is
// EUnprocessable.
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
	}
	s.expireJobs(ctx)
	dir, err := s.spoolDir()
	if err != nil {
		return nil, false, Internal(err)
	}
	f, err := dir.Create()
	if err != nil {
		return nil, false, Internal(err)
	}
	started := false
	defer func() {
		if !started {
			f.Remove()
		}
	}()
	digest := sha256.New()
	fmt.Fprintf(digest, "mode=%s\x00dryRun=%t\x00", opts.Mode, opts.DryRun)
	switch _, err := f.Fill(body, MaxImportBody, digest); {
	case errors.Is(err, spool.ErrTooLarge):
		return nil, false, Errorf(ETooLarge, "An import body is at most %d bytes; import larger files with usersvc import.", min(int64(MaxImportBody), dir.Max()))
	case errors.Is(err, spool.ErrDisk):
		return nil, false, Internal(err)
	case errors.Is(err, spool.ErrFull):
		return nil, false, Errorf(EUnavailable, "The imports running now fill the spool (%d bytes); try again when they end.", dir.Max())
	case err != nil && ErrorCode(err) != EInternal:
		return nil, false, err
	case err != nil:
		return nil, false, Errorf(EInvalid, "Reading the body: %s", err.Error())
	}
	sum := hex.EncodeToString(digest.Sum(nil))
	if keyp != nil {
		if j, err := s.store.ImportJobByKey(ctx, actor.ID, key); err == nil {
			return s.sameRequest(ctx, j, sum)
		} else if ErrorCode(err) != ENotFound {
			return nil, false, err
		}
	}
	now := s.now()
	j, created, err := s.store.CreateImportJob(ctx, &ImportJob{ID: newJobID(), AdminID: actor.ID, IdempotencyKey: keyp, RequestDigest: sum,
		Mode: opts.Mode, DryRun: opts.DryRun, Status: JobRunning, Started: now, Heartbeat: now})
	if err != nil {
		return nil, false, err
	}
	if !created { // the same key, meanwhile
		return s.sameRequest(ctx, j, sum)
	}
	started = true
	s.runJob(WithPrincipal(WithClientAddr(context.Background(), ClientAddr(ctx)), &Principal{User: actor}), j, f, opts)
	return j, true, nil
}

// sameRequest is j when its key stood for the request with digest sum, or
// EUnprocessable. A job recorded before digests were kept matches any.
func (s *Service) sameRequest(ctx context.Context, j *ImportJob, sum string) (*ImportJob, bool, error) {
	if j.RequestDigest != "" && j.RequestDigest != sum {
		return nil, false, FieldErrorf(EUnprocessable, "Idempotency-Key",
			"This Idempotency-Key was used for another request (another body, mode or dryRun); use a new key for a new import.")
	}
	return s.freshJob(ctx, j), false, nil
}

func newJobID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "imp-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ImportJobOf reads an import job. Every active admin may see (and
// cancel) every job: a job acts on all users, as any admin may, and an
// admin who leaves must not leave a job nobody can stop. Others get
// EForbidden, an unknown id ENotFound. A running job whose heartbeat
// stopped reads as failed (and is recorded so).
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
	j, err := s.store.ImportJob(ctx, id)
	if ErrorCode(err) == ENotFound {
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
	if _, err := s.store.FailStaleImports(ctx, now.Add(-importStale), now); err == nil {
		if fresh, err := s.store.ImportJob(ctx, j.ID); err == nil {
			return fresh
		}
	}
	return j
}

// CancelImport asks the process running a job to stop it (any admin may);
// what was committed stays. Cancelling a finished job changes nothing.
func (s *Service) CancelImport(ctx context.Context, id string) (*ImportJob, error) {
	j, err := s.ImportJobOf(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Status != JobRunning {
		return j, nil
	}
	if err := s.store.RequestImportCancel(ctx, id); err != nil {
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

// ImportFailures gives each of a job's kept failed lines (the first
// MaxJobFailures), in line order, to each.
func (s *Service) ImportFailures(ctx context.Context, id string, each func(ImportFailure) error) error {
	if _, err := s.ImportJobOf(ctx, id); err != nil {
		return err
	}
	after := int64(0)
	for {
		page, err := s.store.ImportFailures(ctx, id, after, 1000)
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
