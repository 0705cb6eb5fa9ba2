package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"entgo.io/ent/dialect"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/token"
)

// SaveUser saves one decided write (usersvc.UserSave) atomically.
//
// An update that carries nothing but the user and its history entry is,
// on PostgreSQL, one statement (userSQL.saveAndRecord: the update guarded
// by the version, and the entry inserted from its RETURNING row), so one
// round trip and, outside a transaction, one commit. SQLite has no
// data-modifying WITH, so there the same two statements run in one
// transaction; that is the only difference between the databases. A write
// that also ends sessions or issues one, and a create, is a transaction
// on both. Nothing here notifies anyone: the history entry is the change
// log other processes read (changes.go).
func (s *Store) SaveUser(ctx context.Context, w *usersvc.UserSave) (saved bool, err error) {
	defer internal(&err)
	if !w.Create && !w.EndSessions && w.Session == nil && s.dialect == dialect.Postgres {
		return s.updateAndRecord(ctx, w)
	}
	err = s.transact(ctx, func(t *Store) error {
		saved = false // InTx may run this again
		if w.Create {
			if _, err := t.c().ExecContext(ctx, userSQLOf[t.dialect].insert, userInsertArgs(w.User)...); err != nil {
				return saveErr(err)
			}
		} else {
			ok, err := t.updateAndRecord(ctx, w)
			if err != nil || !ok {
				return err
			}
		}
		if w.Create || s.dialect != dialect.Postgres {
			if err := t.appendAudit(ctx, w.Entry); err != nil {
				return err
			}
		}
		if w.EndSessions {
			if err := t.revokeSessions(ctx, w.User.ID); err != nil {
				return err
			}
		}
		if w.Session != nil {
			if err := t.CreateToken(ctx, w.Session); err != nil {
				return err
			}
			if err := t.trimSessions(ctx, w.User.ID, w.KeepSessions, w.Session.Created); err != nil {
				return err
			}
		}
		saved = true
		return nil
	})
	return saved, err
}

// updateAndRecord writes w's update guarded by its version, and on
// PostgreSQL its history entry in the same statement (on SQLite the
// caller appends it in the same transaction). It reports whether the
// version matched.
func (s *Store) updateAndRecord(ctx context.Context, w *usersvc.UserSave) (bool, error) {
	q := userSQLOf[s.dialect]
	if s.dialect != dialect.Postgres {
		res, err := s.c().ExecContext(ctx, q.update, userUpdateArgs(w.User, w.Version, 0)...)
		if err != nil {
			return false, saveErr(err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
	e := w.Entry
	patch, err := json.Marshal(e.Patch)
	if err != nil {
		return false, err
	}
	args := append(userUpdateArgs(w.User, w.Version, 5), e.At, e.Actor, e.Action, e.Address, string(patch))
	if s.tx == nil { // a transaction holds its connection already
		if err := s.admitWrite(ctx); err != nil {
			return false, err
		}
		defer func() { <-s.writes }()
	}
	rows, err := s.c().QueryContext(ctx, q.saveAndRecord, args...)
	if err != nil {
		return false, saveErr(err)
	}
	defer rows.Close()
	var id sql.NullInt64
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return false, err
		}
	}
	if err := rows.Err(); err != nil {
		return false, saveErr(err)
	}
	if err := rows.Close(); err != nil {
		return false, saveErr(err)
	}
	if !id.Valid {
		return false, nil
	}
	e.ID = id.Int64
	s.changes.own(e.ID)
	return true, nil
}

// admitWrite waits for one of the write gate's permits, or until ctx
// ends. Waiters are served in arrival order: a channel hands its freed
// places to its blocked senders first come, first served, where
// database/sql hands a freed connection to a random waiter. With 64
// writes over 16 connections that random hand-off made a write's wait
// geometric, and its p99 twice the reference server's; admitted in order,
// the p99 came to 1.0-1.4x of it at the same throughput
// (docs/benchmarks.md).
func (s *Store) admitWrite(ctx context.Context) error {
	select {
	case s.writes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// revokeSessions revokes every sign-in session of userID.
func (s *Store) revokeSessions(ctx context.Context, userID string) error {
	_, err := s.c().Token.Update().
		Where(token.UserID(userID), token.KindEQ(token.KindSession), token.Revoked(false)).
		SetRevoked(true).Save(ctx)
	return err
}

// trimSessions revokes userID's live sessions beyond the newest keep (keep
// 0: no cap), and deletes up to 100 tokens of anyone that expired over a
// day before now (an expired token is refused anyway; the row only grew
// the table).
func (s *Store) trimSessions(ctx context.Context, userID string, keep int, now time.Time) error {
	if keep > 0 {
		old, err := s.c().Token.Query().
			Where(token.UserID(userID), token.KindEQ(token.KindSession), token.Revoked(false)).
			Order(ent.Desc(token.FieldID)).Offset(keep).IDs(ctx)
		if err != nil {
			return err
		}
		if len(old) > 0 {
			if _, err := s.c().Token.Update().Where(token.IDIn(old...)).SetRevoked(true).Save(ctx); err != nil {
				return err
			}
		}
	}
	expired, err := s.c().Token.Query().Where(token.ExpiresAtLT(now.Add(-24 * time.Hour))).Limit(100).IDs(ctx)
	if err != nil || len(expired) == 0 {
		return err
	}
	_, err = s.c().Token.Delete().Where(token.IDIn(expired...)).Exec(ctx)
	return err
}

func optString(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

func optTime(v *time.Time) any {
	if v == nil {
		return nil
	}
	return *v
}

func optInt64(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}
