package usersvc

import (
	"context"
	"errors"

	"golang.org/x/crypto/bcrypt"

	"usersvc/jsonpatch"
)

// Audit actions.
const (
	ActionCreate       = "create"
	ActionReplace      = "replace"
	ActionPatch        = "patch"
	ActionDelete       = "delete"
	ActionRestore      = "restore"
	ActionLogin        = "login"
	ActionAPIKeyCreate = "apiKey.create"
	ActionAPIKeyRevoke = "apiKey.revoke"
	ActionTokenCreate  = "token.create"
)

// edit is what a change computed.
type edit struct {
	after *User
	// password, when set, is a new password (already validated): it is
	// hashed only once the change is authorized and will be saved.
	password *string
	// effect says the change did something besides the user's fields (a
	// sign-in issued a session), so it is saved and recorded even when no
	// field moved.
	effect bool
}

// change computes the edit a write would make.
type change func(tx Store, actor, before *User) (edit, error)

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

// write is the one write path for an existing user: in one transaction it
// reads the user fresh (locked), checks the caller may see it and the
// precondition, computes the change, applies the rules every write obeys
// (the last active admin stays), saves when anything changed, records the
// history entry, and revokes sign-in sessions when the password changed or
// the user was deleted (a restore does not bring them back).
//
// A change that carries a password is decided outside the lock: the first
// transaction stops once the change is authorized, the password is compared
// with the stored hash (and hashed when it differs) with no lock held, and
// the write runs again. Re-sending the stored password is no change.
func (s *Service) write(ctx context.Context, id string, ifVersion *int64, action string, fn change) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	var result *User
	var endSessions, saved bool // read after the commit
	var pw *passwordDecision    // decided outside the lock
	for {
		var undecided *passwordDecision
		err = s.Store.InTx(ctx, func(tx Store) error {
			before, err := s.target(ctx, tx, actor, action, id, true)
			if err != nil {
				return err
			}
			if ifVersion != nil && *ifVersion != before.Version {
				return Errorf(EPreconditionFailed, "Precondition Failed")
			}
			e, err := fn(tx, actor, before)
			if err != nil {
				return err
			}
			if e.password != nil {
				if !pw.holds(before.PasswordHash, *e.password) {
					if pw == nil { // first pass: decide with no lock held, then again
						undecided = &passwordDecision{stored: before.PasswordHash, password: *e.password}
						return errDecidePassword
					}
					// The stored hash moved in between (rare): decide under the lock.
					pw = &passwordDecision{stored: before.PasswordHash, password: *e.password}
					if err := pw.decide(s.BcryptCost); err != nil {
						return err
					}
				}
				if pw.same {
					e.password = nil
				}
			}
			after := e.after
			pwChanged := e.password != nil
			endSessions = pwChanged || before.DeletedAt == nil && after.DeletedAt != nil
			changed := ChangedFields(before, after)
			if !pwChanged && len(changed) == 0 && !e.effect {
				result = before
				return nil
			}
			if now := s.now(); activeAdmin(before, now) && !activeAdmin(after, now) {
				n, err := tx.CountActiveAdmins(ctx, before.ID, now, true)
				if err != nil {
					return err
				}
				if n == 0 {
					return Errorf(EConflict, "The last active administrator cannot be demoted, disabled, deleted or made inactive.")
				}
			}
			if pwChanged {
				after.PasswordHash = pw.hash
			}
			after.Version = before.Version + 1
			if edited(changed, pwChanged) {
				after.Modification = s.now()
			}
			if err := tx.UpdateUser(ctx, after); err != nil {
				return err
			}
			if endSessions {
				if err := tx.RevokeTokens(ctx, after.ID, KindSession); err != nil {
					return err
				}
			}
			if err := s.audit(ctx, tx, actor.ID, after.ID, action, DiffPatch(before, after, pwChanged)); err != nil {
				return err
			}
			if err := tx.NotifyUserChanged(ctx, after.ID); err != nil {
				return err
			}
			result, saved = after, true
			return nil
		})
		if !errors.Is(err, errDecidePassword) || undecided == nil {
			break
		}
		if err := undecided.decide(s.BcryptCost); err != nil {
			return nil, err
		}
		pw = undecided
	}
	if err != nil {
		if outcomeUnknown(err) {
			// It may have committed (the answer was lost): forget the user
			// here too. Other processes hear the notice if it committed;
			// this one ignores its own notices.
			s.auth.forget(id)
		}
		return nil, err
	}
	if !saved {
		return result, nil
	}
	// After the commit, so no request re-caches the old state. A password
	// change or a delete revoked sessions: drop the user's entries;
	// otherwise the new state replaces the cached one.
	if endSessions {
		s.auth.forget(id)
	} else {
		s.auth.refresh(result)
	}
	s.feed.publish(id)
	return result, nil
}

// holds reports whether d was decided for this stored hash and password.
func (d *passwordDecision) holds(stored, password string) bool {
	return d != nil && d.stored == stored && d.password == password
}

func (d *passwordDecision) decide(cost int) error {
	d.same = d.stored != "" && bcrypt.CompareHashAndPassword([]byte(d.stored), []byte(d.password)) == nil
	if d.same {
		return nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(d.password), cost)
	if err != nil {
		return Internal(err)
	}
	d.hash = string(h)
	return nil
}

// fromDocument is the change of PUT and of both patch formats: decode the
// new document over the stored user, authorize what it changes, then
// validate it (authorization first: see policy.go).
func (s *Service) fromDocument(build func(before *User) (any, error)) change {
	return func(tx Store, actor, before *User) (edit, error) {
		doc, err := build(before)
		if err != nil {
			return edit{}, err
		}
		d, err := decodeBody(doc, before, actor.IsAdmin())
		if err != nil {
			return edit{}, err
		}
		if err := authorizeFields(actor, before, d); err != nil {
			return edit{}, err
		}
		if d.err != nil {
			return edit{}, d.err
		}
		if d.id != nil && *d.id != before.ID {
			return edit{}, FieldErrorf(EInvalid, "id", "The id in the body does not match the id in the path.")
		}
		if err := validateUser(d); err != nil {
			return edit{}, err
		}
		return edit{after: d.u, password: d.password}, nil
	}
}

// validateUser checks a decoded user and its new password, if any.
func validateUser(d *draft) error {
	if err := Validate(d.u); err != nil {
		return err
	}
	if d.password != nil {
		return ValidatePassword(*d.password)
	}
	return nil
}

// ReplaceUser is the full replace (PUT, updateUser). body is a generic JSON
// object. ifVersion, when set, must equal the stored version.
func (s *Service) ReplaceUser(ctx context.Context, id string, body any, ifVersion *int64) (*User, error) {
	return s.write(ctx, id, ifVersion, ActionReplace, s.fromDocument(func(*User) (any, error) { return body, nil }))
}

// PatchUser applies an RFC 6902 JSON Patch (a generic JSON array) to the
// user's public document and saves the result through the replace path.
func (s *Service) PatchUser(ctx context.Context, id string, patch any, ifVersion *int64) (*User, error) {
	ops, err := jsonpatch.ParsePatch(patch)
	if err != nil {
		return nil, JSONError(err)
	}
	if len(ops) == 0 {
		return nil, Errorf(EInvalid, "The patch is empty.")
	}
	return s.write(ctx, id, ifVersion, ActionPatch, s.fromDocument(func(before *User) (any, error) {
		doc, err := before.documentMap()
		if err != nil {
			return nil, Internal(err)
		}
		out, err := jsonpatch.Apply(doc, ops)
		return out, JSONError(err)
	}))
}

// MergePatchUser applies an RFC 7396 merge patch, then the replace path.
func (s *Service) MergePatchUser(ctx context.Context, id string, patch any, ifVersion *int64) (*User, error) {
	if m, ok := patch.(map[string]any); !ok || len(m) == 0 {
		return nil, Errorf(EInvalid, "The patch is empty.")
	}
	return s.write(ctx, id, ifVersion, ActionPatch, s.fromDocument(func(before *User) (any, error) {
		doc, err := before.documentMap()
		if err != nil {
			return nil, Internal(err)
		}
		return jsonpatch.ApplyMerge(doc, patch), nil
	}))
}

// DeleteUser soft-deletes a user: admins delete anyone, users themselves.
// The user's tokens stop working at once (authentication refuses deleted
// owners) and their sign-in sessions are revoked, so a restore does not
// revive them; operator tokens and API keys work again after a restore.
// Deleting a deleted user changes nothing.
func (s *Service) DeleteUser(ctx context.Context, id string) (*User, error) {
	return s.write(ctx, id, nil, ActionDelete, func(tx Store, actor, before *User) (edit, error) {
		after := before.Clone()
		if after.DeletedAt == nil {
			now := s.now()
			after.DeletedAt = &now
		}
		return edit{after: after}, nil
	})
}

// RestoreUser un-deletes a user. Admins only.
func (s *Service) RestoreUser(ctx context.Context, id string) (*User, error) {
	return s.write(ctx, id, nil, ActionRestore, func(tx Store, actor, before *User) (edit, error) {
		d := &draft{u: before.Clone()}
		d.u.DeletedAt = nil
		return edit{after: d.u}, authorizeFields(actor, before, d)
	})
}

// NewUserInput is what the command line's user create takes.
type NewUserInput struct {
	Name, Email, Country, TimeZone string
	Role                           Role
	Password                       *string
}

// Document returns the input as a create body.
func (in NewUserInput) Document() map[string]any {
	doc := map[string]any{"name": in.Name, "email": in.Email, "country": in.Country, "timeZone": in.TimeZone}
	if in.Role != "" {
		doc["role"] = string(in.Role)
	}
	if in.Password != nil {
		doc["password"] = *in.Password
	}
	return doc
}

// CreateUser creates a user from a body with the fields and rules of a
// full replace (password optional; role defaults to user; a deletedAt or
// id in the body is ignored). Admins only.
func (s *Service) CreateUser(ctx context.Context, body any) (*User, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := Authorize(actor, ActionCreate, nil, now); err != nil {
		return nil, err
	}
	blank := &User{ID: NewUserID(), Role: RoleUser, Tags: map[string]string{}, Privileges: []string{},
		Creation: now, Modification: now, Version: 1}
	d, err := decodeBody(body, blank, true)
	if err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, d.err
	}
	u := d.u
	u.DeletedAt = nil // ignored on create, like the id
	if err := validateUser(d); err != nil {
		return nil, err
	}
	if d.password != nil {
		if err := s.hashPassword(u, *d.password); err != nil {
			return nil, err
		}
	}
	err = s.Store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor.ID, u.ID, ActionCreate, DiffPatch(nil, u, d.password != nil)); err != nil {
			return err
		}
		return tx.NotifyUserChanged(ctx, u.ID) // for other processes' subscriptions
	})
	if err != nil {
		return nil, err
	}
	s.feed.publish(u.ID)
	return u, nil
}
