package usersvc

import (
	"context"
	"errors"
	"time"

	"usersvc/jsonpatch"
)

// The writes of a user, each a change run by the one write path (write.go),
// and the create.

// fromDocument is the change of PUT and of both patch formats: decode the
// new document over the stored user, then fromDraft.
func (s *Service) fromDocument(build func(before *User) (any, error)) change {
	return fromDraft(func(actor, before *User) (*draft, error) {
		doc, err := build(before)
		if err != nil {
			return nil, err
		}
		return decodeBody(doc, before, actor.IsAdmin())
	})
}

// fromDraft turns a draft of the new user into the change: authorize what
// it changes, then validate it (authorization first: see policy.go).
func fromDraft(build func(actor, before *User) (*draft, error)) change {
	return func(actor, before *User) (edit, error) {
		d, err := build(actor, before)
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
// A patch that only sets top-level plain fields skips rendering the
// document (plainPatch); the outcome is the same.
func (s *Service) PatchUser(ctx context.Context, id string, patch any, ifVersion *int64) (*User, error) {
	ops, err := jsonpatch.ParsePatch(patch)
	if err != nil {
		return nil, JSONError(err)
	}
	if len(ops) == 0 {
		return nil, Errorf(EInvalid, "The patch is empty.")
	}
	return s.write(ctx, id, ifVersion, ActionPatch, fromDraft(func(actor, before *User) (*draft, error) {
		if d := plainPatch(ops, before); d != nil {
			return d, nil
		}
		doc, err := before.documentMap()
		if err != nil {
			return nil, Internal(err)
		}
		out, err := jsonpatch.Apply(doc, ops)
		if err != nil {
			return nil, JSONError(err)
		}
		return decodeBody(out, before, actor.IsAdmin())
	}))
}

// ReviseUser is a write whose new document another format computes from
// the stored user (a SCIM PUT or PATCH): revise gets the stored user and
// its document, edits the document (or refuses with an error), and the
// result is decoded over the stored user as a replace, then authorized,
// validated and saved like any other write (action names it in the
// history: ActionReplace or ActionPatch). revise runs inside the write,
// on exactly the user the save is guarded by, so it must be pure.
func (s *Service) ReviseUser(ctx context.Context, id string, ifVersion *int64, action string, revise func(before *User, doc map[string]any) error) (*User, error) {
	if action != ActionReplace && action != ActionPatch {
		return nil, Internal(errors.New("ReviseUser: action " + action))
	}
	return s.write(ctx, id, ifVersion, action, fromDraft(func(actor, before *User) (*draft, error) {
		doc, err := before.documentMap()
		if err != nil {
			return nil, Internal(err)
		}
		if err := revise(before, doc); err != nil {
			return nil, err
		}
		return decodeBody(doc, before, actor.IsAdmin())
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
	return s.DeleteUserIf(ctx, id, nil, nil)
}

// DeleteUserIf is DeleteUser guarded by the stored version (ifVersion,
// when set) and by check, when set, which may refuse the stored user
// (SCIM deletes only users it lists: Provisioned).
func (s *Service) DeleteUserIf(ctx context.Context, id string, ifVersion *int64, check func(before *User) error) (*User, error) {
	return s.write(ctx, id, ifVersion, ActionDelete, func(actor, before *User) (edit, error) {
		if check != nil {
			if err := check(before); err != nil {
				return edit{}, err
			}
		}
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
	return s.write(ctx, id, nil, ActionRestore, func(actor, before *User) (edit, error) {
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
	u, password, err := decideCreate(body, NewUserID(), now)
	if err != nil {
		return nil, err
	}
	if password != nil {
		if err := s.hashPassword(ctx, u, *password); err != nil {
			return nil, err
		}
	}
	w := &UserSave{User: u, Create: true, Entry: s.entry(ctx, actor.ID, u.ID, ActionCreate, DiffPatch(nil, u, password != nil))}
	var failover primaryWait
	for {
		_, err := s.store.SaveUser(ctx, w)
		if err == nil {
			break
		}
		if !s.again(ctx, &failover, err) { // failover.go
			return nil, err
		}
	}
	s.committed(u.ID, u)
	return u, nil
}

// decideCreate is a create's decision (pure): body decoded over a blank
// user with id, created at now, and checked as every create is (the
// fields' decoding, then validation). It returns the user and the
// password the body gave in clear, if any, still to be hashed. CreateUser
// and an import line (ParseImportLine) both decide so.
func decideCreate(body any, id string, now time.Time) (*User, *string, error) {
	blank := &User{ID: id, Role: RoleUser, Tags: map[string]string{}, Privileges: []string{},
		Creation: now, Modification: now, Version: 1}
	d, err := decodeBody(body, blank, true)
	if err != nil {
		return nil, nil, err
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	u := d.u
	u.DeletedAt = nil // ignored on create, like the id
	if err := validateUser(d); err != nil {
		return nil, nil, err
	}
	return u, d.password, nil
}
