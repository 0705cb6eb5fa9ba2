package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// The change log's reader (see changes.go): one follower a process polls
// the entries committed since the last it read, and keeps the gaps.
//
// History that moves backwards. After an asynchronous failover that lost
// commits (the new primary had not received the last entries), or a
// restore from a backup, the entries the follower read last may no longer
// exist, and their ids may be issued again to new entries, which a
// follower reading "id > max" would skip. So every poll reads, in the same
// snapshot:
//
//   - the primary's timeline (the first 8 digits of its current WAL file's
//     name): every promotion starts a new one, so a failover is seen at
//     the follower's first read on the new primary, whatever was lost,
//     including entries the follower had not read yet (this process's own
//     writes among them, which its token cache already holds);
//   - the entry at the follower's position (its anchor: the id with its
//     time and user, read when the follower passed it), gone or another
//     one when history moved backwards without a new timeline (a restore
//     into a new cluster).
//
// When either moved, the follower starts over where the log now ends,
// passing on a resync ("": changes may have been missed, everyone reads
// everything again: the token cache is emptied, subscriptions re-read) and
// forgetting which ids this process wrote (they may be others' now). So
// nothing is skipped, and nothing committed before the resync is passed
// on again after it. A switchover that lost nothing costs one resync. Both
// reads are a function call and one primary-key lookup per poll.

// follower reads the change log for one process.
type follower struct {
	db      *sql.DB
	changes *changeLog
	changed func(string)
	started bool
	// minAge is gapMinAge (tests shorten it).
	minAge time.Duration
	// max is the highest entry id read; gaps the ids below it not read yet.
	max  int64
	gaps map[int64]gap
	// anchor is the entry at max as read (its mark), "" when max is none.
	anchor string
	// timeline is the primary's timeline when the follower started ("":
	// not known, a server in recovery).
	timeline string
}

type gap struct {
	horizon uint64 // the xmax of the snapshot that found it
	found   time.Time
}

// pollSQL reads, in one snapshot, that snapshot's bounds and the entries
// above max or among the gaps. Each of the two is its own range of the
// primary key (id > $1 ORDER BY id LIMIT, and the gaps, all <= $1), which
// the planner serves from the index whatever the table's statistics say:
// one "id > $1 OR id = ANY($2)" was, in the generic plan of a prepared
// statement, a walk of the whole index with that as a filter (after a
// bulk import with stale statistics, every poll read all of audits).
// TestChangeLogReadsByIndex holds the plans to it.
// The anchor (the entry at $1) comes with the bounds, in the same
// snapshot; every entry comes with its mark.
const pollSQL = `SELECT s.xmin, s.xmax, s.timeline, s.anchor, a.id, a.user_id, a.mark
FROM (SELECT pg_snapshot_xmin(c)::text AS xmin, pg_snapshot_xmax(c)::text AS xmax, ` + timelineSQL + ` AS timeline,
  (SELECT ` + markSQL + ` FROM audits WHERE id = $1) AS anchor FROM pg_current_snapshot() AS c) AS s
LEFT JOIN LATERAL (SELECT id, user_id, mark FROM (
  (SELECT id, user_id, ` + markSQL + ` AS mark FROM audits WHERE id > $1 ORDER BY id LIMIT $3)
  UNION ALL
  (SELECT id, user_id, ` + markSQL + ` AS mark FROM audits WHERE id = ANY($2::bigint[]) AND id <= $1)
) AS n ORDER BY id LIMIT $3) AS a ON true`

// markSQL is an entry's mark: its time (in UTC, whatever the session's
// time zone) and user. An id issued again after history moved backwards
// is another entry, with another mark.
const markSQL = `((at AT TIME ZONE 'UTC')::text || ' ' || user_id)`

// timelineSQL is the server's timeline, ” on a server in recovery (where
// pg_current_wal_lsn fails).
const timelineSQL = `CASE WHEN pg_is_in_recovery() THEN '' ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END`

// startSQL reads, in one snapshot, its bounds and the ids of the last
// startWindow entries.
const startSQL = `SELECT s.xmin, s.xmax, s.timeline, a.id, a.mark
FROM (SELECT pg_snapshot_xmin(c)::text AS xmin, pg_snapshot_xmax(c)::text AS xmax, ` + timelineSQL + ` AS timeline FROM pg_current_snapshot() AS c) AS s
LEFT JOIN LATERAL (SELECT id, ` + markSQL + ` AS mark FROM audits WHERE id > (SELECT coalesce(max(id), 0) FROM audits) - $1 ORDER BY id) AS a ON true`

// poll passes on every entry committed since the last poll (several
// pages if need be), or starts the follower on its first run.
func (f *follower) poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	if !f.started {
		return f.startOver(ctx)
	}
	passed := 0
	for {
		n, xmin, err := f.page(ctx)
		if err == errRewound {
			// History moved backwards (the top of this file).
			f.started = false
			f.changes.forgetOwn()
			return f.startOver(ctx)
		}
		if err != nil {
			return err
		}
		passed += n
		if passed > maxCatchUp || len(f.gaps) > maxGaps {
			// Too far behind to pass everything on: start over.
			f.started = false
			return f.startOver(ctx)
		}
		if n < pollPage {
			f.retire(xmin)
			return nil
		}
	}
}

// startOver starts the follower, then passes on a resync (""): whatever
// committed before the start, while nothing was followed, is covered by
// everyone reading the users again, after the start's snapshot.
func (f *follower) startOver(ctx context.Context) error {
	if err := f.start(ctx); err != nil {
		return err
	}
	f.changed("")
	return nil
}

// start begins following at the newest entry, with the gaps among the
// last startWindow entries.
func (f *follower) start(ctx context.Context) error {
	rows, err := f.db.QueryContext(ctx, startSQL, startWindow)
	if err != nil {
		return err
	}
	defer rows.Close()
	var ids []int64
	var xmin, xmax, timeline, last string
	for rows.Next() {
		var id sql.NullInt64
		var mark sql.NullString
		if err := rows.Scan(&xmin, &xmax, &timeline, &id, &mark); err != nil {
			return err
		}
		if id.Valid {
			ids = append(ids, id.Int64)
			last = mark.String
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	horizon, err := strconv.ParseUint(xmax, 10, 64)
	if err != nil {
		return err
	}
	f.gaps = map[int64]gap{}
	f.max, f.anchor, f.timeline = 0, last, timeline
	if len(ids) > 0 {
		f.max = max(ids[len(ids)-1]-startWindow, 0) // every id in the window not read is a gap
	}
	now := time.Now()
	for _, id := range ids {
		for g := f.max + 1; g < id; g++ {
			f.gaps[g] = gap{horizon: horizon, found: now}
		}
		f.max = id
	}
	f.started = true
	return nil
}

// page reads one page of new entries and passes them on; it returns how
// many rows it read and the snapshot's xmin.
func (f *follower) page(ctx context.Context) (n int, xmin uint64, err error) {
	gaps := make([]int64, 0, len(f.gaps))
	for id := range f.gaps {
		gaps = append(gaps, id)
	}
	rows, err := f.db.QueryContext(ctx, pollSQL, f.max, pq.Array(gaps), pollPage)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	type entry struct {
		id           int64
		userID, mark string
	}
	var (
		entries        []entry
		xmins, xmx, tl string
		anchor         sql.NullString
	)
	for rows.Next() {
		var (
			id           sql.NullInt64
			userID, mark sql.NullString
		)
		if err := rows.Scan(&xmins, &xmx, &tl, &anchor, &id, &userID, &mark); err != nil {
			return 0, 0, err
		}
		if id.Valid {
			entries = append(entries, entry{id.Int64, userID.String, mark.String})
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if f.max > 0 && anchor.String != f.anchor || tl != f.timeline && tl != "" && f.timeline != "" {
		return 0, 0, errRewound
	}
	if f.timeline == "" {
		f.timeline = tl
	}
	if xmin, err = strconv.ParseUint(xmins, 10, 64); err != nil {
		return 0, 0, err
	}
	horizon, err := strconv.ParseUint(xmx, 10, 64)
	if err != nil {
		return 0, 0, err
	}
	now := time.Now()
	for _, e := range entries {
		if _, ok := f.gaps[e.id]; ok {
			delete(f.gaps, e.id)
		} else if e.id > f.max {
			for g := f.max + 1; g < e.id && len(f.gaps) <= maxGaps; g++ {
				f.gaps[g] = gap{horizon: horizon, found: now}
			}
			f.max, f.anchor = e.id, e.mark
		} else {
			continue // read before (a gap filled on an earlier page)
		}
		if !f.changes.seen(e.id) {
			f.changed(e.userID)
		}
	}
	return len(entries), xmin, nil
}

// errRewound says the primary's timeline moved, or the entry at the
// follower's position is gone or is another one: history may have moved
// backwards (the top of this file).
var errRewound = errors.New("the change log moved backwards")

// retire stops following the gaps that no transaction can fill any more:
// every transaction that was running when the gap was found has ended
// (xmin, from a snapshot whose read included the gap, is past the gap's
// horizon) and the gap is old enough.
func (f *follower) retire(xmin uint64) {
	for id, g := range f.gaps {
		if xmin >= g.horizon && time.Since(g.found) >= f.minAge {
			delete(f.gaps, id)
			f.changes.seen(id) // an entry of this process's that rolled back
		}
	}
}
