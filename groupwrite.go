package usersvc

import (
	"context"
	"slices"
	"strings"
)

// The write path of a group. Every group write, create to delete, runs
// the same steps in one transaction:
//
//	authorize → fetch (locked) → check ifVersion → decide (pure) →
//	check new members → save the group (guarded by its version) →
//	the touched users' entries and roles (through the user write path)
//
// so a membership change and what it does to users commit together or
// not at all, and two writes of one group take turns on its row (neither
// loses the other's members). After the commit every touched user is
// told to this process's token cache and subscriptions, and other
// processes hear of them from their history entries.

// groupDecision turns the stored group (nil for a create) into the group
// to store (nil to delete it). It is pure.
type groupDecision func(before *Group) (*Group, error)

// decideReplace is a create's or a replace's group: before with in's
// displayName, externalId and exactly in's members.
func decideReplace(before *Group, in GroupInput) (*Group, error) {
	if len(in.Members) > MaxGroupChangeMembers {
		return nil, FieldErrorf(EInvalid, "members", "At most %d members may be named in one change.", MaxGroupChangeMembers)
	}
	after := before.Clone()
	after.DisplayName = in.DisplayName
	after.ExternalID = in.ExternalID
	after.SCIM = in.SCIM
	after.Members = memberSet(in.Members)
	return after, validateGroup(after)
}

// decideChange is a partial change's group (see GroupChange).
func decideChange(before *Group, c GroupChange) (*Group, error) {
	if len(c.AddMembers)+len(c.RemoveMembers) > MaxGroupChangeMembers {
		return nil, FieldErrorf(EInvalid, "members", "At most %d members may be named in one change.", MaxGroupChangeMembers)
	}
	after := before.Clone()
	if c.DisplayName != nil {
		after.DisplayName = *c.DisplayName
	}
	if c.ExternalID != nil {
		after.ExternalID = c.ExternalID
		if *c.ExternalID == "" {
			after.ExternalID = nil
		}
	}
	if c.SetSCIM {
		after.SCIM = c.SCIM
	}
	if c.RemoveAllMembers {
		after.Members = []string{}
	}
	after.Members = slices.DeleteFunc(after.Members, func(id string) bool { return slices.Contains(c.RemoveMembers, id) })
	after.Members = memberSet(append(after.Members, c.AddMembers...))
	return after, validateGroup(after)
}

// memberSet is ids sorted, without repeats, never nil.
func memberSet(ids []string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return slices.Compact(out)
}

// validateGroup checks a group's values (not its members' existence,
// which needs the store: see checkNewMembers).
func validateGroup(g *Group) error {
	if strings.TrimSpace(g.DisplayName) == "" {
		return FieldErrorf(EInvalid, "displayName", "Field %q is required.", "displayName")
	}
	if err := checkText("displayName", g.DisplayName, MaxGroupNameLen); err != nil {
		return err
	}
	if err := checkVisible("displayName", g.DisplayName); err != nil {
		return err
	}
	if g.ExternalID != nil {
		if err := checkText("externalId", *g.ExternalID, MaxGroupExternalIDLen); err != nil {
			return err
		}
	}
	if len(g.SCIM) == 0 {
		g.SCIM = nil
	}
	if err := checkSCIMObject(g.SCIM); err != nil {
		return err
	}
	for _, id := range g.Members {
		if !possibleID(id) {
			return FieldErrorf(EInvalid, "members", "User %q does not exist or is deleted.", id)
		}
	}
	return nil
}

// membersDiff is who joins and who leaves when before's members become
// after's (nil before: none; nil after: all leave).
func membersDiff(before, after *Group) (joined, left []string) {
	var b, a []string
	if before != nil {
		b = before.Members
	}
	if after != nil {
		a = after.Members
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			joined = append(joined, id)
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			left = append(left, id)
		}
	}
	return joined, left
}

// sameGroup reports whether a write changes nothing.
func sameGroup(a, b *Group) bool {
	return a.DisplayName == b.DisplayName && equalValues(a.ExternalID, b.ExternalID) && slices.Equal(a.Members, b.Members) &&
		equalValues(a.SCIM, b.SCIM)
}

var errGroupKeptChanging = Errorf(EConflict, "The group kept changing while this change was being saved; try again.")

// groupWrite is the one write path of a group (see the top of this file).
// id "" creates; ifVersion, when set, must be the stored version.
func (s *Service) groupWrite(ctx context.Context, id string, ifVersion *int64, decide groupDecision) (*Group, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := mayProvision(actor); err != nil {
		return nil, err
	}
	if id != "" && !possibleID(id) {
		return nil, errGroupNotFound
	}
	var result *Group
	var touched []string
	err = s.store.InTx(ctx, func(tx Tx) (err error) {
		result, touched = nil, nil // InTx may run this again
		var before *Group
		if id != "" {
			if before, err = tx.Group(ctx, id, true); err != nil {
				if ErrorCode(err) == ENotFound {
					return errGroupNotFound
				}
				return err
			}
			if ifVersion != nil && *ifVersion != before.Version {
				return Errorf(EPreconditionFailed, "Precondition Failed")
			}
		}
		after, err := decide(before)
		if err != nil {
			return err
		}
		if before != nil && after != nil && sameGroup(before, after) {
			result = before
			return nil
		}
		joined, left := membersDiff(before, after)
		if err := checkNewMembers(ctx, tx, joined); err != nil {
			return err
		}
		w := s.groupSave(before, after, joined, left)
		saved, err := tx.SaveGroup(ctx, w)
		if err != nil || !saved {
			if err == nil {
				err = errGroupKeptChanging
			}
			return err
		}
		if touched, err = s.membersChanged(ctx, tx, actor, before, after, joined, left); err != nil {
			return err
		}
		result = after
		return nil
	})
	if err != nil {
		if outcomeUnknown(err) {
			for _, uid := range touched {
				s.committed(uid, nil)
			}
		}
		return nil, err
	}
	for _, uid := range touched {
		s.committed(uid, nil)
	}
	return result, nil
}

// groupSave is the save of a decided group write: the version moves here
// and only here.
func (s *Service) groupSave(before, after *Group, joined, left []string) *GroupSave {
	now := s.now()
	switch {
	case before == nil:
		after.Version, after.Created, after.Modified = 1, now, now
		return &GroupSave{Group: after, Create: true, Join: joined}
	case after == nil:
		return &GroupSave{Group: before, Delete: true, Version: before.Version, Leave: left}
	}
	after.Version, after.Modified = before.Version+1, now
	return &GroupSave{Group: after, Version: before.Version, Join: joined, Leave: left}
}

// checkNewMembers refuses members who are not users, or are deleted: one
// read for all of them.
func checkNewMembers(ctx context.Context, tx Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	users, err := tx.UsersByID(ctx, ids, false)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, u := range users {
		live[u.ID] = u.DeletedAt == nil
	}
	for _, id := range ids {
		if !live[id] {
			return FieldErrorf(EInvalid, "members", "User %q does not exist or is deleted.", id)
		}
	}
	return nil
}
