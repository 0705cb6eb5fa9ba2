package usersvc

import "golang.org/x/crypto/bcrypt"

// passwordDecision says whether a password sent in a write equals the
// stored one (the bcrypt hash stored), and if not, its new hash.
type passwordDecision struct {
	stored, password string
	same             bool
	hash             string
}

// hashPassword stores a bcrypt hash of an already validated password in u.
func (s *Service) hashPassword(u *User, password string) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return Internal(err)
	}
	u.PasswordHash = string(h)
	return nil
}
