package usersvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Store is what the service needs from storage. The store package implements
// it on ent for SQLite and PostgreSQL. Not-found lookups return an *Error with
// ENotFound; a duplicate email on save returns EConflict.
type Store interface {
	// InTx runs fn inside one transaction; the Store passed to fn is bound
	// to it. fn's error rolls the transaction back.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// User loads a user, deleted or not. forUpdate locks the row until the
	// transaction ends (where the database supports row locks).
	User(ctx context.Context, id string, forUpdate bool) (*User, error)
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser saves every field of u, including Version and Modification.
	UpdateUser(ctx context.Context, u *User) error
	CountUsers(ctx context.Context) (int, error)
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	CreateToken(ctx context.Context, t *Token) error
	TouchToken(ctx context.Context, id int, at time.Time) error
	// AddUsage counts one request for userID on day (the caller's local
	// date, YYYY-MM-DD) and returns the counts including it.
	AddUsage(ctx context.Context, userID, day string) (Usage, error)
	Ping(ctx context.Context) error
}

// Token is a stored API token. Only the SHA-256 of the secret is kept.
type Token struct {
	ID       int
	UserID   string
	Label    string
	Hash     string
	Created  time.Time
	Expires  *time.Time
	LastUsed *time.Time
	Revoked  bool
}

// Usage is a caller's request count: all time and in their local today.
type Usage struct {
	Total int64 `json:"apiUsage"`
	Daily int64 `json:"apiDailyUsage"`
}

// Principal is the authenticated caller of one request.
type Principal struct {
	User  *User
	Token *Token
	Usage Usage
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

// SystemContext returns ctx acting as the built-in administrator, for the
// command line tools that run with direct database access.
func SystemContext(ctx context.Context) context.Context {
	return WithPrincipal(ctx, &Principal{User: &User{ID: "system", Role: RoleAdmin}})
}

// TokenPrefix starts every API token, so leaked tokens are recognisable.
const TokenPrefix = "usv_"

// tokenBodyLen is the length of 32 random bytes in unpadded base64url.
const tokenBodyLen = 43

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
}

// NewService returns a Service with production defaults.
func NewService(s Store) *Service {
	return &Service{Store: s, Now: time.Now, BcryptCost: 12, TokenTouchInterval: time.Minute}
}

func (s *Service) now() time.Time { return truncTime(s.Now()) }

// HashToken is how token secrets are stored: they are random, so one SHA-256
// is enough (a slow hash buys nothing for 256-bit secrets).
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func newTokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewUserID returns a fresh opaque user id: "usr-" and 16 base32 characters.
func NewUserID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "usr-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func wellFormedToken(t string) bool {
	body, ok := strings.CutPrefix(t, TokenPrefix)
	if !ok || len(body) != tokenBodyLen {
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
func (s *Service) Authenticate(ctx context.Context, authorization string) (*Principal, error) {
	if strings.TrimSpace(authorization) == "" {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	scheme, secret, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !wellFormedToken(secret) {
		return nil, errBadToken
	}
	hash := HashToken(secret)
	tok, err := s.Store.TokenByHash(ctx, hash)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, errBadToken
		}
		return nil, err
	}
	now := s.now()
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 || tok.Revoked || (tok.Expires != nil && !now.Before(*tok.Expires)) {
		return nil, errBadToken
	}
	owner, err := s.Store.User(ctx, tok.UserID, false)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, errBadToken
		}
		return nil, err
	}
	if err := usable(owner, now); err != nil {
		return nil, err
	}
	if tok.LastUsed == nil || now.Sub(*tok.LastUsed) >= s.TokenTouchInterval {
		if err := s.Store.TouchToken(ctx, tok.ID, now); err != nil {
			return nil, err
		}
	}
	usage, err := s.Store.AddUsage(ctx, owner.ID, s.localDay(owner, now))
	if err != nil {
		return nil, err
	}
	return &Principal{User: owner, Token: tok, Usage: usage}, nil
}

// usable says whether u may use the API at now, and if not, why.
func usable(u *User, now time.Time) error {
	switch {
	case u.DeletedAt != nil:
		return Errorf(EForbidden, "This account has been deleted.")
	case u.Disabled:
		if u.DisabledMessage != nil && *u.DisabledMessage != "" {
			return &Error{Code: EForbidden, Message: *u.DisabledMessage}
		}
		return Errorf(EForbidden, "This account is disabled.")
	case u.From != nil && now.Before(*u.From):
		return Errorf(EForbidden, "This account is not active yet.")
	case u.Expires != nil && !now.Before(*u.Expires):
		return Errorf(EForbidden, "This account has expired.")
	}
	return nil
}

// localDay is the caller's calendar date at now, in their own time zone.
func (s *Service) localDay(u *User, now time.Time) string {
	loc, err := LoadLocation(u.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return now.In(loc).Format(time.DateOnly)
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
func (s *Service) User(ctx context.Context, id string) (*User, error) {
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
	return s.visibleUser(ctx, s.Store, actor, actor.ID, false)
}

func (s *Service) visibleUser(ctx context.Context, st Store, actor *User, id string, forUpdate bool) (*User, error) {
	if id == "" || len(id) > 64 {
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

// ReplaceUser is the full replace (PUT, updateUser). body is a generic JSON
// object. ifVersion, when set, must equal the stored version.
func (s *Service) ReplaceUser(ctx context.Context, id string, body any, ifVersion *int64) (*User, error) {
	return s.update(ctx, id, ifVersion, func(*User) (any, error) { return body, nil })
}

// PatchUser applies an RFC 6902 JSON Patch (a generic JSON array) to the
// user's public document and saves the result through the replace path.
func (s *Service) PatchUser(ctx context.Context, id string, patch any, ifVersion *int64) (*User, error) {
	ops, err := ParsePatch(patch)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, Errorf(EInvalid, "The patch is empty.")
	}
	return s.update(ctx, id, ifVersion, func(before *User) (any, error) {
		doc, err := before.documentMap()
		if err != nil {
			return nil, err
		}
		return ApplyPatch(doc, ops)
	})
}

// MergePatchUser applies an RFC 7396 merge patch, then the replace path.
func (s *Service) MergePatchUser(ctx context.Context, id string, patch any, ifVersion *int64) (*User, error) {
	if m, ok := patch.(map[string]any); !ok || len(m) == 0 {
		return nil, Errorf(EInvalid, "The patch is empty.")
	}
	return s.update(ctx, id, ifVersion, func(before *User) (any, error) {
		doc, err := before.documentMap()
		if err != nil {
			return nil, err
		}
		return ApplyMergePatch(doc, patch), nil
	})
}

// update is the one write path: in one transaction it reads the user fresh
// (locked), authorizes the caller to see it, checks the precondition, builds
// the new document, decodes it, validates, authorizes the change, and saves
// when anything changed.
func (s *Service) update(ctx context.Context, id string, ifVersion *int64, build func(before *User) (any, error)) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	var result *User
	err = s.Store.InTx(ctx, func(tx Store) error {
		before, err := s.visibleUser(ctx, tx, actor, id, true)
		if err != nil {
			return err
		}
		if ifVersion != nil && *ifVersion != before.Version {
			return Errorf(EPreconditionFailed, "Precondition Failed")
		}
		doc, err := build(before)
		if err != nil {
			return err
		}
		in, err := DecodeInput(doc)
		if err != nil {
			return err
		}
		if in.ID != nil && *in.ID != before.ID {
			return FieldErrorf(EInvalid, "id", "The id in the body does not match the id in the path.")
		}
		after := applyInput(before, in, actor.IsAdmin())
		if err := Validate(after); err != nil {
			return err
		}
		pwChanged := in.Password != nil
		if pwChanged {
			if err := ValidatePassword(*in.Password); err != nil {
				return err
			}
		}
		if err := AuthorizeChange(actor, before, after, pwChanged); err != nil {
			return err
		}
		if !pwChanged && len(ChangedFields(before, after)) == 0 {
			result = before
			return nil
		}
		if pwChanged {
			h, err := bcrypt.GenerateFromPassword([]byte(*in.Password), s.BcryptCost)
			if err != nil {
				return err
			}
			after.PasswordHash = string(h)
		}
		after.Version = before.Version + 1
		after.Modification = s.now()
		if err := tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		result = after
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// applyInput builds the user a replace would store. Omitted optional fields
// are cleared, except password, role and deletedAt, which keep their values;
// for non-admins, fields they may not write also keep their values when the
// body omits them.
func applyInput(before *User, in *Input, admin bool) *User {
	u := before.Clone()
	u.Name, u.Email, u.Country, u.TimeZone = in.Name, in.Email, in.Country, in.TimeZone
	u.Description = in.Description
	set := func(field string, apply func()) {
		if admin || in.Present[field] {
			apply()
		}
	}
	set("message", func() { u.Message = in.Message })
	set("disabled", func() { u.Disabled = in.Disabled })
	set("disabledMessage", func() { u.DisabledMessage = in.DisabledMessage })
	set("tags", func() { u.Tags = in.Tags })
	set("privileges", func() { u.Privileges = in.Privileges })
	set("group", func() { u.Group = in.Group })
	set("deviceId", func() { u.DeviceID = in.DeviceID })
	set("adminDevices", func() { u.AdminDevices = in.AdminDevices })
	set("from", func() { u.From = in.From })
	set("expires", func() { u.Expires = in.Expires })
	if in.Role != nil {
		u.Role = *in.Role
	}
	if in.DeletedAtSet {
		u.DeletedAt = in.DeletedAt
	}
	return u
}

// NewUserInput is what creating a user takes.
type NewUserInput struct {
	Name, Email, Country, TimeZone string
	Role                           Role
	Password                       *string
}

// CreateUser creates a user. Only admins (or the system context) may.
func (s *Service) CreateUser(ctx context.Context, in NewUserInput) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !actor.IsAdmin() {
		return nil, Errorf(EForbidden, "Only administrators may create users.")
	}
	now := s.now()
	if in.Role == "" {
		in.Role = RoleUser
	}
	u := &User{
		ID: NewUserID(), Name: in.Name, Email: in.Email, Country: in.Country, TimeZone: in.TimeZone,
		Tags: map[string]string{}, Privileges: []string{}, Role: in.Role,
		Creation: now, Modification: now, Version: 1,
	}
	if err := Validate(u); err != nil {
		return nil, err
	}
	if in.Password != nil {
		if err := ValidatePassword(*in.Password); err != nil {
			return nil, err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(*in.Password), s.BcryptCost)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = string(h)
	}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateToken issues a new API token for userID and returns its secret, the
// only time it is ever available. ttl 0 means no expiry. Users may create
// tokens for themselves; admins for anyone.
func (s *Service) CreateToken(ctx context.Context, userID, label string, ttl time.Duration) (string, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return "", err
	}
	if ttl < 0 {
		return "", Errorf(EInvalid, "Token lifetime must be positive.")
	}
	owner, err := s.visibleUser(ctx, s.Store, actor, userID, false)
	if err != nil {
		return "", err
	}
	secret, err := newTokenSecret()
	if err != nil {
		return "", err
	}
	now := s.now()
	t := &Token{UserID: owner.ID, Label: label, Hash: HashToken(secret), Created: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.Expires = &exp
	}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", err
	}
	return secret, nil
}

// BootstrapAdmin is the user created on first start with an empty database.
var BootstrapAdmin = NewUserInput{
	Name: "Administrator", Email: "admin@example.com", Country: "US", TimeZone: "UTC", Role: RoleAdmin,
}

// Bootstrap creates the first admin and a token for it when the database
// has no users. created is false (and token "") when users already exist.
func (s *Service) Bootstrap(ctx context.Context) (token string, created bool, err error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	sys := SystemContext(ctx)
	u, err := s.CreateUser(sys, BootstrapAdmin)
	if err != nil {
		if ErrorCode(err) == EConflict { // another process bootstrapped first
			return "", false, nil
		}
		return "", false, err
	}
	token, err = s.CreateToken(sys, u.ID, "bootstrap", 0)
	if err != nil {
		return "", false, err
	}
	return token, true, nil
}

// Ready reports whether storage answers.
func (s *Service) Ready(ctx context.Context) error { return s.Store.Ping(ctx) }

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ENotFound
}
