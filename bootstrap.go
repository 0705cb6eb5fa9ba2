package usersvc

import "context"

// BootstrapAdmin is the user created on first start with an empty database.
var BootstrapAdmin = NewUserInput{
	Name: "Administrator", Email: "admin@example.com", Country: "US", TimeZone: "UTC", Role: RoleAdmin,
}

// Bootstrap creates the first admin and a token for it when the database
// has no users. created is false (and token "") when users already exist.
// The token is shown only once: call it only when the server can serve
// (serve binds its listener first).
func (s *Service) Bootstrap(ctx context.Context) (token string, created bool, err error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	sys := SystemContext(ctx)
	u, err := s.CreateUser(sys, BootstrapAdmin.Document())
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
