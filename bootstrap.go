package usersvc

import "context"

// BootstrapAdminEmail is the email of the admin created on first start
// with an empty database.
const BootstrapAdminEmail = "admin@example.com"

// Bootstrap creates the first admin and a token for it when the database
// has no users. created is false (and token "") when users already exist.
// The token is shown only once: call it only when the server can serve
// (serve binds its listener first).
func (s *Service) Bootstrap(ctx context.Context) (token string, created bool, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	sys := SystemContext(ctx)
	first := NewUserInput{Name: "Administrator", Email: BootstrapAdminEmail, Country: "US", TimeZone: "UTC", Role: RoleAdmin}
	u, err := s.CreateUser(sys, first.Document())
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
