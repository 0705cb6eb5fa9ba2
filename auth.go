package usersvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

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
	// Scope limits where the token is accepted (Surface.admits).
	Scope TokenScope
}

// TokenScope limits where a bearer token is accepted.
type TokenScope string

// Token scopes.
const (
	// ScopeAll tokens are accepted everywhere a token is.
	ScopeAll TokenScope = ""
	// ScopeSCIM tokens are accepted only by the SCIM service
	// (/scim/v2): a provisioning key for an identity provider.
	ScopeSCIM TokenScope = "scim"
)

// Valid reports whether sc is one of the scopes.
func (sc TokenScope) Valid() bool { return sc == ScopeAll || sc == ScopeSCIM }

// Surface is a part of the API that authenticates its callers: which
// tokens it accepts is the policy's (Surface.admits).
type Surface int

// Surfaces.
const (
	// SurfaceAPI is REST and GraphQL (and their WebSockets).
	SurfaceAPI Surface = iota
	// SurfaceSCIM is the SCIM service provider (/scim/v2).
	SurfaceSCIM
)

// Secret prefixes make leaked secrets recognisable.
const (
	TokenPrefix  = "usv_" // bearer tokens (operator-issued and sign-in sessions)
	APIKeyPrefix = "usk_" // API keys
)

// secretBodyLen is the length of 32 random bytes in unpadded base64url.
const secretBodyLen = 43

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

// Credentials are what a caller presented: the scheme (only Bearer is
// accepted) and its secret. The zero value is nothing presented. The
// transports read them from the Authorization header or a WebSocket's
// connection_init (internal/httpauth); the domain never sees a header.
type Credentials struct{ Scheme, Secret string }

// Bearer is the credentials of a bearer token.
func Bearer(secret string) Credentials { return Credentials{Scheme: "Bearer", Secret: secret} }

// Authenticate checks a caller's credentials and counts the request for
// its owner. Missing, malformed, unknown, expired and revoked tokens are
// EUnauthenticated (one message for all but the missing header, so an answer
// does not tell which check failed); a token whose owner may not use the API
// now is EForbidden with the reason. Only requests that pass are counted.
// API keys are not bearer tokens: they are exchanged at sign-in.
//
// Its span, usersvc.authenticate, is made only when the check reads or
// writes the database (a token not cached, a last-used time to record):
// a cached check takes about a microsecond, less than a span costs.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	return s.AuthenticateOn(ctx, c, SurfaceAPI)
}

// AuthenticateOn is Authenticate for a request to surface: a token the
// surface does not accept (Surface.admits) is refused before it is
// counted.
func (s *Service) AuthenticateOn(ctx context.Context, c Credentials, surface Surface) (_ *Principal, err error) {
	sp := lazySpan{name: "usersvc.authenticate", start: time.Now()}
	defer func() { sp.end(err) }()
	if c == (Credentials{}) {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	if !strings.EqualFold(c.Scheme, "Bearer") || !wellFormedSecret(c.Secret, TokenPrefix) {
		return nil, errBadToken
	}
	hash := HashToken(c.Secret)
	tok, owner, ticket, err := s.lookupToken(ctx, hash, &sp)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := admits(tok, owner, now); err != nil {
		return nil, err
	}
	if err := surface.admits(tok, owner); err != nil {
		return nil, err
	}
	if tok.LastUsed == nil || now.Sub(*tok.LastUsed) >= s.TokenTouchInterval {
		if err := s.store.TouchToken(sp.begin(ctx), tok.ID, now); err != nil {
			return nil, err
		}
		touched := *tok
		touched.LastUsed = &now
		tok = &touched
		s.auth.put(ticket, hash, tok, owner)
	}
	usage, quota, err := s.meter(ctx, owner, now)
	if err != nil {
		return nil, err
	}
	return &Principal{User: owner, Token: tok, Usage: usage, Quota: quota}, nil
}

// lookupToken resolves a token's hash to the token and its owner, from
// the cache or the store (and then caches them). The ticket is the one
// taken before the read, for re-caching the pair (see authCache). A read
// of the store begins sp, when there is one.
func (s *Service) lookupToken(ctx context.Context, hash string, sp *lazySpan) (*Token, *User, uint64, error) {
	// The ticket comes before any read: a change committed after it
	// invalidates the owner, and then nothing read here is cached.
	ticket := s.auth.ticket()
	if tok, owner, ok := s.auth.get(hash); ok {
		return tok, owner, ticket, nil
	}
	if sp != nil {
		ctx = sp.begin(ctx)
	}
	tok, err := s.store.TokenByHash(ctx, hash)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, nil, 0, errBadToken
		}
		return nil, nil, 0, err
	}
	owner, err := s.store.User(ctx, tok.UserID, false)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, nil, 0, errBadToken
		}
		return nil, nil, 0, err
	}
	s.auth.put(ticket, hash, tok, owner)
	return tok, owner, ticket, nil
}

// WatchChanges keeps the token cache right when other processes change
// users: their changes, read from the change log (Store.FollowChanges),
// drop the user's entries at once, so entries can live ttl; while reads
// of the log fail, or none has succeeded for a second, the cache is
// bypassed (see authCache). Entries live ttl only while the log is
// followed; a store without one (SQLite) keeps the 1 s life. It blocks
// until ctx ends (or at once without a log), and then the cache goes
// back to 1 s entries.
func (s *Service) WatchChanges(ctx context.Context, ttl time.Duration) error {
	err := s.store.FollowChanges(ctx, s.userChanged, func(live bool) { s.auth.setLive(live, ttl) }, s.auth.heard)
	s.auth.noListener()
	return err
}

// AuthCached reports whether a bearer secret's check is cached (for tests
// and diagnostics).
func (s *Service) AuthCached(secret string) bool {
	_, _, ok := s.auth.get(HashToken(secret))
	return ok
}
