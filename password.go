package usersvc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"usersvc/internal/hashgate"
	"usersvc/passhash"
)

// Password hashing. Every slow hash (bcrypt's compare and generate, an
// imported hash's check) runs through slowHash, under the process's bound
// on password checks (Service.Hashes, see package hashgate): a check that
// cannot get a slot before the request's deadline answers 503 with
// Retry-After and costs no hash, and a check still running at the
// deadline is left to finish in the background (holding its slot) while
// the request answers at once.

// errHashBusy answers a request whose password check found no free slot
// before its deadline.
func errHashBusy(err error) error {
	return &Error{Code: EUnavailable, Message: "Too many password checks are running; try again shortly.", RetryAfter: RetryAfterUnavailable, Err: err}
}

// defaultGate is the bound of a Service built without NewService.
var defaultGate = sync.OnceValue(func() *hashgate.Gate { return hashgate.New(0) })

// slowHash runs fn, one password hash's work weighing weight cores, under
// the bound of checks at once. It answers errHashBusy when no slot came
// free before ctx's end, and ctx's error (503 or cancelled) when ctx ended
// while fn ran.
func slowHash[T any](ctx context.Context, s *Service, weight int, fn func() T) (T, error) {
	g := s.Hashes
	if g == nil {
		g = defaultGate()
	}
	v, err := hashgate.Do(ctx, g, weight, fn)
	switch {
	case errors.Is(err, hashgate.ErrBusy):
		return v, errHashBusy(err)
	case err != nil:
		return v, Internal(fmt.Errorf("%w: %w", errHashSpent, err))
	}
	return v, nil
}

// errHashSpent marks a check that ran out of time (or was cancelled) with
// its hash already running: unlike a check that found no slot, it spent a
// hash, and a sign-in throttle keeps counting it as a failure, or else
// cancelling every request right after it starts would buy unthrottled
// hashing.
var errHashSpent = errors.New("the password check was running when the request ended")

// Bcrypt work, through one place so that tests can count it (hashHook).
func (s *Service) bcryptCompare(hash []byte, password string) bool {
	if s.hashHook != nil {
		cost, _ := bcrypt.Cost(hash)
		s.hashHook("compare", cost)
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

func (s *Service) bcryptGenerate(password string) (string, error) {
	if s.hashHook != nil {
		s.hashHook("generate", s.BcryptCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	return string(h), err
}

// newHash is the service's own hash of a password (bcrypt at the
// configured cost), made under the bound.
func (s *Service) newHash(ctx context.Context, password string) (string, error) {
	_, sp := span(ctx, "usersvc.password.hash")
	defer sp.End()
	type result struct {
		hash string
		err  error
	}
	r, err := slowHash(ctx, s, 1, func() result {
		h, err := s.bcryptGenerate(password)
		return result{h, err}
	})
	if err != nil {
		return "", err
	}
	if r.err != nil {
		return "", Internal(r.err)
	}
	return r.hash, nil
}

// hashPassword stores a bcrypt hash of an already validated password in u.
func (s *Service) hashPassword(ctx context.Context, u *User, password string) error {
	h, err := s.newHash(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash = h
	return nil
}

// verifyPassword reports whether password is the one stored: a bcrypt
// hash, or a hash imported from another system (passhash; see
// docs/import.md). rehash is the hash to store instead after a successful
// check: the service's own (bcrypt at the configured cost) when the stored
// one is imported or of another cost, else "".
//
// Every check lasts at least as long as a native account's (one bcrypt
// comparison at the configured cost), in its slot: a native hash is that
// comparison; every other case (no account at all, stored ""; an
// imported hash; a bcrypt hash of a lower cost; a hash that no longer
// parses, such as one above today's caps) runs its own check, if any,
// then waits out the rest of a native check's time (floor). So a wrong
// password takes as long for an unknown email, or an imported hash
// cheaper than the native one, as for a native account. An imported hash
// costlier than the native check answers later by its extra cost, which
// the caps bound (about a second) and which its first successful sign-in
// removes: that an account was imported with a costly hash and has not
// signed in since can be told by timing (docs/import.md).
func (s *Service) verifyPassword(ctx context.Context, stored, password string) (ok bool, rehash string, err error) {
	_, sp := span(ctx, "usersvc.password.verify")
	defer func() { EndSpan(sp, err) }()
	h, perr := passhash.ParseStored(stored) // the caps hold for stored hashes too: above them, nothing matches
	parsed := stored != "" && perr == nil
	weight := 1
	if parsed {
		weight = h.Weight()
	}
	type result struct {
		ok     bool
		rehash string
		err    error
	}
	r, err := slowHash(ctx, s, weight, func() result {
		cost := 0
		if parsed && h.Kind() == "bcrypt" {
			cost, _ = bcrypt.Cost([]byte(stored))
		}
		if cost == s.BcryptCost { // a native account
			start := time.Now()
			ok := s.bcryptCompare([]byte("$2a$"+stored[4:]), password)
			s.native.record(time.Since(start))
			return result{ok: ok}
		}
		// Any other account answers a wrong password no sooner than a
		// native one: its own check, then the rest of a native check's
		// time waited out in this slot (or, before this process has timed
		// one, a native check of the dummy hash).
		start := time.Now()
		defer func() { s.floor(password, time.Since(start)) }()
		switch {
		case !parsed:
			return result{}
		case cost > 0:
			if !s.bcryptCompare([]byte("$2a$"+stored[4:]), password) {
				return result{}
			}
		default:
			if s.hashHook != nil {
				s.hashHook("verify "+h.Kind(), 0)
			}
			if !h.Verify(password) {
				return result{}
			}
		}
		nh, err := s.bcryptGenerate(password) // in the same slot: a right password is not refused for a busy one
		if errors.Is(err, bcrypt.ErrPasswordTooLong) {
			return result{ok: true} // over bcrypt's 72 bytes: the imported hash stays
		}
		return result{ok: true, rehash: nh, err: err}
	})
	switch {
	case err != nil:
		return false, "", err
	case r.err != nil:
		return false, "", Internal(r.err)
	}
	return r.ok, r.rehash, nil
}

// floor makes a check that took spent (not a native account's) last as
// long as a native account's check: it waits out the difference, or,
// while the process has not yet timed a native check, compares password
// with the dummy hash (which times one).
func (s *Service) floor(password string, spent time.Duration) {
	native, ok := s.native.estimate()
	if !ok {
		start := time.Now()
		_ = s.bcryptCompare(s.dummy(), password)
		s.native.record(time.Since(start))
		return
	}
	if wait := native - spent; wait > 0 {
		if s.pad != nil {
			s.pad(wait)
			return
		}
		time.Sleep(wait)
	}
}

// nativeCheck is a running average of how long one bcrypt comparison at
// the service's cost takes on this machine now (each native check, and
// the dummy's, adds to it with weight 1/8): the time every other check is
// padded to, so that an imported hash cheaper than the native one, a hash
// that no longer parses, and an unknown email all answer a wrong password
// as late as a native account does, without burning a second hash.
type nativeCheck struct{ ns atomic.Int64 }

func (c *nativeCheck) record(d time.Duration) {
	for {
		old := c.ns.Load()
		next := int64(d)
		if old > 0 {
			next = old + (int64(d)-old)/8
		}
		if c.ns.CompareAndSwap(old, next) {
			return
		}
	}
}

func (c *nativeCheck) estimate() (time.Duration, bool) {
	ns := c.ns.Load()
	return time.Duration(ns), ns > 0
}

// dummy is a hash to compare against when the stored one costs less than
// a native check (or there is none), so that a failed sign-in costs the
// same either way. It is made once, inside the first check's slot.
func (s *Service) dummy() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), s.BcryptCost)
	})
	return s.dummyHash
}
