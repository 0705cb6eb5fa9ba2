// Package hashgate bounds the slow password hashes (bcrypt, argon2,
// scrypt, PBKDF2, the crypt(3) family) running at once in a process, so
// that sign-ins cannot take every core (or, with memory-hard hashes, the
// memory) from the rest of the service.
//
// A Gate holds a number of slots, by default one per core the Go
// scheduler uses (GOMAXPROCS). Do waits for a slot until its context is
// done, then runs the hash in a goroutine of its own, which keeps the slot
// until the hash really ends; the caller returns at its context's end
// either way, so a request's deadline stops the wait but never lets a
// second hash start on a slot that is still busy.
package hashgate

import (
	"context"
	"errors"
	"runtime"

	"golang.org/x/sync/semaphore"
)

// ErrBusy is what Do returns when no slot came free before the context
// was done: no hash ran.
var ErrBusy = errors.New("hashgate: every password-check slot stayed busy until the deadline")

// Gate bounds the hashes running at once. The zero Gate is not usable:
// use New.
type Gate struct {
	sem  *semaphore.Weighted
	size int
}

// New returns a gate with n slots; n <= 0 means GOMAXPROCS.
func New(n int) *Gate {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Gate{sem: semaphore.NewWeighted(int64(n)), size: n}
}

// Size is the number of slots.
func (g *Gate) Size() int { return g.size }

// Do runs fn holding weight slots (a hash that keeps several cores busy,
// such as argon2 with lanes, weighs as many; at most Size) and returns its
// result. It returns ErrBusy (wrapping the context's error) when no slot
// came free before ctx was done, and ctx's error when ctx ends while fn
// runs: fn then finishes in the background, still holding its slots, and
// its result is dropped.
func Do[T any](ctx context.Context, g *Gate, weight int, fn func() T) (T, error) {
	var zero T
	if weight < 1 {
		weight = 1
	}
	if weight > g.size {
		weight = g.size
	}
	if err := ctx.Err(); err != nil {
		return zero, errors.Join(ErrBusy, err)
	}
	if err := g.sem.Acquire(ctx, int64(weight)); err != nil {
		return zero, errors.Join(ErrBusy, err)
	}
	done := make(chan T, 1)
	go func() {
		defer g.sem.Release(int64(weight))
		done <- fn()
	}()
	select {
	case v := <-done:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
