package usersvc

import "context"

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
