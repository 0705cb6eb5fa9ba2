package usersvc

import (
	"context"
	"errors"
	"time"
)

// Session is the answer to a successful sign-in.
type Session struct {
	Token   string
	Expires time.Time
}

var errSignIn = Errorf(EUnauthenticated, "Invalid API key or username.")

// Login exchanges a sign-in identifier (the user's userName when they
// have one, else their email: SignInKey) and password for a session token.
func (s *Service) Login(ctx context.Context, email, password string) (*Session, error) {
	return s.signIn(ctx, email, func(u *User) (signInCheck, error) {
		stored := ""
		if u != nil {
			stored = u.PasswordHash
		}
		ok, rehash, err := s.verifyPassword(ctx, stored, password)
		return signInCheck{ok: ok && u != nil, rehash: rehash}, err
	})
}

// LoginWithAPIKey exchanges an email and API key for a session token.
func (s *Service) LoginWithAPIKey(ctx context.Context, email, key string) (*Session, error) {
	return s.signIn(ctx, email, func(u *User) (signInCheck, error) {
		if !wellFormedSecret(key, APIKeyPrefix) {
			return signInCheck{}, nil
		}
		t, err := s.store.TokenByHash(ctx, HashToken(key))
		if err != nil || u == nil || t.Kind != KindAPIKey || t.UserID != u.ID || !tokenLive(t, s.now()) {
			return signInCheck{}, nil
		}
		if t.LastUsed == nil || s.now().Sub(*t.LastUsed) >= s.TokenTouchInterval {
			_ = s.store.TouchToken(ctx, t.ID, s.now()) // last use is informative; a failed write must not refuse the sign-in
		}
		return signInCheck{ok: true, apiKey: t}, nil
	})
}

// signInCheck is what checking a sign-in's secret found: whether it is
// right, the API key used (if any: the session remembers it, so that
// revoking the key ends the session), and a new password hash to store
// with the sign-in (an imported hash upgraded: see verifyPassword).
type signInCheck struct {
	ok     bool
	apiKey *Token
	rehash string
}

// signIn is both sign-in flows: one per request, throttle (see Throttle),
// look the user up, check the secret (always at the same cost), and on
// success issue a session, set lastLogin and record it. Every failure has
// the same message.
func (s *Service) signIn(ctx context.Context, email string, check func(u *User) (signInCheck, error)) (*Session, error) {
	if !firstSignIn(ctx) {
		return nil, Errorf(EInvalid, "Only one sign-in per request.")
	}
	tctx, sp := span(ctx, "usersvc.signin.throttle")
	d, attempt, err := s.Throttle.Begin(tctx, s.Now(), accountKey(email), ClientAddr(ctx))
	EndSpan(sp, err)
	if err != nil {
		return nil, err
	}
	if d.Wait > 0 {
		e := Errorf(ERateLimited, "Too many failed sign-ins; try again later.")
		e.RetryAfter = int64(d.Wait.Seconds() + 0.999)
		return nil, e
	}
	sess, err := s.signInChecked(ctx, email, check)
	// The attempt ends even when the request is done (a cancelled context
	// must not leave a success counted as a failure).
	end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	switch {
	case err == nil:
		_ = attempt.Succeeded(end) // a success is not refused for a bookkeeping failure
	case !errors.Is(err, errSignIn) && !errors.Is(err, errHashSpent):
		_ = attempt.Abandoned(end) // not the secret's fault, and no hash spent: it does not count
	}
	return sess, err
}

// accountKey is the throttle's key for an account: the email as it is
// looked up (a hash for anything too long to be one, or that a database
// text cannot hold).
func accountKey(email string) string {
	if len(email) > MaxEmailLen || !validText(email) {
		return "#" + HashToken(email)
	}
	return EmailKey(email)
}

// maxSignInChecks bounds how often one sign-in checks its password: once,
// and again each time the stored hash moved between its check and its
// save (another sign-in upgraded it, or the password changed).
const maxSignInChecks = 3

// errHashMoved is the save's answer when the stored password hash is no
// longer the one the secret was checked against.
// (A decision, not a failure: an *Error whose code says nothing was
// written.)
var errHashMoved = &Error{Code: EConflict, Message: "The user kept changing while this change was being saved; try again."}

// signInChecked is a sign-in the throttle let run. Every failure of the
// secret or the account is errSignIn.
func (s *Service) signInChecked(ctx context.Context, email string, check func(u *User) (signInCheck, error)) (*Session, error) {
	var u *User
	if len(email) <= MaxEmailLen && validText(email) {
		// The identifier is looked up as SignInKey spells keys: a userName
		// and an email are one namespace, so at most one user matches.
		found, err := s.store.UserBySignInKey(ctx, EmailKey(email))
		if err != nil && ErrorCode(err) != ENotFound {
			return nil, err
		}
		u = found
	}
	for checks := 1; ; checks++ {
		c, err := check(u)
		if err != nil {
			return nil, err
		}
		if !c.ok || Authorize(u, ActionLogin, u, s.now()) != nil {
			return nil, errSignIn
		}
		sess, moved, err := s.issueSession(ctx, u, c)
		if moved == nil {
			return sess, err
		}
		// The stored hash moved after the check: the secret is checked
		// again against the hash now stored (with no lock held), so that a
		// hash upgraded by a concurrent sign-in with the same password
		// still lets this one in, and a changed password does not.
		if checks == maxSignInChecks {
			return nil, Errorf(EConflict, "The user kept changing while this change was being saved; try again.")
		}
		u = moved
	}
}

// issueSession saves a checked sign-in: the session, lastLogin and an
// upgraded hash. moved is the stored user when its password hash is no
// longer the one c was checked against (nothing was saved).
func (s *Service) issueSession(ctx context.Context, u *User, c signInCheck) (_ *Session, moved *User, _ error) {
	key := c.apiKey
	// A successful sign-in is one of the user's requests: it counts
	// against their daily quota (API-key sign-ins cost no hashing, so
	// nothing else would bound the sessions and history entries they
	// make), and past it is refused like any other request.
	usage, quota, err := s.meter(ctx, u, s.now())
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckQuota(&Principal{User: u, Usage: usage, Quota: quota}); err != nil {
		return nil, nil, err
	}
	secret, err := newSecret(TokenPrefix)
	if err != nil {
		return nil, nil, Internal(err)
	}
	at := s.now()
	expires := at.Add(s.SessionTTL)
	sys := WithPrincipal(ctx, &Principal{User: u})
	_, err = s.write(sys, u.ID, nil, ActionLogin, func(actor, before *User) (edit, error) {
		// The secret was checked against u with no lock held; the save is
		// guarded by before's version. If the account may no longer act,
		// this sign-in issues nothing; if the password hash moved since
		// the check (a password change, which revoked every session, or
		// another sign-in's upgrade), nothing is saved and the secret is
		// checked again against the hash stored now (see signInChecked).
		if Authorize(before, ActionLogin, before, at) != nil {
			return edit{}, errSignIn
		}
		if key == nil && before.PasswordHash != u.PasswordHash {
			moved = before
			return edit{}, errHashMoved
		}
		moved = nil // an earlier attempt of this write may have seen it move
		session := &Token{UserID: u.ID, Kind: KindSession, Label: "sign-in", Hash: HashToken(secret), Created: at, Expires: &expires}
		if key != nil {
			session.APIKeyID = &key.ID // checked live again when saved (see save)
		}
		after := before.Clone()
		after.LastLogin = &at
		e := edit{after: after, session: session, apiKey: key}
		if c.rehash != "" {
			e.rehash = &c.rehash
		}
		// Recorded even when lastLogin did not move (two sign-ins within the
		// clock's resolution): a session was issued.
		return e, nil
	})
	switch c := ErrorCode(err); {
	case errors.Is(err, errHashMoved):
		return nil, moved, nil
	case c == ENotFound || c == EForbidden:
		return nil, nil, errSignIn // deleted or barred meanwhile: no different answer
	case err != nil:
		return nil, nil, err
	}
	return &Session{Token: secret, Expires: expires}, nil, nil
}
