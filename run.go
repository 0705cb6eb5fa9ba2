package usersvc

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RunOptions configures Service.Run.
type RunOptions struct {
	// FlushInterval is how often the meter writes its counts to the store
	// (default 1 s).
	FlushInterval time.Duration
	// CacheTTL is how long a token check stays cached while the change
	// listener is live (default 30 s): other processes' changes reach the
	// cache as notices, so it may live that long. See WatchChanges.
	CacheTTL time.Duration
	// Logger hears of failed flushes and of a change-log follower that
	// failed (default slog.Default()).
	Logger *slog.Logger
	// WatchBackoff is the first delay before a failed change-log follower
	// starts again (default 1 s); it doubles up to watchBackoffMax.
	WatchBackoff time.Duration
}

// Defaults of RunOptions.
const (
	DefaultFlushInterval = time.Second
	DefaultCacheTTL      = 30 * time.Second
)

// Run does the service's background work until ctx ends: the meter's
// periodic flush (Meter.Run) and the change watcher (WatchChanges). (Import
// jobs are package moving's: its Jobs.Run, which cmd/usersvc runs beside
// this one.) It
// returns once every goroutine it started has returned and the meter's
// last flush is done, so counts made before ctx ended are in the store
// (unless that flush failed, which is logged). End ctx after the last
// request has been served: a request after Run returns is counted but not
// written.
//
// A change-log follower that fails is logged and started again, after a
// delay that doubles up to watchBackoffMax; meanwhile the token cache keeps
// its 1 s life, which is right without the log. Failed flushes are
// logged; their counts stay pending for the next flush.
func (s *Service) Run(ctx context.Context, opts RunOptions) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.WatchBackoff <= 0 {
		opts.WatchBackoff = time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.watchChanges(ctx, opts.CacheTTL, opts.WatchBackoff, logger)
	}()
	s.Meter.Run(ctx, opts.FlushInterval, func(err error) { logger.Error("writing usage counts", "err", err) })
	wg.Wait()
}

// watchBackoffMax bounds the delay before the change-log follower starts
// again after failing.
const watchBackoffMax = 30 * time.Second

// watchChanges runs WatchChanges until ctx ends, starting it again when it
// fails. A store without a change log (SQLite) returns at once, and so
// does this.
func (s *Service) watchChanges(ctx context.Context, ttl, backoff time.Duration, logger *slog.Logger) {
	for {
		err := s.WatchChanges(ctx, ttl)
		if ctx.Err() != nil || err == nil {
			return
		}
		logger.Error("following user changes; token cache kept at 1 s until it starts again", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}
