package usersvc

import "time"

// This file is the one authorization policy: who may do what to which
// user, and which fields of a change they may write. Every operation of
// both transports asks Authorize (through the Service), and every write
// asks authorizeFields with the change it computed, before any value is
// validated: a caller who may not touch a field hears 403 about it even
// when the value they sent is also invalid.
//
// The rules:
//   - An account acts only while usable: not deleted, not disabled, and
//     from ≤ now < expires (usable). Authentication and sign-in both ask.
//   - Admins may see and act on every user, deleted ones included.
//     Other callers see only themselves, and only while not deleted;
//     anyone else is "not found", exactly like an id that does not exist.
//   - Creating users and following every user's changes are for admins
//     (403 for others). Listing is for everyone, scoped to the caller's
//     own user for non-admins (listScope).
//   - Writes are judged on what they change, field by field (the field
//     table's Access), never on how the request spelled them.
//   - Groups are managed only by callers who may provision (mayProvision):
//     administrators.
//   - Restore is an ordinary write of deletedAt: admins only, and only
//     back to null; a non-deleted user's restore changes nothing.

// Authorize says whether actor may do action to target (nil for the
// actions on no one user: list, create, watchAll). Users the actor may not
// see are errUserNotFound; actions the actor may not take are EForbidden.
// Sign-in is asked with the account as both actor and target.
func Authorize(actor *User, action string, target *User, now time.Time) error {
	switch action {
	case ActionList:
		return nil
	case ActionCreate:
		if !actor.IsAdmin() {
			return Errorf(EForbidden, "Only administrators may create users.")
		}
		return nil
	case ActionImport, ActionExport:
		if !actor.IsAdmin() {
			return Errorf(EForbidden, "Only administrators may import or export users.")
		}
		return nil
	case ActionWatchAll:
		if !actor.IsAdmin() {
			return Errorf(EForbidden, "Only administrators may follow every user's changes.")
		}
		return nil
	case ActionLogin:
		return usable(target, now)
	}
	if target == nil || !(actor.IsAdmin() || actor.ID == target.ID && target.DeletedAt == nil) {
		return errUserNotFound
	}
	return nil
}

// mayProvision says whether actor may manage groups (read, create, change
// and delete them, and so, through the admin group, grant and take away
// the admin role): administrators. It is the one place that decides it; a
// provisioning-only credential would be admitted here.
func mayProvision(actor *User) error {
	if actor == nil || !actor.IsAdmin() {
		return Errorf(EForbidden, "Only administrators may manage groups.")
	}
	return nil
}

// listScope is the one user a listing is limited to, "" for all: non-admins
// list only themselves.
func listScope(actor *User) string {
	if actor.IsAdmin() {
		return ""
	}
	return actor.ID
}

// authorizeFields decides whether actor may turn before into d's user. It
// looks only at the difference between the two users, never at how the
// request spelled it, so every route to a field (PUT, any patch
// operation, GraphQL) is judged alike. A field the actor may not write
// whose value did not even decode counts as changed.
func authorizeFields(actor, before *User, d *draft) error {
	b, a := before.Document(), d.u.Document()
	for _, f := range fields {
		if mayWrite(actor, f) && f.Access != AdminUndelete {
			continue
		}
		// A write-only value (the password) is never in the document:
		// the draft carrying one is the change.
		sets := f.WriteOnly && d.password != nil
		if !sets && d.errs[f.Name] == nil && equalValues(f.value(b), f.value(a)) {
			continue
		}
		switch f.Access {
		case ReadOnly:
			return FieldErrorf(EForbidden, f.Name, "Field %q is read-only.", f.Name)
		case AdminUndelete:
			if !actor.IsAdmin() {
				return FieldErrorf(EForbidden, f.Name, "You may not change field %q.", f.Name)
			}
			if d.errs[f.Name] == nil && d.u.DeletedAt != nil {
				return FieldErrorf(EInvalid, f.Name, "Field \"deletedAt\" can only be set back to null; delete users with DELETE.")
			}
		default:
			return FieldErrorf(EForbidden, f.Name, "You may not change field %q.", f.Name)
		}
	}
	return nil
}

// AuthorizeChange is authorizeFields for a change already made: may actor
// turn before into after? (A password is not in a user; a change that
// sets one is authorized from its draft.)
func AuthorizeChange(actor, before, after *User) error {
	return authorizeFields(actor, before, &draft{u: after})
}

// mayWrite says whether actor may write field f of a user they can see.
func mayWrite(actor *User, f *Field) bool {
	switch f.Access {
	case SelfWritable:
		return true
	case AdminWritable, AdminUndelete:
		return actor.IsAdmin()
	}
	return false
}

// admits says whether a bearer token and its owner may act at now.
func admits(tok *Token, owner *User, now time.Time) error {
	if tok.Kind == KindAPIKey || !tokenLive(tok, now) {
		return errBadToken
	}
	return usable(owner, now)
}

// admits says whether a surface accepts a live token of a usable owner:
// REST and GraphQL accept every token but provisioning keys (ScopeSCIM),
// which reach only the SCIM service; the SCIM service accepts the tokens
// of administrators only, of either scope (it creates, changes and
// deletes users).
func (sf Surface) admits(tok *Token, owner *User) error {
	switch sf {
	case SurfaceSCIM:
		if !owner.IsAdmin() {
			return Errorf(EForbidden, "Only administrators may provision users over SCIM.")
		}
	default:
		if tok.Scope != ScopeAll {
			return Errorf(EForbidden, "This token is a SCIM provisioning key; it is accepted only by /scim/v2.")
		}
	}
	return nil
}

// mayOwn says whether u may own a token of scope: a provisioning key
// (ScopeSCIM) is an administrator's, as only they may provision.
func mayOwn(u *User, scope TokenScope) error {
	if scope == ScopeSCIM && !u.IsAdmin() {
		return FieldErrorf(EInvalid, "scope", "Only an administrator may own a SCIM provisioning key.")
	}
	return nil
}

func tokenLive(t *Token, now time.Time) bool {
	return !t.Revoked && (t.Expires == nil || now.Before(*t.Expires))
}

// usable says whether u may use the API at now, and if not, why.
func usable(u *User, now time.Time) error {
	switch accountState(u, now) {
	case stateDeleted:
		return Errorf(EForbidden, "This account has been deleted.")
	case stateDisabled:
		if u.DisabledMessage != nil && *u.DisabledMessage != "" {
			return &Error{Code: EForbidden, Message: *u.DisabledMessage}
		}
		return Errorf(EForbidden, "This account is disabled.")
	case stateNotYet:
		return Errorf(EForbidden, "This account is not active yet.")
	case stateExpired:
		return Errorf(EForbidden, "This account has expired.")
	}
	return nil
}

// Account states, as the command line's user list shows them.
const (
	stateActive   = "active"
	stateDeleted  = "deleted"
	stateDisabled = "disabled"
	stateNotYet   = "not active yet"
	stateExpired  = "expired"
)

// accountState says whether u can use the API at now, and if not, the
// first reason, in this order: deleted, disabled, not active yet, expired.
func accountState(u *User, now time.Time) string {
	switch {
	case u.DeletedAt != nil:
		return stateDeleted
	case u.Disabled:
		return stateDisabled
	case u.From != nil && now.Before(*u.From):
		return stateNotYet
	case u.Expires != nil && !now.Before(*u.Expires):
		return stateExpired
	}
	return stateActive
}

// AccountStatus says whether u can use the API now: "active", or why not
// ("deleted", "disabled", "not active yet", "expired"). The command line's
// user list shows it.
func (s *Service) AccountStatus(u *User) string { return accountState(u, s.now()) }

// activeAdmin reports whether u can act as an administrator at now: an
// admin who may use the API (not deleted, not disabled, from ≤ now <
// expires). Every way an admin stops being one counts: role, disabled,
// deletedAt, from and expires. Store.CountActiveAdmins uses the same notion.
// A write that turns the last active admin into anything else is refused
// (write.go).
func activeAdmin(u *User, now time.Time) bool { return u.IsAdmin() && usable(u, now) == nil }

// needsCurrentPassword says whether actor must give target's current
// password to change it: a user changing their own password (so that a
// stolen session cannot take the account over for good), unless they
// have none yet. Admins setting someone else's password need not; an
// admin's own change follows the rule for users only when they are not
// admins, as admins may reset any password anyway.
func needsCurrentPassword(actor, target *User) bool {
	return !actor.IsAdmin() && actor.ID == target.ID && target.PasswordHash != ""
}
