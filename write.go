package usersvc

import (
	"context"
	"time"
)

// The write path. Every write of a user, whatever the transport and
// whatever the change, runs the same steps:
//
//	fetch → authorize → decide (one pure step) → save (one path)
//
// fetch reads the stored user without a lock (for the caller's own user,
// first the user their token check loaded); authorize is the policy's
// (target, then the change's own field checks); decide turns the stored
// user and the change into an outcome with no I/O; save writes the
// outcome with Store.SaveUser, guarded by the version fetch read, so the
// decision was made on exactly the stored user, as under a lock. When
// the version moved, the whole step runs again on a fresh read; after
// optimisticAttempts misses it runs inside a transaction that reads the
// user locked, so a write on a busy user waits its turn instead of
// failing. A new password is compared and hashed before any of this
// holds a lock (bcrypt is slow), and decided again only if the stored
// hash moved meanwhile. After the commit, committed tells this process's
// token cache and subscriptions, and other processes through the change
// log.

// edit is what a change computed from the stored user.
type edit struct {
	after *User
	// password, when set, is a new password (already validated): it is
	// compared and hashed with no lock held, before the save.
	password *string
	// session, when set, is a session a sign-in issues with the change,
	// which is then saved and recorded even when no field moved.
	session *Token
	// apiKey is the key a session is exchanged for: it must still be live
	// when the session is saved (see save).
	apiKey *Token
	// hash, when set, is a password hash to store as it is (an imported
	// one, already parsed): a password change like any other.
	hash *string
	// rehash, when set, is the same password's new hash (a sign-in
	// upgrading an imported or outdated hash): recorded, but not a
	// password change (sessions stay).
	rehash *string
}

// change computes the edit a write would make. It is pure: it reads and
// writes no storage.
type change func(actor, before *User) (edit, error)

// outcome is what deciding a write gave: what save writes.
type outcome struct {
	// after is the user to save; nil when the write changes nothing.
	after *User
	// patch is the history entry's patch.
	patch []PatchOperation
	// endSessions: a new password or a delete ends sign-in sessions.
	endSessions bool
	// lastAdmin: the change takes an active admin away, so it is saved
	// only if another active admin remains (counted with their rows
	// locked, in save's transaction).
	lastAdmin bool
	session   *Token
	apiKey    *Token
}

// decide is the one decision of every write of an existing user: from the
// stored user, the change's edit and its password (decided with no lock
// held for exactly before's hash) to the outcome. It is pure.
func decide(before *User, e edit, pw *passwordDecision, now time.Time) outcome {
	after := e.after
	pwChanged := e.password != nil && !pw.same || e.hash != nil && *e.hash != before.PasswordHash
	// Each user is rendered once (after again only when modification
	// moves): the comparison and the history's patch read the documents.
	bd, ad := before.Document(), after.Document()
	changed := changedFields(bd, ad)
	if !pwChanged && len(changed) == 0 && e.session == nil {
		return outcome{}
	}
	switch {
	case e.hash != nil:
		after.PasswordHash = *e.hash
	case pwChanged:
		after.PasswordHash = pw.hash
	}
	if edited(changed, pwChanged) {
		after.Modification = now
		ad = after.Document()
	}
	patch := diffPatch(bd, ad, pwChanged)
	if e.rehash != nil && !pwChanged {
		after.PasswordHash = *e.rehash
		patch = append(patch, PatchOperation{"op": "replace", "path": "/password", "value": "password hash upgraded"})
	}
	return outcome{
		after:       after,
		patch:       patch,
		endSessions: pwChanged || before.DeletedAt == nil && after.DeletedAt != nil,
		lastAdmin:   activeAdmin(before, now) && !activeAdmin(after, now),
		session:     e.session,
		apiKey:      e.apiKey,
	}
}

// edited reports whether a change is an edit of the user, which moves
// modification: any field changed but lastLogin, which the service keeps.
func edited(changed []string, passwordChanged bool) bool {
	for _, f := range changed {
		if f != "lastLogin" {
			return true
		}
	}
	return passwordChanged
}

// MaxSessionsPerUser is how many live sign-in sessions a user keeps: a
// sign-in past it revokes the oldest (every sign-in made a session that
// nothing ever removed).
const MaxSessionsPerUser = 50

// Write attempts.
const (
	// optimisticAttempts is how many times a write decides on a read
	// without a lock before it reads the user locked.
	optimisticAttempts = 3
	// maxWriteAttempts bounds a write's attempts in all; a locked one
	// loses only to a password decided against a hash that moved
	// meanwhile (another password change), which maxPasswordDecisions
	// bounds apart.
	maxWriteAttempts     = 6
	maxPasswordDecisions = 8
)

var errLastAdmin = Errorf(EConflict, "The last active administrator cannot be demoted, disabled, deleted or made inactive.")

// write is the one write path for an existing user (see the top of this
// file). ifVersion, when set, must equal the stored version.
func (s *Service) write(ctx context.Context, id string, ifVersion *int64, action string, fn change) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	var pw *passwordDecision // decided with no lock held
	var failover primaryWait
	decisions := 0
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		locked := attempt >= optimisticAttempts
		var a attemptResult
		run := func(st Tx) (err error) {
			a, err = s.attempt(ctx, st, actor, id, ifVersion, action, fn, pw, attempt == 0, locked)
			return err
		}
		if locked {
			err = s.store.InTx(ctx, run)
		} else {
			err = run(s.store)
		}
		if a.decided != nil {
			pw = a.decided // hashed once per write, not once per attempt
		}
		if err != nil {
			if s.again(ctx, &failover, err) {
				attempt-- // the database applied nothing: run again (failover.go)
				continue
			}
			if outcomeUnknown(err) {
				s.committed(id, nil) // it may have committed: as after a commit, the user is forgotten
			}
			return nil, err
		}
		switch {
		case a.saved && (a.endedSessions || a.newSession):
			// The sessions' entries go with the user's (a new session may
			// have revoked the oldest).
			s.committed(id, nil)
			return a.user, nil
		case a.saved:
			s.committed(id, a.user)
			return a.user, nil
		case a.user != nil:
			return a.user, nil // nothing to change
		case a.password != nil && decisions < maxPasswordDecisions:
			// Under the lock the stored hash was another than the one
			// decided on: decide again, with no lock held, then again
			// (locked: this was not a lost race for the version).
			decisions++
			if err := s.decidePassword(ctx, nil, a.password); err != nil {
				return nil, err
			}
			pw = a.password
			attempt--
		}
	}
	return nil, Errorf(EConflict, "The user kept changing while this change was being saved; try again.")
}

// attemptResult is one attempt's end: saved (user is the saved user), no
// change (user is the stored user), or neither: run again, deciding
// password first when it is set.
type attemptResult struct {
	user          *User
	saved         bool
	endedSessions bool
	newSession    bool
	password      *passwordDecision
	// decided is the password decision this attempt made or used, kept
	// for the next attempt.
	decided *passwordDecision
}

// attempt is one fetch → authorize → decide → save on st (the pool, or a
// transaction when locked). useCached lets it start from the caller's
// token check; an answer other than a save is given only from a fresh
// read, never from that copy.
func (s *Service) attempt(ctx context.Context, st Tx, actor *User, id string, ifVersion *int64, action string, fn change, pw *passwordDecision, useCached, locked bool) (attemptResult, error) {
	before, cached, err := s.fetch(ctx, st, actor, action, id, useCached && !locked, locked)
	if err != nil {
		return attemptResult{}, readFailed(err)
	}
	retry := attemptResult{}
	if ifVersion != nil && *ifVersion != before.Version {
		if cached {
			return retry, nil
		}
		return retry, Errorf(EPreconditionFailed, "Precondition Failed")
	}
	e, err := fn(actor, before)
	if err != nil {
		if cached {
			return retry, nil
		}
		return retry, err
	}
	if e.password != nil {
		d := &passwordDecision{stored: before.PasswordHash, password: *e.password}
		if needsCurrentPassword(actor, before) {
			if d.current, d.checkCurrent = currentPassword(ctx); !d.checkCurrent {
				return retry, errCurrentPasswordMissing
			}
		}
		if !pw.holds(d) {
			if locked {
				return attemptResult{password: d}, nil // never hash under a lock
			}
			if err := s.decidePassword(ctx, before, d); err != nil {
				return retry, err
			}
			pw = d
		}
		// A retry (the version moved) keeps this decision: its hash stays
		// good while the stored hash and the passwords do not move (holds).
		retry.decided = pw
	}
	o := decide(before, e, pw, s.now())
	if o.after == nil {
		if cached {
			return retry, nil
		}
		return attemptResult{user: before}, nil
	}
	saved, err := s.save(ctx, st, actor, action, before, o)
	if err != nil || !saved {
		return retry, err
	}
	return attemptResult{user: o.after, saved: true, endedSessions: o.endSessions, newSession: o.session != nil}, nil
}

// fetch is the user a write starts from: when useCached, and the caller
// writes their own user, the user their token check loaded (cached), if
// the policy lets them act on it; otherwise a read (locked when lock),
// through target, which asks the policy.
func (s *Service) fetch(ctx context.Context, st Tx, actor *User, action, id string, useCached, lock bool) (_ *User, cached bool, _ error) {
	if p := PrincipalFrom(ctx); useCached && p != nil && p.Token != nil && p.User != nil && p.User.ID == id &&
		Authorize(actor, action, p.User, s.now()) == nil {
		return p.User, true, nil
	}
	u, err := s.target(ctx, st, actor, action, id, lock)
	return u, false, err
}

// save is the one path that writes a decided change of an existing user:
// the version moves here and only here, and the history entry is built
// (entry) and written with the
// change by Store.SaveUser, guarded by the version the decision was made
// on. It reports false when that version moved. A change that takes an
// active admin away, or a session exchanged for an API key, needs a
// transaction: the other admins (or the user, whose lock a key's
// revocation takes too) are locked and checked before the save.
func (s *Service) save(ctx context.Context, st Tx, actor *User, action string, before *User, o outcome) (saved bool, err error) {
	after := o.after
	after.Version = before.Version + 1
	now := s.now()
	w := &UserSave{User: after, Version: before.Version, Entry: s.entry(ctx, actor.ID, after.ID, action, o.patch),
		EndSessions: o.endSessions, Session: o.session, KeepSessions: MaxSessionsPerUser}
	if !o.lastAdmin && o.apiKey == nil {
		return st.SaveUser(ctx, w)
	}
	err = st.InTx(ctx, func(tx Tx) error {
		saved = false // InTx may run this again
		if o.lastAdmin {
			n, err := tx.CountActiveAdmins(ctx, before.ID, now, true)
			if err != nil {
				return err
			}
			if n == 0 {
				return errLastAdmin
			}
		}
		if o.apiKey != nil {
			// Under the user's row lock, which a key's revocation takes
			// too: a key revoked meanwhile issues no session.
			if _, err := tx.User(ctx, before.ID, true); err != nil {
				return err
			}
			k, err := tx.TokenByHash(ctx, o.apiKey.Hash)
			if err != nil && ErrorCode(err) != ENotFound {
				return err
			}
			if err != nil || !tokenLive(k, now) {
				return errSignIn
			}
		}
		saved, err = tx.SaveUser(ctx, w)
		return err
	})
	return saved, err
}

// committed follows every commit that changed a user (or whose outcome is
// unknown): this process's token cache takes the user's new state (or,
// when now is nil, forgets the user: sessions ended, or it may have
// changed), its subscriptions are told, and other processes hear of it
// through the change log.
func (s *Service) committed(id string, now *User) {
	if now == nil {
		s.auth.forget(id)
	} else {
		s.auth.refresh(now)
	}
	s.feed.publish(id)
	s.store.Announce()
}
