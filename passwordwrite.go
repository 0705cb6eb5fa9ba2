package usersvc

import (
	"context"
	"errors"
	"time"
)

// A write's new password: decided (compared with the stored hash, hashed,
// and the writer's current password checked when they must give it) with
// no lock held, once per write; see write.go.

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

// holds reports whether decision d stands for o: the same passwords, and
// either the same stored hash, or a new hash that needed no check against
// the stored one (not the stored password, no current password to
// verify): a stored hash moved by another writer does not change that
// hash's worth, so concurrent password sets of one user do not decide
// again and again (they would starve each other of the lock).
func (d *passwordDecision) holds(o *passwordDecision) bool {
	if d == nil || d.password != o.password || d.checkCurrent != o.checkCurrent || d.current != o.current {
		return false
	}
	return d.stored == o.stored || (!d.same && !d.checkCurrent && d.hash != "")
}

// decidePassword decides d with no lock held: whether the password is the
// stored one, its new hash if not, and, when the writer had to give their
// current password, whether it is right. A wrong current password fails
// like a sign-in, and counts against the sign-in throttle of the target's
// account (before: the stored user; nil when the throttle was already
// passed for this write), which is asked before any hash is compared.
func (s *Service) decidePassword(ctx context.Context, before *User, d *passwordDecision) error {
	var attempt *Attempt
	if d.checkCurrent && before != nil {
		wait, a, err := s.Throttle.Begin(ctx, s.Now(), accountKey(before.Email), ClientAddr(ctx))
		if err != nil {
			return err
		}
		if wait.Wait > 0 {
			e := Errorf(ERateLimited, "Too many failed sign-ins; try again later.")
			e.RetryAfter = int64(wait.Wait.Seconds() + 0.999)
			return e
		}
		attempt = a
	}
	var checkErr error
	if d.checkCurrent {
		d.currentOK, _, checkErr = s.verifyPassword(ctx, d.stored, d.current)
	}
	if attempt != nil {
		end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		switch {
		case checkErr != nil && !errors.Is(checkErr, errHashSpent):
			_ = attempt.Abandoned(end) // no slot (no hash spent), or the database: not the password's fault
		case d.currentOK:
			_ = attempt.Succeeded(end)
		} // a wrong one stays counted as a failure
	}
	if checkErr != nil {
		return checkErr
	}
	if d.checkCurrent && !d.currentOK {
		return errSignIn
	}
	if d.stored != "" {
		same, rehash, err := s.verifyPassword(ctx, d.stored, d.password)
		switch {
		case err != nil:
			return err
		case same && rehash == "":
			d.same = true
			return nil
		case same: // an imported (or outdated) hash of the same password: replaced like a new one
			d.hash = rehash
			return nil
		}
	}
	h, err := s.newHash(ctx, d.password)
	if err != nil {
		return err
	}
	d.hash = h
	return nil
}
