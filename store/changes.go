package store

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"
)

// The change log (usersvc.ChangeLog). Every write that matters to another
// process's token cache or subscriptions writes a history entry (the
// audits table) in the same statement or transaction as the change. So no
// write transaction notifies anyone: PostgreSQL takes one database-wide
// lock at the commit of every transaction that sends a notice, which
// serialized every write of every replica when each write sent one.
// Instead:
//
//   - After its commits, a process announces them: one pg_notify of its
//     own, in a statement of its own, at most every announceEvery, however
//     many commits it covers (Announce, announce).
//   - Every process reads the entries committed since the last one it saw
//     (follower.poll), when an announcement wakes it and every pollEvery
//     regardless. The periodic read is what makes it exact: a process that
//     died between its commit and its announcement, or an announcement
//     lost on the way, delays the news by at most pollEvery.
//   - Entries commit out of id order (ids are taken before commit). An id
//     below the highest seen that is not there yet is a gap: it is read
//     again on every poll until it appears or until every transaction
//     that could have taken it has ended (its horizon, the snapshot's
//     xmax when the gap was found, is below a later snapshot's xmin),
//     and it is at least gapMinAge old.
//   - heard(at) follows every poll that succeeded: its snapshot was taken
//     after at, so every change committed before at has been read.

const (
	// notifyChannel carries announcements between processes.
	notifyChannel = "usersvc_user_changed"
	// announceEvery is the most often a process announces.
	announceEvery = 5 * time.Millisecond
	// pollEvery is how often the log is read without an announcement: the
	// token cache needs a read that succeeded within a second.
	pollEvery = 200 * time.Millisecond
	// pollTimeout bounds one read; a read that fails or times out means
	// changes may go unheard (live(false)).
	pollTimeout = time.Second
	// pollPage is the most entries one read returns; a full page is read
	// on at once.
	pollPage = 5_000
	// maxCatchUp is the most entries one poll passes on; past it the
	// follower asks for a resync (changed("")) and starts over.
	maxCatchUp = 100_000
	// maxGaps bounds the gaps followed; past it, a resync.
	maxGaps = 10_000
	// startWindow is how far below the newest entry a follower looks for
	// gaps when it starts: a transaction that took its history id more
	// than this many entries before the newest and commits after the
	// follower starts is not heard. Writes are single statements or short
	// transactions bounded by the request's deadline.
	startWindow = 10_000
	// gapMinAge keeps a gap followed at least this long, whatever the
	// snapshots say (an id may be taken an instant before its
	// transaction's xid).
	gapMinAge = 2 * time.Second
	// maxOwn bounds the ids of this process's own entries remembered.
	maxOwn = 100_000
)

// changeLog is a Store's side of the change log, shared by the Store and
// the copies InTx hands out.
type changeLog struct {
	mu sync.Mutex
	// mine holds the ids of history entries this process wrote: it has
	// already acted on them, so its follower skips them.
	mine map[int64]struct{}
	// announce is signalled after commits; the announcer drains it.
	announce chan struct{}
}

func newChangeLog() *changeLog {
	return &changeLog{mine: map[int64]struct{}{}, announce: make(chan struct{}, 1)}
}

// own records an entry this process wrote.
func (c *changeLog) own(id int64) {
	c.mu.Lock()
	if len(c.mine) >= maxOwn {
		clear(c.mine) // its entries are then heard like others': a little more work, never less
	}
	c.mine[id] = struct{}{}
	c.mu.Unlock()
}

// seen reports whether id is this process's own entry, and forgets it.
func (c *changeLog) seen(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.mine[id]
	delete(c.mine, id)
	return ok
}

// Announce signals the announcer (see the top of this file); it never
// blocks. Without a follower running (the command line), nothing is
// sent: other processes hear the changes at their next periodic read.
func (s *Store) Announce() {
	select {
	case s.changes.announce <- struct{}{}:
	default:
	}
}

// FollowChanges implements usersvc.ChangeLog on PostgreSQL; on SQLite,
// which serves one process, it returns at once.
func (s *Store) FollowChanges(ctx context.Context, changed func(string), live func(bool), heard func(time.Time)) error {
	if s.dialect != dialect.Postgres {
		return nil
	}
	live(false)
	conn, err := newConnector(s.url) // Options.ListenURL: a session of its own behind a pooler
	if err != nil {
		return err
	}
	// Its own connections, so a busy pool delays neither the reads the
	// token cache depends on nor the announcements.
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait() // joined: nothing outlives the follower
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Add(2)
	go func() { defer wg.Done(); s.listen(ctx, wake) }()
	go func() { defer wg.Done(); s.announce(ctx, db) }()

	f := &follower{db: db, changes: s.changes, changed: changed, minAge: gapMinAge}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	isLive := false
	for {
		at := time.Now()
		err := f.poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if isLive {
				live(false)
				isLive = false
			}
		default:
			if !isLive {
				live(true)
				isLive = true
			}
			heard(at)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-wake:
		}
	}
}

// announce sends this process's announcements until ctx ends: after a
// signal, it waits announceEvery so that the commits of that moment share
// one notice, then sends it in a statement of its own (no write waits for
// it). A failed one is not retried: the next periodic read covers it.
func (s *Store) announce(ctx context.Context, db *sql.DB) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changes.announce:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(announceEvery):
		}
		select { // commits during the wait are covered by this notice
		case <-s.changes.announce:
		default:
		}
		c, cancel := context.WithTimeout(ctx, pollTimeout)
		_, _ = db.ExecContext(c, "SELECT pg_notify($1, $2)", notifyChannel, s.instance)
		cancel()
	}
}

// listen wakes the follower when another process announces, until ctx
// ends. Announcements only hasten the reads, so a listener that is down
// costs latency (pollEvery at most), never correctness; it is restarted
// with a growing delay when it cannot start.
func (s *Store) listen(ctx context.Context, wake chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if s.listenOnce(ctx, wake) {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listenOnce runs one lib/pq listener until ctx ends or it cannot listen;
// it reports whether it listened at all. Every read of its connection is
// bounded (listenerIdle) and it pings more often than that, so a silent
// server drops the connection and the listener reconnects by itself.
func (s *Store) listenOnce(ctx context.Context, wake chan<- struct{}) bool {
	l := pq.NewDialListener(dialer{idle: listenerIdle}, s.url, 100*time.Millisecond, 2*time.Second, nil)
	defer l.Close()
	if err := l.Listen(notifyChannel); err != nil {
		return false
	}
	var pinging sync.WaitGroup
	defer pinging.Wait()
	pctx, stopPing := context.WithCancel(ctx)
	defer stopPing()
	pinging.Add(1)
	go func() { // one pinger, joined, however slow a ping is
		defer pinging.Done()
		t := time.NewTicker(listenerPing)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
				_ = l.Ping()
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return true
		case n := <-l.Notify:
			if n != nil && n.Extra == s.instance {
				continue // this process acted on its own changes already
			}
			select { // n == nil: reconnected, anything may have been announced meanwhile
			case wake <- struct{}{}:
			default:
			}
		}
	}
}

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
const pollSQL = `SELECT s.xmin, s.xmax, a.id, a.user_id
FROM (SELECT pg_snapshot_xmin(c)::text AS xmin, pg_snapshot_xmax(c)::text AS xmax FROM pg_current_snapshot() AS c) AS s
LEFT JOIN LATERAL (SELECT id, user_id FROM (
  (SELECT id, user_id FROM audits WHERE id > $1 ORDER BY id LIMIT $3)
  UNION ALL
  (SELECT id, user_id FROM audits WHERE id = ANY($2::bigint[]) AND id <= $1)
) AS n ORDER BY id LIMIT $3) AS a ON true`

// startSQL reads, in one snapshot, its bounds and the ids of the last
// startWindow entries.
const startSQL = `SELECT s.xmin, s.xmax, a.id
FROM (SELECT pg_snapshot_xmin(c)::text AS xmin, pg_snapshot_xmax(c)::text AS xmax FROM pg_current_snapshot() AS c) AS s
LEFT JOIN LATERAL (SELECT id FROM audits WHERE id > (SELECT coalesce(max(id), 0) FROM audits) - $1 ORDER BY id) AS a ON true`

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
	var xmin, xmax string
	for rows.Next() {
		var id sql.NullInt64
		if err := rows.Scan(&xmin, &xmax, &id); err != nil {
			return err
		}
		if id.Valid {
			ids = append(ids, id.Int64)
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
	f.max = 0
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
		id     int64
		userID string
	}
	var (
		entries    []entry
		xmins, xmx string
	)
	for rows.Next() {
		var (
			id     sql.NullInt64
			userID sql.NullString
		)
		if err := rows.Scan(&xmins, &xmx, &id, &userID); err != nil {
			return 0, 0, err
		}
		if id.Valid {
			entries = append(entries, entry{id.Int64, userID.String})
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
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
			f.max = e.id
		} else {
			continue // read before (a gap filled on an earlier page)
		}
		if !f.changes.seen(e.id) {
			f.changed(e.userID)
		}
	}
	return len(entries), xmin, nil
}

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
