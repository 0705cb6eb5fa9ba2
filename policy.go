package usersvc

import "time"

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
func activeAdmin(u *User, now time.Time) bool { return u.IsAdmin() && usable(u, now) == nil }

// CanView reports whether actor may see target. Non-admins see only
// themselves; everything else answers as if it did not exist.
func CanView(actor, target *User) bool {
	return actor.IsAdmin() || (actor.ID == target.ID && target.DeletedAt == nil)
}

// AuthorizeChange decides whether actor may turn before into after. It looks
// only at the difference between the two users, never at how the request
// spelled it, so every route to a field (PUT, any patch operation, GraphQL)
// is judged alike.
func AuthorizeChange(actor, before, after *User, passwordChanged bool) error {
	changed := ChangedFields(before, after)
	if passwordChanged {
		changed = append(changed, "password")
	}
	for _, f := range changed {
		switch FieldAccess[f] {
		case SelfWritable:
		case AdminWritable:
			if !actor.IsAdmin() {
				return FieldErrorf(EForbidden, f, "You may not change field %q.", f)
			}
		case AdminUndelete:
			if !actor.IsAdmin() {
				return FieldErrorf(EForbidden, f, "You may not change field %q.", f)
			}
			if after.DeletedAt != nil {
				return FieldErrorf(EInvalid, f, "Field \"deletedAt\" can only be set back to null; delete users with DELETE.")
			}
		default:
			return FieldErrorf(EForbidden, f, "Field %q is read-only.", f)
		}
	}
	return nil
}
