package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"usersvc"
)

// Reads from a PostgreSQL standby (docs/deploy.md, "Reads from
// standbys"). A Standby is the usersvc.Reads that cmd gives the service
// when USERSVC_READ_URL is set: it answers the plain reads from a
// streaming standby, never older than the call.
//
// Read your writes, across processes: before a read, the Standby takes
// the primary's WAL position (pg_current_wal_flush_lsn(): with
// synchronous_commit on, every commit any process has acknowledged is
// flushed at or before it; with synchronous_commit off,
// pg_current_wal_insert_lsn()), read after the call began (walPosition:
// calls arriving together share one such read). The read then runs on
// one standby connection whose first statement checks that the standby
// has replayed that far (pg_last_wal_replay_lsn()), waiting up to MaxWait
// for it; the read's own statements, later on the same connection (the
// same server, even when the URL names several standbys), each take their
// snapshot after the check and so see every commit replayed by then. The
// check is left out when the connection's server (asked once per new
// connection: its address, port, start time and cluster) was already seen
// replayed past the position: a server's replay only moves forward. A
// standby still behind after MaxWait does not answer: the primary does.
// Nothing has to travel with the caller (no LSN in a token or a cookie),
// so a read that lands on another replica behind a balancer sees the
// write too; the price is one small statement on the primary per batch
// of reads and, unless the check is left out, one more statement on the
// standby per read. Statements on
// the standby are sent unprepared, each in one exchange (as with
// Options.NoPrepare): a pinned connection cannot use the pool's prepared
// statements, and unprepared statements in two exchanges would cost one
// more round trip each.
//
// A read the standby cancels for a conflict with recovery (40001, or
// 40P01 for a buffer-pin deadlock; or a session it ended for one) is run
// again, conflictAttempts times in all, then on the primary. A standby
// that fails otherwise (down, restarting) sends the read to the primary
// at once.

// DefaultStandbyWait is how long a read waits for the standby to replay
// the primary's position before reading from the primary.
const DefaultStandbyWait = 100 * time.Millisecond

// conflictAttempts bounds the runs of a read the standby cancels for a
// conflict with recovery before it goes to the primary.
const conflictAttempts = 3

// Standby reads from a PostgreSQL standby for a primary Store.
type Standby struct {
	replica *Store
	primary *Store
	wal     *walPosition
	// MaxWait bounds the wait for the standby to replay the primary's
	// position (DefaultStandbyWait).
	MaxWait time.Duration
	// inRead, when set (tests), is called after each standby read, on
	// its connection: the statement it returns, if any, runs there next
	// (its error is the read's).
	inRead func(ctx context.Context, attempt int) string
	stats  standbyCounts

	mu sync.Mutex
	// seen is how far each server of the pool (boundedConn.server: one
	// server process) was last seen to have replayed. A server's replay
	// only moves forward, so a read on a connection to a server already
	// seen past the primary's position needs no check of its own.
	seen map[string]uint64
}

func (s *Standby) replayedOn(server string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[server]
}

func (s *Standby) noteReplayed(server string, at uint64) {
	if server == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if at > s.seen[server] {
		s.seen[server] = at
	}
}

type standbyCounts struct{ standby, behind, conflicts, failed atomic.Int64 }

// StandbyStats counts what became of the Standby's reads.
type StandbyStats struct {
	// Standby reads the standby answered.
	Standby int64
	// Behind reads sent to the primary because the standby had not
	// replayed the primary's position within MaxWait.
	Behind int64
	// Conflicts runs the standby cancelled for a conflict with recovery
	// (or whose connection it ended); a read that met one
	// conflictAttempts times went to the primary.
	Conflicts int64
	// Failed reads sent to the primary because the standby failed
	// otherwise, or whose primary position could not be read.
	Failed int64
}

// Stats reports what became of the reads so far.
func (s *Standby) Stats() StandbyStats {
	return StandbyStats{Standby: s.stats.standby.Load(), Behind: s.stats.behind.Load(), Conflicts: s.stats.conflicts.Load(), Failed: s.stats.failed.Load()}
}

var _ usersvc.Reads = (*Standby)(nil)

// OpenStandby connects to the standby url names (any spelling
// USERSVC_DATABASE_URL takes; target_session_attrs=standby or
// prefer-standby picks a standby among several hosts, lib/pq checking
// pg_is_in_recovery() on connect) for primary, a PostgreSQL Store. It
// does not migrate, listen or meter: the standby has the primary's schema
// by replication. It refuses a server that is not a copy of primary's
// (another pg_control_system().system_identifier).
func OpenStandby(ctx context.Context, url string, primary *Store, opts Options) (*Standby, error) {
	if primary.dialect != dialect.Postgres || !IsPostgresURL(url) {
		return nil, errors.New("read URL: reads from a standby need PostgreSQL for both the database and the read URL")
	}
	opts.ListenURL, opts.NoPrepare, opts.identifyServers = "", true, true
	replica, err := Open(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("read URL: %w", err)
	}
	var want, got, syncCommit string
	q := "SELECT system_identifier::text FROM pg_control_system()"
	if err = primary.db.QueryRowContext(ctx, q).Scan(&want); err == nil {
		if err = replica.db.QueryRowContext(ctx, q).Scan(&got); err == nil {
			err = primary.db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&syncCommit)
		}
	}
	if err == nil && want != got {
		err = fmt.Errorf("the read URL's server is not a standby of the database's (system identifier %s, the database's %s)", got, want)
	}
	if err != nil {
		replica.Close()
		return nil, fmt.Errorf("read URL: %w", err)
	}
	position := "SELECT pg_current_wal_flush_lsn()::text"
	if syncCommit == "off" {
		position = "SELECT pg_current_wal_insert_lsn()::text"
	}
	return &Standby{replica: replica, primary: primary, wal: &walPosition{db: primary.db, query: position}, MaxWait: DefaultStandbyWait, seen: map[string]uint64{}}, nil
}

// Close closes the standby's connections (not the primary's).
func (s *Standby) Close() error { return s.replica.Close() }

// DB returns the standby's connection pool (for operations and tests).
func (s *Standby) DB() *sql.DB { return s.replica.db }

// errBehind says the standby had not replayed far enough within MaxWait.
var errBehind = errors.New("the standby is behind the primary")

// read runs fn on the standby, as of a moment after the call began, or
// else on the primary (the package comment above says when).
func (s *Standby) read(ctx context.Context, fn func(st *Store) error) error {
	at, err := s.wal.at(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return usersvc.Internal(classify(ctx.Err()))
		}
		s.stats.failed.Add(1)
		return fn(s.primary)
	}
	for attempt := 1; ; attempt++ {
		var begun bool // the standby was reached
		begun, err = s.onStandby(ctx, at, attempt, fn)
		switch {
		case err == nil:
			s.stats.standby.Add(1)
			return nil
		case ctx.Err() != nil:
			return usersvc.Internal(classify(err))
		case errors.Is(err, errBehind):
			s.stats.behind.Add(1)
			return fn(s.primary)
		case begun && recoveryConflict(err):
			s.stats.conflicts.Add(1)
			if attempt < conflictAttempts {
				continue
			}
			return fn(s.primary)
		case answered(err):
			return err
		}
		s.stats.failed.Add(1)
		return fn(s.primary)
	}
}

// onStandby is one run of a read on the standby: on one connection, the
// check that it has replayed up to at (waiting for it), then fn. No
// transaction is needed (two round trips instead of four): each
// statement's snapshot is taken when it starts, so fn's, after the
// check, holds every commit replayed by then; and the connection is the
// same server for both. begun says the standby answered the first
// statement (a standby that is down fails before).
func (s *Standby) onStandby(ctx context.Context, at uint64, attempt int, fn func(st *Store) error) (begun bool, err error) {
	conn, err := s.replica.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	st := s.replica.pin(conn)
	server := ""
	_ = conn.Raw(func(dc any) error {
		if bc, ok := dc.(*boundedConn); ok {
			server = bc.server
		}
		return nil
	})
	if server == "" || s.replayedOn(server) < at {
		replayed, err := st.caughtUp(ctx, at, s.MaxWait)
		s.noteReplayed(server, replayed)
		if err != nil {
			var pqErr *pq.Error
			return errors.Is(err, errBehind) || errors.As(err, &pqErr), err
		}
	}
	if err := fn(st); err != nil {
		return true, err
	}
	if s.inRead != nil {
		if q := s.inRead(ctx, attempt); q != "" {
			if _, err := st.c().ExecContext(ctx, q); err != nil {
				return true, usersvc.Internal(classify(err))
			}
		}
	}
	return true, nil
}

// answered reports whether err is the read's answer (such as not found),
// which the primary would give too, rather than the standby failing.
func answered(err error) bool {
	switch usersvc.ErrorCode(err) {
	case usersvc.EInternal, usersvc.EUnavailable, usersvc.ETimeout, usersvc.ECanceled:
		return false
	}
	return true
}

// recoveryConflict reports whether err, met by a read whose transaction
// had begun, is a standby cancelling a statement for a conflict with the
// WAL it replays (serialization_failure, or deadlock_detected for a
// buffer-pin deadlock), or a connection the server ended: a standby ends
// a session idle in a transaction that conflicts, with a FATAL 40001 that
// lib/pq reports at the next statement or commit as a bad connection, or
// that arrives as a reset connection. A standby that is down fails the
// next run's BEGIN instead, and the read goes to the primary.
func recoveryConflict(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "40001" || pqErr.Code == "40P01" || pqErr.Code.Class() == "08"
	}
	return unavailable(err)
}

// The usersvc.Reads methods, each one read as read says.

func (s *Standby) User(ctx context.Context, id string, _ bool) (u *usersvc.User, err error) {
	err = s.read(ctx, func(st *Store) (err error) { u, err = st.User(ctx, id, false); return err })
	return u, err
}

func (s *Standby) ListUsers(ctx context.Context, q usersvc.ListQuery) (users []*usersvc.User, total int, err error) {
	err = s.read(ctx, func(st *Store) (err error) { users, total, err = st.ListUsers(ctx, q); return err })
	return users, total, err
}

func (s *Standby) Histories(ctx context.Context, ids []string, before int64, limit int) (h map[string][]*usersvc.AuditEntry, err error) {
	err = s.read(ctx, func(st *Store) (err error) { h, err = st.Histories(ctx, ids, before, limit); return err })
	return h, err
}

func (s *Standby) CountHistories(ctx context.Context, ids []string) (n map[string]int, err error) {
	err = s.read(ctx, func(st *Store) (err error) { n, err = st.CountHistories(ctx, ids); return err })
	return n, err
}

func (s *Standby) UsersAfter(ctx context.Context, after string, limit int) (users []*usersvc.User, err error) {
	err = s.read(ctx, func(st *Store) (err error) { users, err = st.UsersAfter(ctx, after, limit); return err })
	return users, err
}
