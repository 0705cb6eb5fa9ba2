package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ShutdownTimeout bounds a graceful stop's wait for requests in flight.
const ShutdownTimeout = 30 * time.Second

// Serving is a process's HTTP side: the public server and, optionally, an
// internal one (metrics), each on a listener bound already.
type Serving struct {
	Public   *http.Server
	PublicLn net.Listener
	// Internal and InternalLn are both nil when there is no internal address.
	Internal   *http.Server
	InternalLn net.Listener
	// Draining is the flag the public handler's /readyz reads
	// (Config.Draining); Serve sets it when ctx ends.
	Draining *atomic.Bool
	// DrainDelay is how long, once ctx ends, /readyz says 503 while every
	// request is still served, before the public listener closes.
	DrainDelay time.Duration
	Logger     *slog.Logger
}

// Serve serves until ctx ends or a server fails. A server that fails (or
// cannot start) closes the other and its error is returned. When ctx
// ends, Serve calls stopped (nil: none), drains (Draining set, DrainDelay
// while everything is still served: the load balancer notices), then the
// public server stops accepting and finishes what is in flight (at most
// ShutdownTimeout), then the internal one, last so the shutdown itself can
// be watched. It returns the public server's shutdown error.
func (s *Serving) Serve(ctx context.Context, stopped func()) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	errc := make(chan error, 2)
	go func() { errc <- s.Public.Serve(s.PublicLn) }()
	if s.Internal != nil {
		go func() { errc <- s.Internal.Serve(s.InternalLn) }()
	}
	select {
	case err := <-errc: // a listener could not start or failed: stop the other
		_ = s.Public.Close()
		if s.Internal != nil {
			_ = s.Internal.Close()
		}
		return err
	case <-ctx.Done():
	}
	if stopped != nil {
		stopped()
	}
	if s.Draining != nil {
		s.Draining.Store(true)
	}
	if s.DrainDelay > 0 {
		logger.Info("draining", "for", s.DrainDelay.String())
		time.Sleep(s.DrainDelay)
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.Public.Shutdown(shutCtx)
	if s.Internal != nil {
		_ = s.Internal.Shutdown(shutCtx)
	}
	return err
}
