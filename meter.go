package usersvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Meter counts requests in memory and writes them to the store in batches
// (Flush; Service.Run flushes every second and once more when it stops). A caller's
// counts are what the store held when this process last read or flushed
// them plus what this process has counted since, so every answer includes
// the current request. After a graceful stop the stored counts are exact;
// a crash loses at most one flush interval of counts. With several
// processes each adds its own counts; one process sees another's at its
// next read of the store: every flush refreshes the stored counts of the
// users it remembers, so an answer includes every count another process
// made more than two flush intervals (2 s) earlier.
type Meter struct {
	store UsageStore
	// Flushed, when set, hears of every flush: the users written and the
	// error if any (for metrics).
	Flushed func(users int, err error)
	// Traces, when set, is the tracer provider a flush's trace comes from
	// (cmd/usersvc sets the installed one when tracing is on); unset, the
	// provider of the span in the flush's context, if any.
	Traces trace.TracerProvider

	mu      sync.Mutex
	entries map[string]*meterEntry // by user id
	// flushing serializes flushes: two at once would both write the same
	// pending counts.
	flushing sync.Mutex
	// doubtful are batches whose write failed: each may have committed
	// with its answer lost, so the next flush sends it again as it was,
	// under the same id, and the store applies it at most once. Their
	// counts have moved from their entries' pending to doubt.
	doubtful []meterBatch
}

// meterBatch is the deltas of one AddUsages call, under the id that makes
// it apply once.
type meterBatch struct {
	id     string
	deltas []meterDelta
	retry  bool // a doubtful batch sent again: its counts are in doubt, not pending
}

type meterEntry struct {
	baseTotal int64            // stored all-time count when last read or flushed
	day       string           // the day baseDaily is for
	baseDaily int64            // stored count of day
	pending   map[string]int64 // counted here, not yet sent, by day
	doubt     map[string]int64 // sent in a batch whose write failed (Meter.doubtful), by day
	idle      int              // flushes in a row that found nothing pending
}

// NewMeter returns a meter over s (only its usage counts).
func NewMeter(s UsageStore) *Meter { return &Meter{store: s, entries: map[string]*meterEntry{}} }

func (e *meterEntry) usage(day string) Usage {
	var sum int64
	for _, n := range e.pending {
		sum += n
	}
	for _, n := range e.doubt {
		sum += n
	}
	return Usage{Total: e.baseTotal + sum, Daily: e.baseDaily + e.pending[day] + e.doubt[day]}
}

// Count counts one request for userID on day and returns the counts
// including it.
func (m *Meter) Count(ctx context.Context, userID, day string) (Usage, error) {
	m.mu.Lock()
	e := m.entries[userID]
	if e != nil && e.day == day {
		e.pending[day]++
		u := e.usage(day)
		m.mu.Unlock()
		return u, nil
	}
	m.mu.Unlock()
	// First request here for this user, or their day turned: read the
	// stored counts (outside the lock).
	stored, err := m.store.UsageCounts(ctx, userID, day)
	if err != nil {
		return Usage{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e = m.entries[userID]
	switch {
	case e == nil:
		e = &meterEntry{baseTotal: stored.Total, day: day, baseDaily: stored.Daily, pending: map[string]int64{}, doubt: map[string]int64{}}
		m.entries[userID] = e
	case e.day != day:
		// Only the day's base is new; the total stays as it was counted.
		e.day, e.baseDaily = day, stored.Daily
	}
	e.pending[day]++
	return e.usage(day), nil
}

// maxFlushBatch is how many pending counts one statement of a flush
// writes (a user's all-time row and day row each).
const maxFlushBatch = 1000

type meterDelta struct {
	user, day string
	n         int64
}

// newFlushID is a random id for a batch of a flush (128 bits).
func newFlushID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Flush writes every pending count to the store, in batches that each
// carry an id of their own. A batch whose write fails may still have
// committed (the answer lost with the connection): the next flush sends it
// again, first, with the same deltas and id, and the store adds it at most
// once (UsageStore.AddUsages); new counts go in new batches. Each write reads back the stored
// counts, other processes' included, so an active user's base stays fresh
// without extra reads; a user with nothing pending at two flushes in a row
// is forgotten, and their next request reads the store again.
//
// A flush that reads or writes the store is a trace of its own,
// usersvc.usage.flush (it belongs to no request), with its statements
// under it; one that finds nothing to do (an idle server's, every
// second) makes none.
func (m *Meter) Flush(ctx context.Context) (err error) {
	sp := lazySpan{name: "usersvc.usage.flush", start: time.Now(), tp: m.Traces, newRoot: true}
	defer func() { sp.end(err) }()
	m.flushing.Lock()
	defer m.flushing.Unlock()
	m.mu.Lock()
	var deltas []meterDelta
	for user, e := range m.entries {
		for day, n := range e.pending {
			if n > 0 {
				deltas = append(deltas, meterDelta{user, day, n})
			}
		}
	}
	batches := m.doubtful
	m.doubtful = nil
	m.mu.Unlock()
	for chunk := range slices.Chunk(deltas, maxFlushBatch) {
		batches = append(batches, meterBatch{id: newFlushID(), deltas: chunk})
	}
	var firstErr error
	flushed := map[string]bool{}
	for _, b := range batches {
		for _, d := range b.deltas {
			flushed[d.user] = true // written, or tried: either way not re-read below
		}
	}
	for _, b := range batches {
		in := make([]UsageDelta, len(b.deltas))
		for i, d := range b.deltas {
			in[i] = UsageDelta{UserID: d.user, Day: d.day, N: d.n}
		}
		stored, err := m.store.AddUsages(sp.begin(ctx), b.id, in)
		if err == nil && len(stored) != len(in) {
			err = fmt.Errorf("usage store answered %d counts for %d deltas", len(stored), len(in))
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			// In doubt: sent again, as it is, by the next flush.
			m.mu.Lock()
			if !b.retry {
				b.retry = true
				for _, d := range b.deltas {
					if e := m.entries[d.user]; e != nil {
						e.pending[d.day] -= d.n
						e.doubt[d.day] += d.n
					}
				}
			}
			m.doubtful = append(m.doubtful, b)
			m.mu.Unlock()
			continue
		}
		m.mu.Lock()
		for i, d := range b.deltas {
			if e := m.entries[d.user]; e != nil {
				if b.retry {
					e.doubt[d.day] -= d.n
				} else {
					e.pending[d.day] -= d.n
				}
				e.baseTotal = stored[i].Total
				if e.day == d.day {
					e.baseDaily = stored[i].Daily
				}
			}
		}
		m.mu.Unlock()
	}
	if m.Flushed != nil {
		m.Flushed(len(flushed), firstErr)
	}
	// Users remembered but not written: read their stored counts again,
	// which other processes may have moved.
	var refresh []UsageKey
	m.mu.Lock()
	for user, e := range m.entries {
		if !flushed[user] {
			refresh = append(refresh, UsageKey{UserID: user, Day: e.day})
		}
	}
	m.mu.Unlock()
	for batch := range slices.Chunk(refresh, maxFlushBatch) {
		stored, err := m.store.UsageCountsOf(sp.begin(ctx), batch)
		if err == nil && len(stored) != len(batch) {
			err = fmt.Errorf("usage store answered %d counts for %d users", len(stored), len(batch))
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		m.mu.Lock()
		for i, r := range batch {
			if e := m.entries[r.UserID]; e != nil && e.day == r.Day { // stored never includes what is pending here
				e.baseTotal, e.baseDaily = stored[i].Total, stored[i].Daily
			}
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	for user, e := range m.entries {
		busy := false
		for _, counts := range []map[string]int64{e.pending, e.doubt} {
			for day, n := range counts {
				if n == 0 {
					delete(counts, day)
				} else {
					busy = true
				}
			}
		}
		switch {
		case busy || flushed[user]:
			e.idle = 0
		case e.idle >= 1:
			delete(m.entries, user)
		default:
			e.idle++
		}
	}
	m.mu.Unlock()
	return firstErr
}

// FlushTimeout bounds one flush, so a database that stops answering holds
// neither the flush loop nor a graceful stop for long; what it could not
// write stays pending for the next flush.
const FlushTimeout = 10 * time.Second

// Run flushes every interval until ctx ends, then once more. Each flush
// runs under a fresh context of its own (FlushTimeout), never under ctx: a
// flush under way when ctx ends finishes its writes instead of failing
// them, and the last flush is not born cancelled.
func (m *Meter) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	flush := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FlushTimeout)
		defer cancel()
		if err := m.Flush(fctx); err != nil && onErr != nil {
			onErr(err)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flush()
			return
		case <-t.C:
			flush()
		}
	}
}
