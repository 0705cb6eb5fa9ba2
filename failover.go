package usersvc

import (
	"context"
	"errors"
	"time"
)

// Riding through a failover. When the primary goes away (a switchover, a
// crash, a restart), a write that failed before the database applied
// anything of it (storage says so: Error.NotApplied) runs again, from its
// fetch, after a short pause, until a primary takes it or FailoverWait
// has passed since its first such failure; then, or at once when the
// failure's outcome is unknown (the answer to a commit was lost), it is
// answered unavailable (503, Retry-After). A write is never run again
// after a failure that may have committed: the client decides, and its
// safe rule is to send the write again with If-Match (the version it read
// before), which a write that did commit answers 412 (docs/deploy.md,
// "High availability").

// DefaultFailoverWait is Service.FailoverWait's default: a planned
// switchover of pg_auto_failover or Patroni makes a new primary within a
// few seconds of the old one's shutdown.
const DefaultFailoverWait = 5 * time.Second

// Pauses between a write's runs while it waits for a primary: doubling
// from the first to the last.
const (
	firstPrimaryPause = 50 * time.Millisecond
	lastPrimaryPause  = 250 * time.Millisecond
	// primaryTryMargin is the time a run needs before the request's
	// deadline for a wait to be worth it.
	primaryTryMargin = time.Second
)

// primaryWait is one write's wait for a new primary.
type primaryWait struct {
	start time.Time
	pause time.Duration
}

// again reports whether a write that failed with err runs again: err
// applied nothing, the write has waited less than s.FailoverWait, and its
// deadline leaves time for another run. It pauses before reporting true.
func (s *Service) again(ctx context.Context, w *primaryWait, err error) bool {
	if !notApplied(err) || s.FailoverWait <= 0 {
		return false
	}
	now := time.Now()
	if w.start.IsZero() {
		w.start, w.pause = now, firstPrimaryPause
	}
	if now.Add(w.pause).Sub(w.start) > s.FailoverWait {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < w.pause+primaryTryMargin {
		return false
	}
	t := time.NewTimer(w.pause)
	defer t.Stop()
	w.pause = min(2*w.pause, lastPrimaryPause)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// readFailed marks the failure of a read as applying nothing: a write
// that failed in its fetch wrote nothing yet.
func readFailed(err error) error {
	if e := (*Error)(nil); errors.As(err, &e) && e.Code == EUnavailable && !e.NotApplied {
		return UnavailableNotApplied(e.Err)
	}
	return err
}
