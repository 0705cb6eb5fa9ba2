package store

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"
)

// PollSQL and StartSQL are the change log's reads.
const PollSQL, StartSQL = pollSQL, startSQL

// ApplyDir applies the migrations of dir (tests bring their own directories).
var ApplyDir = (*Store).applyDir

// SetMaxFailureRows shrinks the sign-in failures table's cap for a test.
func SetMaxFailureRows(n int64) func() {
	old := maxFailureRows
	maxFailureRows = n
	return func() { maxFailureRows = old }
}

// SetListenerTimeouts shortens the change listener's bounds for a test.
func SetListenerTimeouts(idle, ping time.Duration) func() {
	oldIdle, oldPing := listenerIdle, listenerPing
	listenerIdle, listenerPing = idle, ping
	return func() { listenerIdle, listenerPing = oldIdle, oldPing }
}

// Follower is the change log's reader, driven by a test one read at a time.
type Follower struct {
	f  *follower
	db *sql.DB
}

// NewFollower reads st's change log on a connection of its own, passing
// each other process's change to changed. minAge is how long a gap is
// followed at least.
func NewFollower(st *Store, minAge time.Duration, changed func(string)) (*Follower, error) {
	conn, err := newConnector(st.url)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	return &Follower{f: &follower{db: db, changes: st.changes, changed: changed, minAge: minAge}, db: db}, nil
}

// Poll is one read (the first one starts the follower).
func (f *Follower) Poll(ctx context.Context) error { return f.f.poll(ctx) }

// Gaps are the ids the follower still waits for, in order.
func (f *Follower) Gaps() []int64 {
	var ids []int64
	for id := range f.f.gaps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Close closes the follower's connection.
func (f *Follower) Close() error { return f.db.Close() }

// FailureRows counts the sign-in failures table's rows.
func (s *Store) FailureRows(t testing.TB) int {
	n, err := s.c().SigninFailure.Query().Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// HoldWrites takes every place at st's write gate (PostgreSQL), as that
// many running writes would, until release.
func HoldWrites(st *Store) (release func()) {
	n := cap(st.writes)
	for range n {
		st.writes <- struct{}{}
	}
	return func() {
		for range n {
			<-st.writes
		}
	}
}

// SetInStandbyRead calls f after each of s's standby reads (attempt
// counts the runs of one read); the statement f returns, if any, runs
// next on the read's connection, and its error is the read's.
func SetInStandbyRead(s *Standby, f func(ctx context.Context, attempt int) string) { s.inRead = f }
