package moving

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

	"usersvc"
	"usersvc/spool"
)

// Import jobs: an import started over HTTP (POST /api/users/import). The
// body is spooled to a file first (package spool; the request ends with
// 202), then a goroutine imports it as the command line does, recording
// its counts, failed lines and a heartbeat in the database after every
// batch and every recheck (jobrun.go). The record is what outlives the
// process: a job whose heartbeat stopped (its process died) reads as
// failed, with the line it reached; running the file again with mode
// upsert finishes it. A cancel is a flag in the record, seen by whichever
// process runs the job. Who may start, see and cancel a job is the
// domain's (usersvc.Service.MayImport).

// Import job limits.
const (
	// MaxImportBody is the largest body POST /api/users/import takes.
	MaxImportBody = 1 << 30
	// stale is how old a heartbeat (written every recheck) may get before
	// the job reads as interrupted.
	stale = 15 * time.Second
	// MaxJobFailures is how many failed lines a job keeps (the first
	// ones, in line order); past it they are counted, not stored.
	MaxJobFailures = 1000
	// JobRetention is how long a finished job (its record and failed
	// lines) is kept; older ones are removed when Run starts and whenever
	// a job starts.
	JobRetention = 7 * 24 * time.Hour
	// DefaultSpoolMax caps the bytes of the bodies spooled at once when
	// UseSpool was not called (USERSVC_SPOOL_MAX_BYTES sets it in serve).
	DefaultSpoolMax = 4 << 30
)

var (
	errJobCancelled   = errors.New("cancelled")
	errServerStopping = errors.New("the server stopped")
	errJobNotFound    = usersvc.Errorf(usersvc.ENotFound, "Import job not found.")
	errJobsStopped    = &usersvc.Error{Code: usersvc.EUnavailable, Message: "The server is stopping; start the import again.", RetryAfter: usersvc.RetryAfterUnavailable}
)

// Jobs runs a process's import jobs for svc, keeping their records in
// store (the service's store: its ImportJobStore part).
type Jobs struct {
	svc   *usersvc.Service
	store usersvc.ImportJobStore

	mu      sync.Mutex
	cancels map[string]context.CancelCauseFunc
	wg      sync.WaitGroup
	// closed: Run's context ended; no job starts any more (one that
	// started later would be neither stopped nor joined).
	closed bool
	// spool is where bodies wait for their job (spoolDir).
	spool *spool.Dir
}

// NewJobs returns the import jobs of svc, their records in store.
func NewJobs(svc *usersvc.Service, store usersvc.ImportJobStore) *Jobs {
	return &Jobs{svc: svc, store: store, cancels: map[string]context.CancelCauseFunc{}}
}

// UseSpool makes d the directory import bodies are spooled to (serve
// opens it from USERSVC_SPOOL_DIR and USERSVC_SPOOL_MAX_BYTES, which
// removes what a crashed process left there). Without it, the first
// import opens DefaultSpoolDir with DefaultSpoolMax.
func (j *Jobs) UseSpool(d *spool.Dir) {
	j.mu.Lock()
	j.spool = d
	j.mu.Unlock()
}

// DefaultSpoolDir is the spool directory when none is configured.
func DefaultSpoolDir() string { return filepath.Join(os.TempDir(), "usersvc-spool") }

func (j *Jobs) spoolDir() (*spool.Dir, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.spool == nil {
		d, _, err := spool.Open(DefaultSpoolDir(), DefaultSpoolMax)
		if err != nil {
			return nil, err
		}
		j.spool = d
	}
	return j.spool, nil
}

// Start spools body (NDJSON, at most MaxImportBody bytes) and starts a job
// importing it as the caller, an admin. With an idempotency key the admin
// used before for the same request (body, mode and dryRun), it returns
// that job and false; the same key with another request is
// EUnprocessable.
func (j *Jobs) Start(ctx context.Context, body io.Reader, opts usersvc.ImportOptions, key string) (*usersvc.ImportJob, bool, error) {
	actor, err := j.svc.MayImport(ctx)
	if err != nil {
		return nil, false, err
	}
	if j.stopped() {
		return nil, false, errJobsStopped
	}
	if err := opts.Check(); err != nil {
		return nil, false, err
	}
	var keyp *string
	if key != "" {
		if !usersvc.ValidIdempotencyKey(key) {
			return nil, false, usersvc.FieldErrorf(usersvc.EInvalid, "Idempotency-Key", "An Idempotency-Key is 1 to %d bytes of text.", usersvc.MaxIdempotencyKey)
		}
		keyp = &key
	}
	j.expire(ctx)
	dir, err := j.spoolDir()
	if err != nil {
		return nil, false, usersvc.Internal(err)
	}
	f, err := dir.Create()
	if err != nil {
		return nil, false, usersvc.Internal(err)
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
		return nil, false, usersvc.Errorf(usersvc.ETooLarge, "An import body is at most %d bytes; import larger files with usersvc import.", min(int64(MaxImportBody), dir.Max()))
	case errors.Is(err, spool.ErrDisk):
		return nil, false, usersvc.Internal(err)
	case errors.Is(err, spool.ErrFull):
		return nil, false, usersvc.Errorf(usersvc.EUnavailable, "The imports running now fill the spool (%d bytes); try again when they end.", dir.Max())
	case err != nil && usersvc.ErrorCode(err) != usersvc.EInternal:
		return nil, false, err
	case err != nil:
		return nil, false, usersvc.Errorf(usersvc.EInvalid, "Reading the body: %s", err.Error())
	}
	sum := hex.EncodeToString(digest.Sum(nil))
	if keyp != nil {
		if job, err := j.store.ImportJobByKey(ctx, actor.ID, key); err == nil {
			return j.sameRequest(ctx, job, sum)
		} else if usersvc.ErrorCode(err) != usersvc.ENotFound {
			return nil, false, err
		}
	}
	now := j.svc.Time()
	job, created, err := j.store.CreateImportJob(ctx, &usersvc.ImportJob{ID: newJobID(), AdminID: actor.ID, IdempotencyKey: keyp, RequestDigest: sum,
		Mode: opts.Mode, DryRun: opts.DryRun, Status: usersvc.JobRunning, Started: now, Heartbeat: now})
	if err != nil {
		return nil, false, err
	}
	if !created { // the same key, meanwhile
		return j.sameRequest(ctx, job, sum)
	}
	started = true
	if !j.run(usersvc.WithPrincipal(usersvc.WithClientAddr(context.Background(), usersvc.ClientAddr(ctx)), &usersvc.Principal{User: actor}), job, f, opts) {
		return nil, false, errJobsStopped
	}
	return job, true, nil
}

func (j *Jobs) stopped() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closed
}

// sameRequest is job when its key stood for the request with digest sum,
// or EUnprocessable. A job recorded before digests were kept matches any.
func (j *Jobs) sameRequest(ctx context.Context, job *usersvc.ImportJob, sum string) (*usersvc.ImportJob, bool, error) {
	if job.RequestDigest != "" && job.RequestDigest != sum {
		return nil, false, usersvc.FieldErrorf(usersvc.EUnprocessable, "Idempotency-Key",
			"This Idempotency-Key was used for another request (another body, mode or dryRun); use a new key for a new import.")
	}
	return j.fresh(ctx, job), false, nil
}

func newJobID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "imp-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Job reads an import job. Every active admin may see (and cancel) every
// job (usersvc.Service.MayImport); others get EForbidden, an unknown id
// ENotFound. A running job whose heartbeat stopped reads as failed (and
// is recorded so).
func (j *Jobs) Job(ctx context.Context, id string) (*usersvc.ImportJob, error) {
	if _, err := j.svc.MayImport(ctx); err != nil {
		return nil, err
	}
	if !usersvc.PossibleJobID(id) {
		return nil, errJobNotFound
	}
	job, err := j.store.ImportJob(ctx, id)
	if usersvc.ErrorCode(err) == usersvc.ENotFound {
		return nil, errJobNotFound
	}
	if err != nil {
		return nil, err
	}
	return j.fresh(ctx, job), nil
}

// fresh is job, or job as failed when its heartbeat stopped.
func (j *Jobs) fresh(ctx context.Context, job *usersvc.ImportJob) *usersvc.ImportJob {
	now := j.svc.Time()
	if job.Status != usersvc.JobRunning || now.Sub(job.Heartbeat) < stale {
		return job
	}
	if _, err := j.store.FailStaleImports(ctx, now.Add(-stale), now); err == nil {
		if fresh, err := j.store.ImportJob(ctx, job.ID); err == nil {
			return fresh
		}
	}
	return job
}

// Cancel asks the process running a job to stop it (any admin may); what
// was committed stays. Cancelling a finished job changes nothing.
func (j *Jobs) Cancel(ctx context.Context, id string) (*usersvc.ImportJob, error) {
	job, err := j.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if job.Status != usersvc.JobRunning {
		return job, nil
	}
	if err := j.store.RequestImportCancel(ctx, id); err != nil {
		return nil, err
	}
	j.mu.Lock()
	if cancel := j.cancels[id]; cancel != nil {
		cancel(errJobCancelled) // this process runs it: at once
	}
	j.mu.Unlock()
	job.CancelRequested = true
	return job, nil
}

// Failures gives each of a job's kept failed lines (the first
// MaxJobFailures), in line order, to each.
func (j *Jobs) Failures(ctx context.Context, id string, each func(usersvc.ImportFailure) error) error {
	if _, err := j.Job(ctx, id); err != nil {
		return err
	}
	after := int64(0)
	for {
		page, err := j.store.ImportFailures(ctx, id, after, 1000)
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
