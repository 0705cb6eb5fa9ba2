package usersvc

import (
	"context"
	"sync"
	"time"

	"usersvc/internal/hashgate"
)

// Service holds the rules. Both transports call it; it calls the Store.
//
// The store is given to NewService and cannot be swapped afterwards: every
// rule, the throttle and the meter see the same one. The exported fields
// are settings (the clock, costs, quota, lifetimes) and the parts
// NewService builds over that store (Throttle, Meter) or that cmd sizes
// (Hashes), to be tuned before the service is first used.
type Service struct {
	store Store
	// Now is the clock; tests replace it.
	Now func() time.Time
	// BcryptCost is the password hashing cost.
	BcryptCost int
	// TokenTouchInterval is how stale a token's last-use time may get
	// before a request writes it again (saves a write per request).
	TokenTouchInterval time.Duration
	// DailyQuota is the default daily request quota per user.
	DailyQuota int64
	// SessionTTL is the lifetime of sign-in tokens.
	SessionTTL time.Duration
	// Throttle limits failed sign-ins.
	Throttle *Throttle
	// Meter counts requests and writes them in batches.
	Meter *Meter
	// AdminGroup is the displayName (matched case-insensitively) of the
	// group whose members are admins (groupadmin.go); "" for none.
	AdminGroup string
	// FailoverWait bounds how long a write that failed before the
	// database applied anything waits for a new primary, running again
	// (failover.go); 0 answers such a write unavailable at once.
	FailoverWait time.Duration
	// Hashes bounds the slow password hashes running at once in the
	// process (see password.go); nil means one slot per core.
	Hashes *hashgate.Gate
	// Reader, when set, serves the plain reads (reader.go says which)
	// instead of the store: a standby's store, which answers no older
	// than the call. nil: the store serves every read.
	Reader Reads

	auth      *authCache
	feed      *feed
	sockets   *sockets
	dummyOnce sync.Once
	dummyHash []byte
	// hashHook, when set (tests), is told of every slow hash: op is
	// "compare" or "generate" (bcrypt, with its cost) or "verify KIND".
	hashHook func(op string, cost int)
	// native is what a wrong password costs a native account now
	// (password.go, nativeCheck); pad waits out the rest of it (tests
	// replace it to see the wait asked for).
	native nativeCheck
	pad    func(time.Duration)
}

// NewService returns a Service with production defaults.
func NewService(s Store) *Service {
	return &Service{
		store: s, Now: time.Now, BcryptCost: 12, TokenTouchInterval: time.Minute,
		DailyQuota: 10000, SessionTTL: 24 * time.Hour, Throttle: NewThrottle(s), FailoverWait: DefaultFailoverWait,
		Meter: NewMeter(s), Hashes: hashgate.New(0), auth: newAuthCache(time.Second), feed: newFeed(), sockets: newSockets(),
	}
}

func (s *Service) now() time.Time { return truncTime(s.Now()) }

var errUserNotFound = Errorf(ENotFound, "User not found.")

// User returns the user with id, as the caller may see it. Users other than
// the caller are "not found" to non-admins, exactly like ids that do not exist.
//
// A caller reading themselves gets the user their token check loaded: it
// is as fresh as a second read would be (the token cache drops a user on
// any change, by this process or, through notices, by another), and it
// saves the read. The policy allows it: a caller whose token was accepted
// is usable, so not deleted, and may read themselves.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	if p := PrincipalFrom(ctx); p != nil && p.Token != nil && p.User != nil && p.User.ID == id {
		return p.User, nil
	}
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.target(ctx, s.reads(), actor, ActionRead, id, false)
}

// Me returns the caller's own user.
func (s *Service) Me(ctx context.Context) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.User(ctx, actor.ID)
}

// target loads the user with id for actor's action, as the policy lets
// actor see it: users the actor may not see are errUserNotFound, like ids
// that do not exist. forUpdate locks the row (inside st's transaction).
func (s *Service) target(ctx context.Context, st userReader, actor *User, action, id string, forUpdate bool) (*User, error) {
	if !possibleID(id) {
		return nil, errUserNotFound
	}
	u, err := st.User(ctx, id, forUpdate)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, errUserNotFound
		}
		return nil, err
	}
	if err := Authorize(actor, action, u, s.now()); err != nil {
		return nil, err
	}
	return u, nil
}

// possibleID reports whether id could name a user: 1 to 64 bytes of text
// (valid UTF-8, no NUL; PostgreSQL cannot even compare anything else). Any
// other id is a user that does not exist, on every database.
func possibleID(id string) bool {
	return id != "" && len(id) <= 64 && validText(id)
}

// Ready reports whether storage answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }
