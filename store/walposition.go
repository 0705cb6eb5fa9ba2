package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// walPosition reads the primary's WAL position for standby reads, one
// read shared by the calls that arrive together: a call joins the next
// read that starts after it arrived (never one already under way, which
// might miss a commit acknowledged just before the call), so under load
// the primary answers about one such statement per round trip, however
// many reads wait on it.
type walPosition struct {
	db    *sql.DB
	query string

	mu      sync.Mutex
	running *walRead // the read under way, if any
	next    *walRead // the read that starts when it ends, if any
}

type walRead struct {
	done chan struct{}
	lsn  uint64
	err  error
}

// walReadTimeout bounds one read of the position.
const walReadTimeout = 2 * time.Second

// at returns the primary's position as read after the call: every commit
// acknowledged before at was called is at or before it.
func (w *walPosition) at(ctx context.Context) (uint64, error) {
	w.mu.Lock()
	r := w.next
	if r == nil {
		r = &walRead{done: make(chan struct{})}
		if w.running == nil {
			w.running = r
			go w.read(r)
		} else {
			w.next = r
		}
	}
	w.mu.Unlock()
	select {
	case <-r.done:
		return r.lsn, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// read runs r, then the reads queued behind it, one after the other.
func (w *walPosition) read(r *walRead) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), walReadTimeout)
		var lsn string
		if r.err = w.db.QueryRowContext(ctx, w.query).Scan(&lsn); r.err == nil {
			r.lsn, r.err = parseLSN(lsn)
		}
		cancel()
		close(r.done)
		w.mu.Lock()
		r, w.next = w.next, nil
		w.running = r
		w.mu.Unlock()
	}
}
