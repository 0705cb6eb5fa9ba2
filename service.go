package usersvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// Store is what the service needs from storage. The store package implements
// it on ent for SQLite and PostgreSQL. Not-found lookups return an *Error with
// ENotFound; a duplicate email on save returns EConflict; any other failure
// is an internal *Error.
type Store interface {
	// InTx runs fn inside one transaction; the Store passed to fn is bound
	// to it. fn's error rolls the transaction back.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// User loads a user, deleted or not. forUpdate locks the row until the
	// transaction ends (where the database supports row locks).
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
	// UserByEmail finds a user by EmailKey(email).
	UserByEmail(ctx context.Context, emailKey string) (*User, error)
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser saves every field of u, including Version and Modification.
	UpdateUser(ctx context.Context, u *User) error
	CountUsers(ctx context.Context) (int, error)
	// ListUsers answers one page of q and the number of users matching
	// q's filter (ignoring the cursor).
	ListUsers(ctx context.Context, q ListQuery) ([]*User, int, error)
	// CountActiveAdmins counts admins that can act at now (not deleted, not
	// disabled, from ≤ now < expires, as usable says), except the user with
	// id except; lock locks their rows.
	CountActiveAdmins(ctx context.Context, except string, now time.Time, lock bool) (int, error)

	TokenByHash(ctx context.Context, hash string) (*Token, error)
	CreateToken(ctx context.Context, t *Token) error
	TouchToken(ctx context.Context, id int, at time.Time) error
	// Tokens lists a user's tokens of one kind, newest first.
	Tokens(ctx context.Context, userID string, kind TokenKind) ([]*Token, error)
	// RevokeToken revokes one of userID's tokens of kind; ENotFound if none.
	RevokeToken(ctx context.Context, userID string, kind TokenKind, id int) (*Token, error)
	// RevokeTokens revokes all of userID's tokens of kind.
	RevokeTokens(ctx context.Context, userID string, kind TokenKind) error
	// RevokeSessionsOfKey revokes userID's sessions exchanged for the API
	// key with id apiKeyID.
	RevokeSessionsOfKey(ctx context.Context, userID string, apiKeyID int) error

	// UsageCounts reads userID's stored counts: all time, and on day (the
	// caller's local date, YYYY-MM-DD).
	UsageCounts(ctx context.Context, userID, day string) (Usage, error)
	// AddUsage adds n requests for userID on day, atomically to the
	// all-time and the day's count, and returns both after.
	AddUsage(ctx context.Context, userID, day string, n int64) (Usage, error)

	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit lists userID's history newest first, entries with ID < before
	// (all when before is 0), at most limit.
	Audit(ctx context.Context, userID string, before int64, limit int) ([]*AuditEntry, error)
	// CountAudit counts userID's history entries.
	CountAudit(ctx context.Context, userID string) (int, error)

	// NotifyUserChanged tells every process sharing the database, when the
	// surrounding transaction commits, that a user or their tokens changed.
	NotifyUserChanged(ctx context.Context, userID string) error
	// ListenUserChanges calls changed for each such notice until ctx ends;
	// live(false) when notices may be missed (disconnected), live(true)
	// once they are delivered again; and, several times a second,
	// heard(sent): every notice committed before sent has been delivered
	// (a heartbeat this process sent at sent came back). A store without
	// other processes (SQLite) returns at once.
	ListenUserChanges(ctx context.Context, changed func(userID string), live func(bool), heard func(sent time.Time)) error

	Ping(ctx context.Context) error

	// FailureLog keeps the sign-in throttle's failures, for every process
	// sharing the database.
	FailureLog
}

// TokenKind says what a stored secret is for.
type TokenKind string

// Token kinds.
const (
	// KindToken is an API bearer token issued by an operator (CLI).
	KindToken TokenKind = "token"
	// KindSession is a bearer token from sign-in. Changing the password
	// or deleting the user revokes a user's sessions; revoking an API key
	// revokes the sessions exchanged for it.
	KindSession TokenKind = "session"
	// KindAPIKey is a long-lived secret a user exchanges for a session at
	// sign-in. It is not a bearer token itself.
	KindAPIKey TokenKind = "api_key"
)

// Token is a stored secret. Only the SHA-256 of the secret is kept.
type Token struct {
	ID       int
	UserID   string
	Kind     TokenKind
	Label    string
	Hash     string
	Created  time.Time
	Expires  *time.Time
	LastUsed *time.Time
	Revoked  bool
	// APIKeyID is, for a session, the API key it was exchanged for.
	APIKeyID *int
}

// Usage is a caller's request count: all time and in their local today.
type Usage struct {
	Total int64 `json:"apiUsage"`
	Daily int64 `json:"apiDailyUsage"`
}

// Quota is the caller's daily quota state, as the RateLimit headers say it.
type Quota struct {
	Limit     int64
	Remaining int64
	// Reset is the number of seconds until the caller's local midnight.
	Reset int64
}

// Principal is the authenticated caller of one request.
type Principal struct {
	User  *User
	Token *Token
	Usage Usage
	Quota Quota
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller carried by ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

type addrKey struct{}

// WithClientAddr returns ctx carrying the client's network address, which
// the audit trail and sign-in throttling use.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, addrKey{}, addr)
}

// ClientAddr returns the address carried by ctx, "" if none.
func ClientAddr(ctx context.Context) string {
	a, _ := ctx.Value(addrKey{}).(string)
	return a
}

// SystemID is the actor recorded for command-line operations.
const SystemID = "system"

// SystemContext returns ctx acting as the built-in administrator, for the
// command line tools that run with direct database access.
func SystemContext(ctx context.Context) context.Context {
	ctx = WithClientAddr(ctx, "cli")
	return WithPrincipal(ctx, &Principal{User: &User{ID: SystemID, Role: RoleAdmin}})
}

// Secret prefixes make leaked secrets recognisable.
const (
	TokenPrefix  = "usv_" // bearer tokens (operator-issued and sign-in sessions)
	APIKeyPrefix = "usk_" // API keys
)

// secretBodyLen is the length of 32 random bytes in unpadded base64url.
const secretBodyLen = 43

// Service holds the rules. Both transports call it; it calls the Store.
type Service struct {
	Store Store
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

	auth      *authCache
	feed      *feed
	dummyOnce sync.Once
	dummyHash []byte
}

// NewService returns a Service with production defaults.
func NewService(s Store) *Service {
	return &Service{
		Store: s, Now: time.Now, BcryptCost: 12, TokenTouchInterval: time.Minute,
		DailyQuota: 10000, SessionTTL: 24 * time.Hour, Throttle: newStoreThrottle(s),
		Meter: NewMeter(s), auth: newAuthCache(time.Second), feed: newFeed(),
	}
}

func (s *Service) now() time.Time { return truncTime(s.Now()) }

// HashToken is how secrets are stored: they are random, so one SHA-256 is
// enough (a slow hash buys nothing for 256-bit secrets).
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewUserID returns a fresh opaque user id: "usr-" and 16 base32 characters.
func NewUserID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "usr-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func wellFormedSecret(t, prefix string) bool {
	body, ok := strings.CutPrefix(t, prefix)
	if !ok || len(body) != secretBodyLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

var errBadToken = Errorf(EUnauthenticated, "Invalid or expired token.")

// Authenticate checks an Authorization header value and counts the request
// for its owner. Missing, malformed, unknown, expired and revoked tokens are
// EUnauthenticated (one message for all but the missing header, so an answer
// does not tell which check failed); a token whose owner may not use the API
// now is EForbidden with the reason. Only requests that pass are counted.
// API keys are not bearer tokens: they are exchanged at sign-in.
func (s *Service) Authenticate(ctx context.Context, authorization string) (*Principal, error) {
	if strings.TrimSpace(authorization) == "" {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	scheme, secret, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !wellFormedSecret(secret, TokenPrefix) {
		return nil, errBadToken
	}
	hash := HashToken(secret)
	tok, owner, ticket, err := s.lookupToken(ctx, hash)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.admits(tok, owner, now); err != nil {
		return nil, err
	}
	if tok.LastUsed == nil || now.Sub(*tok.LastUsed) >= s.TokenTouchInterval {
		if err := s.Store.TouchToken(ctx, tok.ID, now); err != nil {
			return nil, err
		}
		touched := *tok
		touched.LastUsed = &now
		tok = &touched
		s.auth.put(ticket, hash, tok, owner)
	}
	usage, err := s.Meter.Count(ctx, owner.ID, s.localDay(owner, now))
	if err != nil {
		return nil, err
	}
	return &Principal{User: owner, Token: tok, Usage: usage, Quota: s.quota(owner, usage, now)}, nil
}

// lookupToken resolves a token's hash to the token and its owner, from
// the cache or the store (and then caches them). The ticket is the one
// taken before the read, for re-caching the pair (see authCache).
func (s *Service) lookupToken(ctx context.Context, hash string) (*Token, *User, uint64, error) {
	// The ticket comes before any read: a change committed after it
	// invalidates the owner, and then nothing read here is cached.
	ticket := s.auth.ticket()
	if tok, owner, ok := s.auth.get(hash); ok {
		return tok, owner, ticket, nil
	}
	tok, err := s.Store.TokenByHash(ctx, hash)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, nil, 0, errBadToken
		}
		return nil, nil, 0, err
	}
	owner, err := s.Store.User(ctx, tok.UserID, false)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, nil, 0, errBadToken
		}
		return nil, nil, 0, err
	}
	s.auth.put(ticket, hash, tok, owner)
	return tok, owner, ticket, nil
}

// admits says whether a bearer token and its owner may act at now.
func (s *Service) admits(tok *Token, owner *User, now time.Time) error {
	if tok.Kind == KindAPIKey || !tokenLive(tok, now) {
		return errBadToken
	}
	return usable(owner, now)
}

func tokenLive(t *Token, now time.Time) bool {
	return !t.Revoked && (t.Expires == nil || now.Before(*t.Expires))
}

// quota computes the caller's quota state after this request.
func (s *Service) quota(u *User, usage Usage, now time.Time) Quota {
	limit := s.DailyQuota
	if u.DailyQuota != nil {
		limit = *u.DailyQuota
	}
	remaining := limit - usage.Daily
	if remaining < 0 {
		remaining = 0
	}
	loc := s.location(u)
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	reset := int64(midnight.Sub(now).Seconds() + 0.999)
	return Quota{Limit: limit, Remaining: remaining, Reset: reset}
}

// CheckQuota refuses a caller who is past their daily quota, until their
// local midnight.
func (s *Service) CheckQuota(p *Principal) error {
	if p.Usage.Daily > p.Quota.Limit {
		e := Errorf(ERateLimited, "Daily request quota exceeded.")
		e.RetryAfter = p.Quota.Reset
		return e
	}
	return nil
}

// usable says whether u may use the API at now, and if not, why.
func usable(u *User, now time.Time) error {
	switch accountState(u, now) {
	case stateDeleted:
		return Errorf(EForbidden, "This account has been deleted.")
	case stateDisabled:
		if u.DisabledMessage != nil && *u.DisabledMessage != "" {
			return &Error{Code: EForbidden, Message: *u.DisabledMessage}
		}
		return Errorf(EForbidden, "This account is disabled.")
	case stateNotYet:
		return Errorf(EForbidden, "This account is not active yet.")
	case stateExpired:
		return Errorf(EForbidden, "This account has expired.")
	}
	return nil
}

// Account states, as the command line's user list shows them.
const (
	stateActive   = "active"
	stateDeleted  = "deleted"
	stateDisabled = "disabled"
	stateNotYet   = "not active yet"
	stateExpired  = "expired"
)

// accountState says whether u can use the API at now, and if not, the
// first reason, in this order: deleted, disabled, not active yet, expired.
func accountState(u *User, now time.Time) string {
	switch {
	case u.DeletedAt != nil:
		return stateDeleted
	case u.Disabled:
		return stateDisabled
	case u.From != nil && now.Before(*u.From):
		return stateNotYet
	case u.Expires != nil && !now.Before(*u.Expires):
		return stateExpired
	}
	return stateActive
}

// AccountStatus says whether u can use the API now: "active", or why not
// ("deleted", "disabled", "not active yet", "expired"). The command line's
// user list shows it.
func (s *Service) AccountStatus(u *User) string { return accountState(u, s.now()) }

func (s *Service) location(u *User) *time.Location {
	loc, err := LoadLocation(u.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// localDay is the caller's calendar date at now, in their own time zone.
func (s *Service) localDay(u *User, now time.Time) string {
	return now.In(s.location(u)).Format(time.DateOnly)
}

func (s *Service) caller(ctx context.Context) (*User, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.User == nil {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	return p.User, nil
}

var errUserNotFound = Errorf(ENotFound, "User not found.")

// User returns the user with id, as the caller may see it. Users other than
// the caller are "not found" to non-admins, exactly like ids that do not exist.
//
// A caller reading themselves gets the user their token check loaded: it
// is as fresh as a second read would be (the token cache drops a user on
// any change, by this process or, through notices, by another), and it
// saves the read.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	if p := PrincipalFrom(ctx); p != nil && p.Token != nil && p.User != nil && p.User.ID == id {
		return p.User, nil
	}
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.visibleUser(ctx, s.Store, actor, id, false)
}

// Me returns the caller's own user.
func (s *Service) Me(ctx context.Context) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.User(ctx, actor.ID)
}

func (s *Service) visibleUser(ctx context.Context, st Store, actor *User, id string, forUpdate bool) (*User, error) {
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
	if !CanView(actor, u) {
		return nil, errUserNotFound
	}
	return u, nil
}

// possibleID reports whether id could name a user: 1 to 64 bytes of text
// (valid UTF-8, no NUL; PostgreSQL cannot even compare anything else). Any
// other id is a user that does not exist, on every database.
func possibleID(id string) bool {
	return id != "" && len(id) <= 64 && validText(id)
}

// WatchChanges keeps the token cache right when other processes change
// users: their notices drop the user's entries at once, so entries can
// live ttl; while notices could be missed, or the listener has not
// confirmed for a second that it hears everything, the cache is bypassed
// (see authCache). Entries live ttl only while a listener is live; a store
// without one (SQLite) keeps the 1 s life. It blocks until ctx ends, and
// then the cache goes back to 1 s entries.
func (s *Service) WatchChanges(ctx context.Context, ttl time.Duration) error {
	err := s.Store.ListenUserChanges(ctx, s.userChanged, func(live bool) { s.listenerLive(live, ttl) }, s.auth.heard)
	s.auth.noListener()
	return err
}

// AuthCached reports whether a bearer secret's check is cached (for tests
// and diagnostics).
func (s *Service) AuthCached(secret string) bool {
	_, _, ok := s.auth.get(HashToken(secret))
	return ok
}

// Flush writes the metered counts to the store (see Meter).
func (s *Service) Flush(ctx context.Context) error { return s.Meter.Flush(ctx) }

// Ready reports whether storage answers.
func (s *Service) Ready(ctx context.Context) error { return s.Store.Ping(ctx) }
