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
	// Logger hears of failed flushes and of a change listener that stopped
	// (default slog.Default()).
	Logger *slog.Logger
}

// Defaults of RunOptions.
const (
	DefaultFlushInterval = time.Second
	DefaultCacheTTL      = 30 * time.Second
)

// Run does the service's background work until ctx ends: the meter's
// periodic flush (Meter.Run) and the change watcher (WatchChanges). It
// returns once every goroutine it started has returned and the meter's
// last flush is done, so counts made before ctx ended are in the store
// (unless that flush failed, which is logged). End ctx after the last
// request has been served: a request after Run returns is counted but not
// written.
//
// A change listener that fails is logged and not restarted: the token
// cache then keeps its 1 s life, which is right without notices. Failed
// flushes are logged; their counts stay pending for the next flush.
func (s *Service) Run(ctx context.Context, opts RunOptions) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.WatchChanges(ctx, opts.CacheTTL); err != nil {
			logger.Error("watching user changes; token cache kept at 1 s", "err", err)
		}
	}()
	s.Meter.Run(ctx, opts.FlushInterval, func(err error) { logger.Error("writing usage counts", "err", err) })
	wg.Wait()
}
