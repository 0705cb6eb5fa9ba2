package usersvc

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Groups: named sets of users, as identity providers provision them
// (SCIM 2.0). Only callers who may provision (mayProvision, policy.go)
// read or write them; a user's own groups are read with the user
// (UserGroups).
//
// The rules, each written once below or in groupwrite.go:
//   - displayName is required (1 to MaxGroupNameLen characters of text) and
//     unique case-insensitively (EConflict); externalId is optional text.
//   - Members are users' ids. Adding a member needs an existing user that
//     is not deleted (EInvalid naming the id); adding a member already in
//     the group, or removing one who is not, changes nothing.
//   - A group write is one transaction, guarded by the group's version (a
//     caller's ifVersion that is not the stored version is
//     EPreconditionFailed), and every user it touches gets a history entry
//     in it: group.join and group.leave when they join or leave,
//     group.rename when their group's displayName changes (each entry's
//     patch names the group by id and displayName). So the change log,
//     subscriptions and the token cache hear of group changes as of every
//     other change.
//   - The admin group (Service.AdminGroup, matched case-insensitively):
//     see groupadmin.go.
//   - A soft-deleted user's memberships are hidden, not dropped: no group
//     read lists a deleted user as a member, no group write sees or
//     changes the hidden membership, and a restore shows it again (unless
//     its group was deleted meanwhile). Deleting a user therefore needs no
//     group write.

// Group is a named set of users.
type Group struct {
	ID          string
	DisplayName string
	// ExternalID is the provisioning client's own id of the group.
	ExternalID *string
	// SCIM holds what an identity provider sent with the group that has
	// no field of its own (the display names it gave members), a JSON
	// object checked as a user's scim field is; nil when none. Never
	// changed in place.
	SCIM map[string]any
	// Members are the ids of the group's users that are not deleted, in id
	// order. nil when the caller may not see them (see UserGroups).
	Members []string
	// Version grows by one on every saved change of the group (its name,
	// externalId or members).
	Version           int64
	Created, Modified time.Time
}

// Clone returns a copy of g that shares nothing with it.
func (g *Group) Clone() *Group {
	c := *g
	if g.ExternalID != nil {
		v := *g.ExternalID
		c.ExternalID = &v
	}
	if g.Members != nil {
		c.Members = append([]string{}, g.Members...)
	}
	return &c
}

// GroupInput is a whole group: a create, or a replace (which sets the
// member list to exactly Members).
type GroupInput struct {
	DisplayName string
	ExternalID  *string
	Members     []string
	SCIM        map[string]any
}

// GroupChange is a partial change of a group; nil and empty fields change
// nothing. RemoveAllMembers runs first, then RemoveMembers, then
// AddMembers, so a change can replace the members too.
type GroupChange struct {
	DisplayName *string
	// ExternalID sets the externalId; a pointer to "" clears it.
	ExternalID       *string
	AddMembers       []string
	RemoveMembers    []string
	RemoveAllMembers bool
	// SetSCIM replaces the group's SCIM object with SCIM (nil: none).
	SetSCIM bool
	SCIM    map[string]any
}

// GroupFilter narrows a group list; nil fields do not filter.
type GroupFilter struct {
	// DisplayName matches exactly, case-insensitively.
	DisplayName *string
	// ExternalID matches exactly.
	ExternalID *string
	// ID matches exactly.
	ID *string
}

// GroupQuery asks for one page of groups in displayName order
// (case-insensitively, then id).
type GroupQuery struct {
	Filter GroupFilter
	// Offset is how many matching groups to skip (0 for the first page).
	Offset int64
	// Count is the page size, 0 to MaxPageSize (0: only the total); nil
	// for DefaultPageSize.
	Count *int64
}

// GroupPage is one page of groups and how many match the filter.
type GroupPage struct {
	Groups []*Group
	Total  int
}

// Group limits.
const (
	MaxGroupNameLen       = 200
	MaxGroupExternalIDLen = 200
	// MaxGroupChangeMembers bounds the member ids one write may name (a
	// replace's list, or a change's adds and removes together).
	MaxGroupChangeMembers = 1000
)

// Actions recorded in users' histories by group writes.
const (
	ActionGroupJoin   = "group.join"
	ActionGroupLeave  = "group.leave"
	ActionGroupRename = "group.rename"
)

// GroupNameKey is how displayNames compare: case-insensitively, after
// Unicode normalization (as emails do).
func GroupNameKey(name string) string { return EmailKey(name) }

// NewGroupID returns a fresh opaque group id: "grp-" and 16 base32
// characters.
func NewGroupID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "grp-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

var errGroupNotFound = Errorf(ENotFound, "Group not found.")

// CreateGroup creates a group with its members.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	return s.groupWrite(ctx, "", nil, func(before *Group) (*Group, error) {
		return decideReplace(&Group{ID: NewGroupID(), Members: []string{}}, in)
	})
}

// Group reads one group with its members.
func (s *Service) Group(ctx context.Context, id string) (*Group, error) {
	if err := s.mayProvision(ctx); err != nil {
		return nil, err
	}
	if !possibleID(id) {
		return nil, errGroupNotFound
	}
	g, err := s.store.Group(ctx, id, false)
	if ErrorCode(err) == ENotFound {
		return nil, errGroupNotFound
	}
	return g, err
}

// Groups lists one page of the groups matching q's filter, with the
// number of all of them.
func (s *Service) Groups(ctx context.Context, q GroupQuery) (*GroupPage, error) {
	if err := s.mayProvision(ctx); err != nil {
		return nil, err
	}
	if err := checkGroupQuery(&q); err != nil {
		return nil, err
	}
	groups, total, err := s.store.Groups(ctx, q)
	if err != nil {
		return nil, err
	}
	return &GroupPage{Groups: groups, Total: total}, nil
}

// checkGroupQuery refuses what no group can match and pages out of range,
// and sets the default page size.
func checkGroupQuery(q *GroupQuery) error {
	for _, t := range []struct {
		name string
		val  *string
	}{{"displayName", q.Filter.DisplayName}, {"externalId", q.Filter.ExternalID}, {"id", q.Filter.ID}} {
		if t.val != nil && !validText(*t.val) {
			return FieldErrorf(EInvalid, t.name, "Field %q must be valid text.", t.name)
		}
	}
	if q.Offset < 0 {
		return FieldErrorf(EInvalid, "offset", "The offset must not be negative.")
	}
	if q.Count == nil {
		n := int64(DefaultPageSize)
		q.Count = &n
	}
	if *q.Count < 0 || *q.Count > MaxPageSize {
		return FieldErrorf(EInvalid, "count", "The count must be between 0 and %d.", MaxPageSize)
	}
	return nil
}

// ReplaceGroup sets a group's displayName, externalId and whole member
// list. ifVersion, when set, must be the stored version.
func (s *Service) ReplaceGroup(ctx context.Context, id string, in GroupInput, ifVersion *int64) (*Group, error) {
	return s.groupWrite(ctx, id, ifVersion, func(before *Group) (*Group, error) {
		return decideReplace(before, in)
	})
}

// ModifyGroup applies a partial change. ifVersion, when set, must be the
// stored version.
func (s *Service) ModifyGroup(ctx context.Context, id string, c GroupChange, ifVersion *int64) (*Group, error) {
	return s.groupWrite(ctx, id, ifVersion, func(before *Group) (*Group, error) {
		return decideChange(before, c)
	})
}

// DeleteGroup deletes a group; its members leave it. ifVersion, when set,
// must be the stored version.
func (s *Service) DeleteGroup(ctx context.Context, id string, ifVersion *int64) error {
	_, err := s.groupWrite(ctx, id, ifVersion, func(*Group) (*Group, error) { return nil, nil })
	return err
}

// UserGroups lists the groups of a user, by displayName. Whoever may read
// the user may read their groups (admins, and users themselves); only
// callers who may provision see the groups' members.
func (s *Service) UserGroups(ctx context.Context, userID string) ([]*Group, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.target(ctx, s.store, actor, ActionRead, userID, false); err != nil {
		return nil, err
	}
	m, err := s.groupsOf(ctx, actor, []string{userID})
	if err != nil {
		return nil, err
	}
	return m[userID], nil
}

// groupsOf reads the groups of users in one statement, members shown to
// callers who may provision.
func (s *Service) groupsOf(ctx context.Context, actor *User, userIDs []string) (map[string][]*Group, error) {
	m, err := s.store.GroupsOfUsers(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	if mayProvision(actor) != nil {
		for _, gs := range m {
			for _, g := range gs {
				g.Members = nil
			}
		}
	}
	for _, id := range userIDs {
		if m[id] == nil {
			m[id] = []*Group{}
		}
	}
	return m, nil
}

// mayProvision asks the policy whether the caller may manage groups.
func (s *Service) mayProvision(ctx context.Context) error {
	actor, err := s.caller(ctx)
	if err != nil {
		return err
	}
	return mayProvision(actor)
}
