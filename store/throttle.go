package store

import (
	"context"
	"encoding/json"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/signinfailure"
)

// The sign-in throttle's failures (usersvc.FailureLog), in the database so
// that every process sharing it counts the same ones.

var _ usersvc.FailureLog = (*Store)(nil)

func micros(t time.Time) int64 { return t.UnixMicro() }

// maxFailuresPerKey is how many failures a key keeps (the in-memory log
// keeps as many).
const maxFailuresPerKey = 64

// maxFailureRows bounds the whole table (about 40 MB with its indexes): an
// attacker rotating addresses makes new keys faster than the window ages
// them out (1,300 attempts a second, three rows each), so past this many
// rows the oldest go first, whatever their age. Failures are ids in
// insertion order, so "the newest maxFailureRows" is every id above
// max(id) - maxFailureRows, found through the primary key. At that rate
// the table holds the last ~75 s of failures; each key's newest ones
// survive as long as the key keeps failing.
var maxFailureRows int64 = 300_000

// BeginAttempt implements usersvc.FailureLog. On PostgreSQL, attempts
// sharing a key wait for each other on transaction-scoped advisory locks
// (one per key, taken in a fixed order); on SQLite the write transaction
// is exclusive already.
func (s *Store) BeginAttempt(ctx context.Context, keys []string, since, at time.Time, decide func([][]time.Time) bool) (err error) {
	defer internal(&err)
	return s.transact(ctx, func(t *Store) error {
		c := t.c()
		if s.dialect == dialect.Postgres {
			rows, err := c.QueryContext(ctx, `SELECT pg_advisory_xact_lock(h) FROM
				(SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k) AS locks ORDER BY h`, pq.Array(keys))
			if err != nil {
				return err
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		found, err := c.SigninFailure.Query().
			Where(signinfailure.KeyIn(keys...), signinfailure.AtGTE(micros(since))).
			Order(ent.Asc(signinfailure.FieldAt), ent.Asc(signinfailure.FieldID)).All(ctx)
		if err != nil {
			return err
		}
		recent := make([][]time.Time, len(keys))
		for _, f := range found {
			for i, k := range keys {
				if f.Key == k {
					recent[i] = append(recent[i], time.UnixMicro(f.At).UTC())
				}
			}
		}
		if !decide(recent) {
			return nil
		}
		creates := make([]*ent.SigninFailureCreate, len(keys))
		for i, k := range keys {
			creates[i] = c.SigninFailure.Create().SetKey(k).SetAt(micros(at))
		}
		if err := c.SigninFailure.CreateBulk(creates...).Exec(ctx); err != nil {
			return err
		}
		// A key keeps its newest maxFailuresPerKey failures: no rule looks
		// further back, and a key's rows stay bounded however fast it fails.
		var trim string
		var trimArg any
		if s.dialect == dialect.Postgres {
			trim = `DELETE FROM signin_failures WHERE id IN (SELECT id FROM (SELECT id, row_number()
				OVER (PARTITION BY key ORDER BY at DESC, id DESC) AS n FROM signin_failures WHERE key = ANY($1)) AS r WHERE n > $2)`
			trimArg = pq.Array(keys)
		} else {
			trim = `DELETE FROM signin_failures WHERE id IN (SELECT id FROM (SELECT id, row_number()
				OVER (PARTITION BY key ORDER BY at DESC, id DESC) AS n FROM signin_failures WHERE key IN (SELECT value FROM json_each(?1))) WHERE n > ?2)`
			b, err := json.Marshal(keys)
			if err != nil {
				return err
			}
			trimArg = string(b)
		}
		if _, err := c.ExecContext(ctx, trim, trimArg, maxFailuresPerKey); err != nil {
			return err
		}
		// Failures past the window serve no rule any more, and past the
		// table's cap the oldest go: one statement deletes at most 100 of
		// either (more than an attempt adds), skipping rows another
		// attempt is deleting, so pruning never makes attempts with
		// unrelated keys wait on each other.
		prune := `DELETE FROM signin_failures WHERE id IN (SELECT id FROM signin_failures
			WHERE at < $1 OR id <= (SELECT max(id) FROM signin_failures) - $2 LIMIT 100 FOR UPDATE SKIP LOCKED)`
		if s.dialect != dialect.Postgres { // SQLite: one writer at a time already
			prune = `DELETE FROM signin_failures WHERE id IN (SELECT id FROM signin_failures
				WHERE at < ?1 OR id <= (SELECT max(id) FROM signin_failures) - ?2 LIMIT 100)`
		}
		_, err = c.ExecContext(ctx, prune, micros(since), maxFailureRows)
		return err
	})
}

// ForgetFailures implements usersvc.FailureLog.
func (s *Store) ForgetFailures(ctx context.Context, key string) (err error) {
	defer internal(&err)
	_, err = s.c().SigninFailure.Delete().Where(signinfailure.Key(key)).Exec(ctx)
	return err
}

// RemoveFailure implements usersvc.FailureLog: one failure per key, found
// in one query and deleted in one statement.
func (s *Store) RemoveFailure(ctx context.Context, keys []string, at time.Time) (err error) {
	defer internal(&err)
	found, err := s.c().SigninFailure.Query().Where(signinfailure.KeyIn(keys...), signinfailure.At(micros(at))).
		Order(ent.Asc(signinfailure.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	var ids []int64
	seen := map[string]bool{}
	for _, f := range found {
		if !seen[f.Key] {
			seen[f.Key] = true
			ids = append(ids, f.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = s.c().SigninFailure.Delete().Where(signinfailure.IDIn(ids...)).Exec(ctx)
	return err
}
