package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestIdleContext: touched, an idle context lives on past its idle bound;
// left alone, it ends with DeadlineExceeded (so storage answers a timeout),
// and so do contexts made from it; its parent's end ends it too.
func TestIdleContext(t *testing.T) {
	const idle = time.Second
	c := newIdleContext(context.Background(), idle)
	for range 30 { // 1.5 s in all, touched every 50 ms
		time.Sleep(50 * time.Millisecond)
		if c.Err() != nil {
			t.Fatalf("a touched context ended: %v", c.Err())
		}
		c.touch()
	}
	child, cancel := context.WithCancel(c)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("an idle context did not end")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("errors: %v, child %v", c.Err(), child.Err())
	}

	parent, stop := context.WithCancel(context.Background())
	c = newIdleContext(parent, time.Hour)
	stop()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the parent's end did not end it")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("after the parent's cancel: %v", c.Err())
	}
	c.end(context.Canceled) // ending twice is harmless
}

// TestIdleContextOfEndedParent: a client that closes its socket at once
// cancels the request's context before the transfer starts; the idle
// context's parent callback then runs before newIdleContext returns. It
// used to call the not yet assigned stop (a nil func, in a goroutine of
// its own: the process died). Ended at once, it ends with the parent's
// error, every time.
func TestIdleContextOfEndedParent(t *testing.T) {
	for range 2000 {
		parent, cancel := context.WithCancel(context.Background())
		cancel()
		c := newIdleContext(parent, time.Nanosecond)
		<-c.Done()
		if err := c.Err(); err != context.Canceled && err != context.DeadlineExceeded {
			t.Fatalf("Err() = %v, want the parent's context.Canceled (or the idle bound's DeadlineExceeded)", err)
		}
	}
}
