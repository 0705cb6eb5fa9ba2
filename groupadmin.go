package usersvc

import (
	"cmp"
	"context"
	"slices"
)

// What a group write does to its users: a history entry for each touched
// user, and, for the admin group, their role.
//
// The admin group is the group whose displayName is Service.AdminGroup
// (case-insensitively; "" turns it off). Its rules:
//   - Joining it makes a user an admin; leaving it makes them a plain
//     user and ends their sign-in sessions. Leaving is any way out:
//     removed, the member list replaced, the group deleted, or renamed to
//     another name (and renaming a group to the admin group's name
//     promotes its members). The role change is saved through the user
//     write path (decide, save) in the group write's transaction, and its
//     history entry is the group.join, group.leave or group.rename entry,
//     with the role's change in its patch.
//   - Whoever leaves is demoted, however they became an admin (an admin
//     made so with a role write who joins and then leaves the admin group
//     is a plain user after). A user who never was a member is never
//     demoted by a group write. Joining when already an admin changes no
//     role.
//   - The last-admin rule holds: a group write that would leave no active
//     admin is refused as a whole (errLastAdmin), nothing of it saved.
//     Promotions are saved before demotions, so a write that hands the
//     admin group from one admin to another is allowed.
//   - Setting Service.AdminGroup changes no role by itself: the rules apply
//     at membership changes. Every process must be given the same name.

// isAdminGroup reports whether g is the admin group.
func (s *Service) isAdminGroup(g *Group) bool {
	return g != nil && s.AdminGroup != "" && GroupNameKey(g.DisplayName) == GroupNameKey(s.AdminGroup)
}

// memberEffect is what a group write does to one user.
type memberEffect struct {
	action string
	op     PatchOperation
	// role, when set, is the user's role after (the admin group's rule).
	role Role
}

// memberEffects decides, for every user a group write touches, its entry
// and role change. It is pure.
func (s *Service) memberEffects(before, after *Group, joined, left []string) map[string]memberEffect {
	wasAdmin, isAdmin := s.isAdminGroup(before), s.isAdminGroup(after)
	out := map[string]memberEffect{}
	groupOp := func(op string, g *Group) PatchOperation {
		return PatchOperation{"op": op, "path": "/groups/" + g.ID, "value": map[string]any{"id": g.ID, "displayName": g.DisplayName}}
	}
	for _, id := range joined {
		e := memberEffect{action: ActionGroupJoin, op: groupOp("add", after)}
		if isAdmin {
			e.role = RoleAdmin
		}
		out[id] = e
	}
	for _, id := range left {
		e := memberEffect{action: ActionGroupLeave, op: groupOp("remove", before)}
		if wasAdmin {
			e.role = RoleUser
		}
		out[id] = e
	}
	if before != nil && after != nil && before.DisplayName != after.DisplayName {
		for _, id := range after.Members {
			if _, ok := out[id]; ok {
				continue
			}
			e := memberEffect{action: ActionGroupRename, op: groupOp("replace", after)}
			switch {
			case isAdmin && !wasAdmin:
				e.role = RoleAdmin
			case wasAdmin && !isAdmin:
				e.role = RoleUser
			}
			out[id] = e
		}
	}
	return out
}

// membersChanged writes, in tx, each touched user's history entry, and
// saves their role change through the user write path (decide, save: the
// version moves, the last-admin rule is checked). Promotions go first,
// then everyone else, each in id order. It returns the users touched.
func (s *Service) membersChanged(ctx context.Context, tx Tx, actor *User, before, after *Group, joined, left []string) ([]string, error) {
	effects := s.memberEffects(before, after, joined, left)
	ids := make([]string, 0, len(effects))
	for id := range effects {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		pa, pb := effects[a].role == RoleAdmin, effects[b].role == RoleAdmin
		switch {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		}
		return cmp.Compare(a, b)
	})
	var touched []string
	for _, id := range ids {
		e := effects[id]
		if err := s.memberChanged(ctx, tx, actor, id, e); err != nil {
			return touched, err
		}
		touched = append(touched, id)
	}
	return touched, nil
}

// memberChanged records one user's effect: an entry alone, or, when their
// role moves, a save of the user with the entry.
func (s *Service) memberChanged(ctx context.Context, tx Tx, actor *User, id string, e memberEffect) error {
	if e.role == "" {
		return tx.AppendAudit(ctx, s.entry(ctx, actor.ID, id, e.action, []PatchOperation{e.op}))
	}
	u, err := tx.User(ctx, id, true)
	if err != nil {
		return err
	}
	if u.Role == e.role {
		return tx.AppendAudit(ctx, s.entry(ctx, actor.ID, id, e.action, []PatchOperation{e.op}))
	}
	after := u.Clone()
	after.Role = e.role
	o := decide(u, edit{after: after}, nil, s.now())
	o.patch = append(o.patch, e.op)
	// A demotion ends the user's sessions, as a password change does.
	o.endSessions = o.endSessions || e.role != RoleAdmin
	saved, err := s.save(ctx, tx, actor, e.action, u, o)
	if err == nil && !saved {
		err = errGroupKeptChanging
	}
	return err
}
