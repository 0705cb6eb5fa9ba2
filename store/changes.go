package store

import (
	"context"
	"database/sql"
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

// forgetOwn forgets the entries this process wrote: after history moved
// backwards their ids may be other processes' entries.
func (c *changeLog) forgetOwn() {
	c.mu.Lock()
	clear(c.mine)
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
