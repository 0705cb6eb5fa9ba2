package hashgate_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"usersvc/internal/hashgate"
)

// TestDefaultSize: one slot per core the scheduler uses.
func TestDefaultSize(t *testing.T) {
	if got, want := hashgate.New(0).Size(), runtime.GOMAXPROCS(0); got != want {
		t.Fatalf("Size() = %d, want GOMAXPROCS %d", got, want)
	}
	if got := hashgate.New(3).Size(); got != 3 {
		t.Fatalf("Size() = %d, want 3", got)
	}
}

// TestBoundHeld: with every slot busy, another Do waits; when its context
// ends first it returns ErrBusy and its function never runs.
func TestBoundHeld(t *testing.T) {
	g := hashgate.New(2)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = hashgate.Do(context.Background(), g, 1, func() bool { started <- struct{}{}; <-release; return true })
		}()
	}
	<-started
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	errc := make(chan error, 1)
	go func() {
		_, err := hashgate.Do(ctx, g, 1, func() bool { ran = true; return true })
		errc <- err
	}()
	cancel()
	err := <-errc
	if !errors.Is(err, hashgate.ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrBusy wrapping context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if ran {
		t.Fatal("a function ran without a slot")
	}
}

// TestDeadlineKeepsSlot: a caller whose context ends while its hash runs
// returns at once with the context's error, but the slot stays taken until
// the hash ends: no other hash starts meanwhile.
func TestDeadlineKeepsSlot(t *testing.T) {
	g := hashgate.New(1)
	ctx, cancel := context.WithCancel(context.Background())
	running, finish, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := hashgate.Do(ctx, g, 1, func() int { close(running); <-finish; close(finished); return 1 })
		errc <- err
	}()
	<-running
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || errors.Is(err, hashgate.ErrBusy) {
		t.Fatalf("err = %v, want context.Canceled (the hash had started)", err)
	}
	// The first hash still runs: a second caller must wait for it.
	second := make(chan int, 1)
	go func() {
		v, _ := hashgate.Do(context.Background(), g, 1, func() int {
			select {
			case <-finished:
				return 2
			default:
				return -1 // ran while the first still held the slot
			}
		})
		second <- v
	}()
	close(finish)
	if v := <-second; v != 2 {
		t.Fatalf("second hash ran while the first held the only slot")
	}
}

// TestWeight: a heavy hash takes several slots (at most all of them).
func TestWeight(t *testing.T) {
	g := hashgate.New(2)
	release, started := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = hashgate.Do(context.Background(), g, 8, func() bool { close(started); <-release; return true })
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := hashgate.Do(ctx, g, 1, func() bool { return true }); !errors.Is(err, hashgate.ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy: the heavy hash holds both slots", err)
	}
	close(release)
	if v, err := hashgate.Do(context.Background(), g, 1, func() bool { return true }); err != nil || !v {
		t.Fatalf("after release: %v, %v", v, err)
	}
}
