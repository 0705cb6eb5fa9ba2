package store

import (
	"context"
	"fmt"
	"time"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/importerror"
	"usersvc/ent/importjob"
)

// Import jobs (usersvc.ImportJobStore): the record of each import started
// over HTTP, and its failed lines.

func toImportJob(j *ent.ImportJob) *usersvc.ImportJob {
	return &usersvc.ImportJob{
		ID: j.ID, AdminID: j.AdminID, IdempotencyKey: j.IdempotencyKey, RequestDigest: j.RequestDigest, Mode: j.Mode, DryRun: j.DryRun,
		Status: string(j.Status), CancelRequested: j.CancelRequested, Reason: j.Reason,
		ImportCounts: usersvc.ImportCounts{Lines: j.Lines, Created: j.Created, Updated: j.Updated, Unchanged: j.Unchanged, Failed: j.Failed, Bytes: j.Bytes},
		Started:      j.StartedAt.UTC(), Heartbeat: j.Heartbeat.UTC(), Finished: utcPtr(j.FinishedAt),
	}
}

// CreateImportJob records a new running job; when the admin already has a
// job with the same idempotency key, it returns that one and false.
func (s *Store) CreateImportJob(ctx context.Context, j *usersvc.ImportJob) (_ *usersvc.ImportJob, created bool, err error) {
	defer internal(&err)
	saved, err := s.c().ImportJob.Create().SetID(j.ID).SetAdminID(j.AdminID).SetNillableIdempotencyKey(j.IdempotencyKey).SetRequestDigest(j.RequestDigest).
		SetMode(j.Mode).SetDryRun(j.DryRun).SetStatus(importjob.StatusRunning).SetStartedAt(j.Started).SetHeartbeat(j.Started).Save(ctx)
	if ent.IsConstraintError(err) && j.IdempotencyKey != nil {
		existing, err := s.ImportJobByKey(ctx, j.AdminID, *j.IdempotencyKey)
		return existing, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return toImportJob(saved), true, nil
}

// ImportJobByKey is the admin's job with that idempotency key (ENotFound
// when none).
func (s *Store) ImportJobByKey(ctx context.Context, adminID, key string) (_ *usersvc.ImportJob, err error) {
	defer internal(&err)
	j, err := s.c().ImportJob.Query().Where(importjob.AdminID(adminID), importjob.IdempotencyKey(key)).Only(ctx)
	if err != nil {
		return nil, notFound(err, "Import job not found.")
	}
	return toImportJob(j), nil
}

// ImportJob reads a job (ENotFound when there is none).
func (s *Store) ImportJob(ctx context.Context, id string) (_ *usersvc.ImportJob, err error) {
	defer internal(&err)
	j, err := s.c().ImportJob.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, "Import job not found.")
	}
	return toImportJob(j), nil
}

// SaveImportProgress records a running job's counts, its new failed lines
// and its heartbeat, in one transaction, and reports whether a cancel was
// asked for. A job no longer running is left alone.
func (s *Store) SaveImportProgress(ctx context.Context, id string, c usersvc.ImportCounts, fails []usersvc.ImportFailure, at time.Time) (cancel bool, err error) {
	defer internal(&err)
	err = s.transact(ctx, func(t *Store) error {
		if len(fails) > 0 {
			creates := make([]*ent.ImportErrorCreate, len(fails))
			for i, f := range fails {
				creates[i] = t.c().ImportError.Create().SetJobID(id).SetLine(f.Line).SetField(f.Field).SetCode(f.Code).SetMessage(f.Message)
			}
			if err := t.c().ImportError.CreateBulk(creates...).Exec(ctx); err != nil {
				return err
			}
		}
		if _, err := t.c().ImportJob.Update().Where(importjob.ID(id), importjob.StatusEQ(importjob.StatusRunning)).
			SetLines(c.Lines).SetCreated(c.Created).SetUpdated(c.Updated).SetUnchanged(c.Unchanged).SetFailed(c.Failed).SetBytes(c.Bytes).
			SetHeartbeat(at).Save(ctx); err != nil {
			return err
		}
		j, err := t.c().ImportJob.Get(ctx, id)
		if err != nil {
			return err
		}
		// A job no longer running (another process found its heartbeat
		// stale and recorded it failed) must stop too: its saves match
		// no row any more, and the operator was told to import again.
		cancel = j.CancelRequested || j.Status != importjob.StatusRunning
		return nil
	})
	return cancel, err
}

// FinishImportJob ends a running job with status (completed, failed or
// cancelled), its final counts and reason.
func (s *Store) FinishImportJob(ctx context.Context, id, status, reason string, c usersvc.ImportCounts, at time.Time) (err error) {
	defer internal(&err)
	_, err = s.c().ImportJob.Update().Where(importjob.ID(id), importjob.StatusEQ(importjob.StatusRunning)).
		SetStatus(importjob.Status(status)).SetReason(reason).SetFinishedAt(at).SetHeartbeat(at).
		SetLines(c.Lines).SetCreated(c.Created).SetUpdated(c.Updated).SetUnchanged(c.Unchanged).SetFailed(c.Failed).SetBytes(c.Bytes).Save(ctx)
	return err
}

// RequestImportCancel asks the process running a job to stop it.
func (s *Store) RequestImportCancel(ctx context.Context, id string) (err error) {
	defer internal(&err)
	_, err = s.c().ImportJob.Update().Where(importjob.ID(id), importjob.StatusEQ(importjob.StatusRunning)).SetCancelRequested(true).Save(ctx)
	return err
}

// FailStaleImports marks failed every running job whose heartbeat is older
// than before: the process running it stopped.
func (s *Store) FailStaleImports(ctx context.Context, before, at time.Time) (_ int, err error) {
	defer internal(&err)
	stale, err := s.c().ImportJob.Query().Where(importjob.StatusEQ(importjob.StatusRunning), importjob.HeartbeatLT(before)).All(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range stale {
		k, err := s.c().ImportJob.Update().Where(importjob.ID(j.ID), importjob.StatusEQ(importjob.StatusRunning), importjob.HeartbeatLT(before)).
			SetStatus(importjob.StatusFailed).SetFinishedAt(at).
			SetReason(fmt.Sprintf("Interrupted after line %d: the process running it stopped. Import the file again with mode upsert to finish.", j.Lines)).Save(ctx)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// ImportFailures lists a job's failed lines after line afterLine, in line
// order, at most limit.
func (s *Store) ImportFailures(ctx context.Context, id string, afterLine int64, limit int) (_ []usersvc.ImportFailure, err error) {
	defer internal(&err)
	rows, err := s.c().ImportError.Query().Where(importerror.JobID(id), importerror.LineGT(afterLine)).
		Order(ent.Asc(importerror.FieldLine), ent.Asc(importerror.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]usersvc.ImportFailure, len(rows))
	for i, r := range rows {
		out[i] = usersvc.ImportFailure{Line: r.Line, Field: r.Field, Code: r.Code, Message: r.Message}
	}
	return out, nil
}

// DeleteImportJobsFinishedBefore removes the jobs that finished before
// before, and their failed lines, in one transaction.
func (s *Store) DeleteImportJobsFinishedBefore(ctx context.Context, before time.Time) (n int, err error) {
	defer internal(&err)
	err = s.transact(ctx, func(t *Store) error {
		ids, err := t.c().ImportJob.Query().Where(importjob.FinishedAtLT(before)).IDs(ctx)
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := t.c().ImportError.Delete().Where(importerror.JobIDIn(ids...)).Exec(ctx); err != nil {
			return err
		}
		n, err = t.c().ImportJob.Delete().Where(importjob.IDIn(ids...)).Exec(ctx)
		return err
	})
	return n, err
}
