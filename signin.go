package usersvc

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Session is the answer to a successful sign-in.
type Session struct {
	Token   string
	Expires time.Time
}

var errSignIn = Errorf(EUnauthenticated, "Invalid API key or username.")

// Login exchanges an email and password for a session token.
func (s *Service) Login(ctx context.Context, email, password string) (*Session, error) {
	return s.signIn(ctx, email, func(u *User) (*Token, bool) {
		hash := s.dummy()
		if u != nil && u.PasswordHash != "" {
			hash = []byte(u.PasswordHash)
		}
		ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
		return nil, ok && u != nil && u.PasswordHash != ""
	})
}

// LoginWithAPIKey exchanges an email and API key for a session token.
func (s *Service) LoginWithAPIKey(ctx context.Context, email, key string) (*Session, error) {
	return s.signIn(ctx, email, func(u *User) (*Token, bool) {
		if !wellFormedSecret(key, APIKeyPrefix) {
			return nil, false
		}
		t, err := s.Store.TokenByHash(ctx, HashToken(key))
		if err != nil || u == nil || t.Kind != KindAPIKey || t.UserID != u.ID || !tokenLive(t, s.now()) {
			return nil, false
		}
		if t.LastUsed == nil || s.now().Sub(*t.LastUsed) >= s.TokenTouchInterval {
			_ = s.Store.TouchToken(ctx, t.ID, s.now()) // last use is informative; a failed write must not refuse the sign-in
		}
		return t, true
	})
}

// dummy is a hash to compare against when the user does not exist, so that
// a failed sign-in costs the same either way.
func (s *Service) dummy() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), s.BcryptCost)
	})
	return s.dummyHash
}

// signIn is both sign-in flows: throttle, look the user up, check the
// secret (always at the same cost), and on success issue a session, set
// lastLogin and record it. Every failure has the same message. check
// returns the API key used, if any: the session remembers it, so that
// revoking the key ends the session.
func (s *Service) signIn(ctx context.Context, email string, check func(u *User) (apiKey *Token, ok bool)) (*Session, error) {
	now := s.Now()
	addr := ClientAddr(ctx)
	acct := "acct:" + EmailKey(email)
	if wait := s.Throttle.Blocked(now, acct, "addr:"+addr); wait > 0 {
		e := Errorf(ERateLimited, "Too many failed sign-ins; try again later.")
		e.RetryAfter = int64(wait.Seconds() + 0.999)
		return nil, e
	}
	var u *User
	if len(email) <= MaxEmailLen && utf8.ValidString(email) {
		found, err := s.Store.UserByEmail(ctx, EmailKey(email))
		if err != nil && ErrorCode(err) != ENotFound {
			return nil, err
		}
		u = found
	}
	key, ok := check(u)
	if !ok || usable(u, s.now()) != nil {
		s.Throttle.Fail(now, acct, "addr:"+addr)
		return nil, errSignIn
	}
	s.Throttle.Reset(acct)
	secret, err := newSecret(TokenPrefix)
	if err != nil {
		return nil, Internal(err)
	}
	at := s.now()
	expires := at.Add(s.SessionTTL)
	sys := WithPrincipal(ctx, &Principal{User: u})
	_, err = s.write(sys, u.ID, nil, ActionLogin, func(tx Store, actor, before *User) (edit, error) {
		session := &Token{UserID: u.ID, Kind: KindSession, Label: "sign-in", Hash: HashToken(secret), Created: at, Expires: &expires}
		if key != nil {
			// Again under the user's lock, which a revocation takes too:
			// a key revoked meanwhile issues no session.
			k, err := tx.TokenByHash(ctx, key.Hash)
			if err != nil && ErrorCode(err) != ENotFound {
				return edit{}, err
			}
			if err != nil || !tokenLive(k, at) {
				return edit{}, errSignIn
			}
			session.APIKeyID = &k.ID
		}
		if err := tx.CreateToken(ctx, session); err != nil {
			return edit{}, err
		}
		after := before.Clone()
		after.LastLogin = &at
		// Recorded even when lastLogin did not move (two sign-ins within the
		// clock's resolution): a session was issued.
		return edit{after: after, effect: true}, nil
	})
	if err != nil {
		return nil, err
	}
	return &Session{Token: secret, Expires: expires}, nil
}

// Throttle counts failed sign-ins per key (an account, a client address)
// in a sliding window and blocks a key that reached its limit until its
// oldest failure leaves the window. It lives in memory: each process
// throttles on its own.
type Throttle struct {
	Window       time.Duration
	AccountLimit int
	AddressLimit int

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle allows 5 failures per account and 20 per address in 15 minutes.
func NewThrottle() *Throttle {
	return &Throttle{Window: 15 * time.Minute, AccountLimit: 5, AddressLimit: 20, failures: map[string][]time.Time{}}
}

// maxThrottleKeys bounds the memory the throttle may hold.
const maxThrottleKeys = 100_000

func (t *Throttle) limit(key string) int {
	if len(key) > 5 && key[:5] == "addr:" {
		return t.AddressLimit
	}
	return t.AccountLimit
}

func (t *Throttle) recent(now time.Time, key string) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.Window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
	} else {
		t.failures[key] = fs
	}
	return fs
}

// Blocked returns how long until the first of keys may try again, 0 if none is blocked.
func (t *Throttle) Blocked(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		fs := t.recent(now, k)
		if len(fs) >= t.limit(k) {
			if w := fs[len(fs)-t.limit(k)].Add(t.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait
}

// Fail records a failure for each key.
func (t *Throttle) Fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) > maxThrottleKeys {
		for k := range t.failures {
			t.recent(now, k)
		}
	}
	for _, k := range keys {
		if len(t.failures) < maxThrottleKeys || t.failures[k] != nil {
			fs := t.recent(now, k)
			if len(fs) < 2*t.limit(k) {
				t.failures[k] = append(fs, now)
			}
		}
	}
}

// Reset forgets a key's failures (after a success).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.failures, key)
	t.mu.Unlock()
}
