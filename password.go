package usersvc

import "golang.org/x/crypto/bcrypt"

// passwordDecision says whether a password sent in a write equals the
// stored one (the bcrypt hash stored), and if not, its new hash; and, when
// the writer had to give their current password, whether it is right.
type passwordDecision struct {
	stored, password string
	// current is the current password given (checkCurrent: it must match).
	current      string
	checkCurrent bool
	same         bool
	currentOK    bool
	hash         string
}

// errCurrentPasswordMissing answers a change of one's own password that
// does not give the current one.
var errCurrentPasswordMissing = FieldErrorf(EInvalid, "currentPassword", "Changing your password needs your current password (currentPassword).")

// hashPassword stores a bcrypt hash of an already validated password in u.
func (s *Service) hashPassword(u *User, password string) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return Internal(err)
	}
	u.PasswordHash = string(h)
	return nil
}
