package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"usersvc"
)

// totalDay is the usage row that holds a user's all-time count.
const totalDay = "total"

// UsageCounts reads a user's stored all-time count and day's count.
func (s *Store) UsageCounts(ctx context.Context, userID, day string) (usersvc.Usage, error) {
	u, err := s.UsageCountsOf(ctx, []usersvc.UsageKey{{UserID: userID, Day: day}})
	if err != nil {
		return usersvc.Usage{}, err
	}
	return u[0], nil
}

// addUsagesSQL adds many rows' counts in one statement whose text does not
// depend on how many (so it is prepared once): PostgreSQL takes the rows
// as three arrays, SQLite as one JSON array of [user, day, n].
var addUsagesSQL = map[string]string{
	dialect.Postgres: `INSERT INTO usages (user_id, day, count)
SELECT u, d, n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(u, d, n) ORDER BY u, d
ON CONFLICT (user_id, day) DO UPDATE SET count = usages.count + excluded.count
RETURNING user_id, day, count`,
	dialect.SQLite: `INSERT INTO usages (user_id, day, count)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?1) WHERE true
ON CONFLICT (user_id, day) DO UPDATE SET count = usages.count + excluded.count
RETURNING user_id, day, count`,
}

// Statements of a flush's id (AddUsages): record it, or find it was
// recorded already; and delete ids older than usageFlushRetention, at most
// usageFlushPrune at a time (others' flushes skip the rows one is deleting).
var (
	recordFlushSQL = map[string]string{
		dialect.Postgres: `INSERT INTO usage_flushes (id, at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		dialect.SQLite:   `INSERT INTO usage_flushes (id, at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING`,
	}
	pruneFlushesSQL = map[string]string{
		dialect.Postgres: `DELETE FROM usage_flushes WHERE id IN (SELECT id FROM usage_flushes WHERE at < $1 LIMIT 100 FOR UPDATE SKIP LOCKED)`,
		dialect.SQLite:   `DELETE FROM usage_flushes WHERE id IN (SELECT id FROM usage_flushes WHERE at < ?1 LIMIT 100)`,
	}
)

// usageFlushRetention is how long a flush's id is kept: a retry of the
// same flush comes at the meter's next flush (a second later, or when the
// database is back), so a day covers any outage the service rides
// through. A flush retried after its id was deleted would be added twice.
const usageFlushRetention = 24 * time.Hour

// AddUsages implements usersvc.UsageStore: in one transaction, it records
// flushID (usage_flushes, unique) and runs one INSERT … ON CONFLICT DO
// UPDATE … RETURNING for every row the deltas touch (each user's all-time
// row and day rows). When flushID is recorded already, the flush was
// applied before (its answer was lost): nothing is added, and the stored
// counts are read and returned. Rows go in (user, day) order, so two
// processes flushing at once lock shared rows in the same order and cannot
// deadlock. The all-time row of a user with deltas on two days is one
// row, their sum (a row may appear only once in such a statement). The
// same transaction deletes up to 100 ids older than a day.
func (s *Store) AddUsages(ctx context.Context, flushID string, deltas []usersvc.UsageDelta) (_ []usersvc.Usage, err error) {
	defer internal(&err)
	if len(deltas) == 0 {
		return nil, nil
	}
	if flushID == "" || len(flushID) > 64 {
		return nil, fmt.Errorf("usage flush id %q: want 1 to 64 characters", flushID)
	}
	type key struct{ user, day string }
	add := map[key]int64{}
	for _, d := range deltas {
		if d.N <= 0 || d.Day == totalDay {
			return nil, fmt.Errorf("usage delta %+v: want n > 0 on a date", d)
		}
		add[key{d.UserID, d.Day}] += d.N
		add[key{d.UserID, totalDay}] += d.N
	}
	keys := slices.SortedFunc(maps.Keys(add), func(a, b key) int {
		return cmp.Or(strings.Compare(a.user, b.user), strings.Compare(a.day, b.day))
	})
	var arg []any
	if s.dialect == dialect.Postgres {
		users, days, ns := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			users[i], days[i], ns[i] = k.user, k.day, add[k]
		}
		arg = []any{pq.Array(users), pq.Array(days), pq.Array(ns)}
	} else {
		rows := make([][3]any, len(keys))
		for i, k := range keys {
			rows[i] = [3]any{k.user, k.day, add[k]}
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return nil, err
		}
		arg = []any{string(b)}
	}
	asked := make([]usersvc.UsageKey, len(deltas))
	for i, d := range deltas {
		asked[i] = usersvc.UsageKey{UserID: d.UserID, Day: d.Day}
	}
	var out []usersvc.Usage
	err = s.transact(ctx, func(ts *Store) error {
		now := time.Now()
		res, err := ts.c().ExecContext(ctx, recordFlushSQL[s.dialect], flushID, now.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 { // applied before
			out, err = ts.UsageCountsOf(ctx, asked)
			return err
		}
		if out, err = ts.readUsages(ctx, addUsagesSQL[s.dialect], arg, asked); err != nil {
			return err
		}
		_, err = ts.c().ExecContext(ctx, pruneFlushesSQL[s.dialect], now.Add(-usageFlushRetention).Unix())
		return err
	})
	return out, err
}

// usageCountsOfSQL reads the rows of many users on a few days in one
// statement whose text does not depend on how many.
var usageCountsOfSQL = map[string]string{
	dialect.Postgres: `SELECT user_id, day, count FROM usages WHERE user_id = ANY($1::text[]) AND day = ANY($2::text[])`,
	dialect.SQLite:   `SELECT user_id, day, count FROM usages WHERE user_id IN (SELECT value FROM json_each(?1)) AND day IN (SELECT value FROM json_each(?2))`,
}

// UsageCountsOf implements usersvc.UsageStore: one read of every key's
// all-time and day rows (users' rows on the other keys' days come along
// and are dropped).
func (s *Store) UsageCountsOf(ctx context.Context, keys []usersvc.UsageKey) (_ []usersvc.Usage, err error) {
	defer internal(&err)
	if len(keys) == 0 {
		return nil, nil
	}
	users, days := make([]string, 0, len(keys)), []string{totalDay}
	seenDay := map[string]bool{totalDay: true}
	for _, k := range keys {
		users = append(users, k.UserID)
		if !seenDay[k.Day] {
			seenDay[k.Day] = true
			days = append(days, k.Day)
		}
	}
	var args []any
	if s.dialect == dialect.Postgres {
		args = []any{pq.Array(users), pq.Array(days)}
	} else {
		u, err := json.Marshal(users)
		if err != nil {
			return nil, err
		}
		d, err := json.Marshal(days)
		if err != nil {
			return nil, err
		}
		args = []any{string(u), string(d)}
	}
	return s.readUsages(ctx, usageCountsOfSQL[s.dialect], args, keys)
}

// readUsages runs q, which answers (user_id, day, count) rows, and
// returns each key's all-time count and its day's count (0 when a row is
// absent).
func (s *Store) readUsages(ctx context.Context, q string, args []any, keys []usersvc.UsageKey) ([]usersvc.Usage, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[usersvc.UsageKey]int64{}
	for rows.Next() {
		var k usersvc.UsageKey
		var n int64
		if err := rows.Scan(&k.UserID, &k.Day, &n); err != nil {
			return nil, err
		}
		counts[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]usersvc.Usage, len(keys))
	for i, k := range keys {
		out[i] = usersvc.Usage{Total: counts[usersvc.UsageKey{UserID: k.UserID, Day: totalDay}], Daily: counts[k]}
	}
	return out, nil
}
