package usersvc

import (
	"context"
	"time"
)

// Import jobs (docs/import.md, "Over HTTP"): an import started over HTTP.
// Running them (spooling the body, the job goroutine, its heartbeat and
// record, stopping) is package moving's; the domain holds the job's
// record, the store it is kept in, and who may start, see, follow and
// cancel a job: every active admin (MayImport), and a job acts for the
// admin who started it only while that admin may import (MayStillImport).

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

// ImportJobStore keeps import jobs' records (see the top of this file and package moving).
type ImportJobStore interface {
	// CreateImportJob records a new running job; when the admin already
	// has a job with the same idempotency key it returns that one and
	// false.
	CreateImportJob(ctx context.Context, j *ImportJob) (*ImportJob, bool, error)
	ImportJobByKey(ctx context.Context, adminID, key string) (*ImportJob, error)
	ImportJob(ctx context.Context, id string) (*ImportJob, error)
	// SaveImportProgress records a running job's counts, new failed lines
	// and heartbeat, and reports whether the job must stop: a cancel was
	// asked for, or it is no longer running (recorded failed as stale).
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

// MaxIdempotencyKey bounds an import's Idempotency-Key.
const MaxIdempotencyKey = 255

// ValidIdempotencyKey reports whether key may name an import request: 1
// to MaxIdempotencyKey bytes of text.
func ValidIdempotencyKey(key string) bool {
	return key != "" && len(key) <= MaxIdempotencyKey && validText(key)
}

// PossibleJobID reports whether id could name an import job: 1 to 64
// bytes of text, as a user id (any other id is a job that does not exist,
// on every database).
func PossibleJobID(id string) bool { return possibleID(id) }

// MayImport returns the caller when they may import, and so start, see,
// follow and cancel every import job: an active admin (a job acts on all
// users, as any admin may, and an admin who leaves must not leave a job
// nobody can stop). Others get EForbidden.
func (s *Service) MayImport(ctx context.Context) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := Authorize(actor, ActionImport, nil, s.now()); err != nil {
		return nil, err
	}
	return actor, nil
}

// MayStillImport reports whether the user with id, read now, may still
// import: false once they are disabled, demoted, expired or deleted. A
// failed read is not a loss (true: the next check reads again).
func (s *Service) MayStillImport(ctx context.Context, id string) bool {
	u, err := s.store.User(ctx, id, false)
	if ErrorCode(err) == ENotFound {
		return false
	}
	if err != nil {
		return true
	}
	now := s.now()
	return usable(u, now) == nil && Authorize(u, ActionImport, nil, now) == nil
}

// Time is the service's clock (Now) as stored times have it: UTC, to the
// microsecond.
func (s *Service) Time() time.Time { return s.now() }
