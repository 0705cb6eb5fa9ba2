package usersvc

import (
	"context"
	"sync/atomic"
)

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

func (s *Service) caller(ctx context.Context) (*User, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.User == nil {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	return p.User, nil
}

type currentPasswordKey struct{}

// WithCurrentPassword returns ctx carrying the caller's current password,
// as a write that changes their own password must (see
// needsCurrentPassword); the transports set it from the request.
func WithCurrentPassword(ctx context.Context, password string) context.Context {
	return context.WithValue(ctx, currentPasswordKey{}, password)
}

// currentPassword is the password WithCurrentPassword set, if any.
func currentPassword(ctx context.Context) (string, bool) {
	pw, ok := ctx.Value(currentPasswordKey{}).(string)
	return pw, ok
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request's id (X-Request-Id).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, "" if none.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type signInsKey struct{}

// WithOneSignIn marks ctx as one request (the server sets it on every HTTP
// request): the first sign-in in it runs; any further one (aliased GraphQL
// login fields, for one) is refused with EInvalid without a password
// check, so a request costs at most one bcrypt comparison.
func WithOneSignIn(ctx context.Context) context.Context {
	return context.WithValue(ctx, signInsKey{}, new(atomic.Bool))
}

// firstSignIn reports whether this is the first sign-in of ctx's request
// (always true outside a request).
func firstSignIn(ctx context.Context) bool {
	used, ok := ctx.Value(signInsKey{}).(*atomic.Bool)
	return !ok || used.CompareAndSwap(false, true)
}
