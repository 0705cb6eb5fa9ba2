package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"usersvc"
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
func (s *Store) Audit(ctx context.Context, userID string, before int64, limit int) ([]*usersvc.AuditEntry, error) {
	m, err := s.Histories(ctx, []string{userID}, before, limit)
	return m[userID], err
}

// CountAudit counts a user's history entries.
func (s *Store) CountAudit(ctx context.Context, userID string) (int, error) {
	m, err := s.CountHistories(ctx, []string{userID})
	return m[userID], err
}

// historyQueries are one dialect's batched history reads. The users are
// one parameter (an array on PostgreSQL, a JSON array on SQLite) so each
// read is one statement text whatever the page's size.
type historyQueries struct{ page, pageBefore, count string }

var historyQueriesOf = map[string]historyQueries{
	dialect.Postgres: newHistoryQueries("user_id = ANY($1::text[])", "$2", "$3"),
	dialect.SQLite:   newHistoryQueries("user_id IN (SELECT value FROM json_each(?))", "?", "?"),
}

func newHistoryQueries(users, p2, p3 string) historyQueries {
	page := func(where, limit string) string {
		return `SELECT id, user_id, at, actor, action, address, patch FROM (` +
			`SELECT id, user_id, at, actor, action, address, patch, ` +
			`row_number() OVER (PARTITION BY user_id ORDER BY id DESC) AS n FROM audits WHERE ` + where +
			`) AS h WHERE n <= ` + limit + ` ORDER BY user_id, id DESC`
	}
	return historyQueries{
		page:       page(users, p2),
		pageBefore: page(users+" AND id < "+p2, p3),
		count:      `SELECT user_id, count(*) FROM audits WHERE ` + users + ` GROUP BY user_id`,
	}
}

// usersArg is the users parameter of historyQueries.
func (s *Store) usersArg(ids []string) (any, error) {
	if s.dialect == dialect.Postgres {
		return pq.Array(ids), nil
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

// Histories lists each user's history newest first, entries with ID <
// before (all when before is 0), at most limit a user: one statement for
// all of them (a page of users, each with its history, reads their
// histories together).
func (s *Store) Histories(ctx context.Context, userIDs []string, before int64, limit int) (_ map[string][]*usersvc.AuditEntry, err error) {
	defer internal(&err)
	users, err := s.usersArg(userIDs)
	if err != nil {
		return nil, err
	}
	q := historyQueriesOf[s.dialect]
	var rows *sql.Rows
	if before > 0 {
		rows, err = s.c().QueryContext(ctx, q.pageBefore, users, before, limit)
	} else {
		rows, err = s.c().QueryContext(ctx, q.page, users, limit)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]*usersvc.AuditEntry, len(userIDs))
	for rows.Next() {
		e := &usersvc.AuditEntry{}
		var patch []byte
		if err := rows.Scan(&e.ID, &e.UserID, &e.At, &e.Actor, &e.Action, &e.Address, &patch); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		if err := json.Unmarshal(patch, &e.Patch); err != nil {
			return nil, err
		}
		if e.Patch == nil {
			e.Patch = []usersvc.PatchOperation{}
		}
		out[e.UserID] = append(out[e.UserID], e)
	}
	return out, rows.Err()
}

// CountHistories counts each user's history entries in one statement.
func (s *Store) CountHistories(ctx context.Context, userIDs []string) (_ map[string]int, err error) {
	defer internal(&err)
	users, err := s.usersArg(userIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.c().QueryContext(ctx, historyQueriesOf[s.dialect].count, users)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int, len(userIDs))
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
