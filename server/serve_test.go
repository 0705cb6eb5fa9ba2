package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"usersvc/server"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
}

// TestServingStops: when ctx ends, Serve calls stopped once, sets
// Draining, shuts both servers down (their addresses refuse connections)
// and returns nil.
func TestServingStops(t *testing.T) {
	pubLn, intLn := listen(t), listen(t)
	var draining atomic.Bool
	var stopped atomic.Int32
	pub := server.NewHTTPServer("", okHandler(), server.DefaultTimeouts())
	internal := server.NewHTTPServer("", okHandler(), server.DefaultTimeouts())
	s := &server.Serving{Public: pub, PublicLn: pubLn, Internal: internal, InternalLn: intLn, Draining: &draining,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, func() { stopped.Add(1) }) }()
	for _, ln := range []net.Listener{pubLn, intLn} {
		r, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	if draining.Load() || stopped.Load() != 0 {
		t.Fatal("draining or stopped before ctx ended")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !draining.Load() || stopped.Load() != 1 {
		t.Fatalf("after Serve: draining %v, stopped %d times; want true, 1", draining.Load(), stopped.Load())
	}
	for _, ln := range []net.Listener{pubLn, intLn} {
		if r, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
			r.Body.Close()
			t.Fatalf("%s still answers after Serve returned", ln.Addr())
		}
	}
}

// TestServingFails: a server that cannot serve (its listener is closed)
// ends Serve with its error and closes the other; no drain.
func TestServingFails(t *testing.T) {
	pubLn, intLn := listen(t), listen(t)
	intLn.Close()
	var draining atomic.Bool
	s := &server.Serving{Public: server.NewHTTPServer("", okHandler(), server.DefaultTimeouts()), PublicLn: pubLn,
		Internal: server.NewHTTPServer("", okHandler(), server.DefaultTimeouts()), InternalLn: intLn, Draining: &draining}
	stopped := false
	err := s.Serve(context.Background(), func() { stopped = true })
	if err == nil || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve: %v, want the closed listener's error", err)
	}
	if stopped || draining.Load() {
		t.Fatalf("stopped %v, draining %v after a failure; want neither", stopped, draining.Load())
	}
	if r, err := http.Get("http://" + pubLn.Addr().String() + "/"); err == nil {
		r.Body.Close()
		t.Fatal("the public server still answers after the internal one failed")
	}
}
