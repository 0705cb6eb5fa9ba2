package usersvc

import (
	"context"
	"golang.org/x/crypto/bcrypt"

	"usersvc/passhash"
)

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
func (s *Service) hashPassword(ctx context.Context, u *User, password string) error {
	_, sp := span(ctx, "usersvc.password.hash")
	defer sp.End()
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return Internal(err)
	}
	u.PasswordHash = string(h)
	return nil
}

// verifyPassword reports whether password is the one stored: a bcrypt
// hash, or a hash imported from another system (passhash; see
// docs/import.md). rehash is the hash to store instead after a successful
// check: the service's own (bcrypt at the configured cost) when the stored
// one is imported or of another cost, else "". Every check costs at least
// one bcrypt comparison at the configured cost, so a wrong password takes
// as long for an imported account as for a native one, and for no account
// at all (stored "").
func (s *Service) verifyPassword(ctx context.Context, stored, password string) (ok bool, rehash string, err error) {
	_, sp := span(ctx, "usersvc.password.verify")
	defer func() { EndSpan(sp, err) }()
	if stored != "" && passhash.IsBcrypt(stored) {
		ok = bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil
		if cost, _ := bcrypt.Cost([]byte(stored)); !ok || cost == s.BcryptCost {
			return ok, "", nil
		}
	} else {
		_ = bcrypt.CompareHashAndPassword(s.dummy(), []byte(password)) // the same floor as a native account
		if stored == "" {
			return false, "", nil
		}
		h, err := passhash.ParseStored(stored)
		if err != nil || !h.Verify(password) {
			return false, "", nil // a stored hash that no longer parses matches nothing
		}
		ok = true
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return false, "", Internal(err)
	}
	return true, string(h), nil
}
