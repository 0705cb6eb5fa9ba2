package store

import (
	"context"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/audit"
)

// AppendAudit appends one history entry and sets its ID.
func (s *Store) AppendAudit(ctx context.Context, e *usersvc.AuditEntry) (err error) {
	defer internal(&err)
	return s.appendAudit(ctx, e)
}

// appendAudit inserts a history entry (the change log's entry too: see
// changes.go) and remembers it as this process's own.
func (s *Store) appendAudit(ctx context.Context, e *usersvc.AuditEntry) error {
	a, err := s.c().Audit.Create().SetUserID(e.UserID).SetAt(e.At).SetActor(e.Actor).SetAction(e.Action).
		SetAddress(e.Address).SetPatch(e.Patch).Save(ctx)
	if err != nil {
		return err
	}
	e.ID = a.ID
	s.changes.own(e.ID)
	return nil
}

// Audit lists a user's history newest first.
func (s *Store) Audit(ctx context.Context, userID string, before int64, limit int) (_ []*usersvc.AuditEntry, err error) {
	defer internal(&err)
	q := s.c().Audit.Query().Where(audit.UserID(userID))
	if before > 0 {
		q = q.Where(audit.IDLT(before))
	}
	rows, err := q.Order(ent.Desc(audit.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*usersvc.AuditEntry, len(rows))
	for i, r := range rows {
		patch := r.Patch
		if patch == nil {
			patch = []map[string]any{}
		}
		out[i] = &usersvc.AuditEntry{ID: r.ID, UserID: r.UserID, At: r.At.UTC(), Actor: r.Actor,
			Action: r.Action, Address: r.Address, Patch: patch}
	}
	return out, nil
}

// CountAudit counts a user's history entries.
func (s *Store) CountAudit(ctx context.Context, userID string) (_ int, err error) {
	defer internal(&err)
	return s.c().Audit.Query().Where(audit.UserID(userID)).Count(ctx)
}
