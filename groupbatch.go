package usersvc

import (
	"context"
	"sync"
)

// GroupBatch reads the groups of a page of users together: the first
// UserGroups of any of its users reads the groups of every user of the
// batch the caller may read, in one statement, and later calls are
// answered from it (a GraphQL users page selecting groups costs one
// statement, not one per user). A batch lives as long as the request
// that listed the users; the users are as that list read them.
type GroupBatch struct {
	s      *Service
	users  map[string]*User
	once   sync.Once
	groups map[string][]*Group
	err    error
}

// GroupBatch starts a batch for a page of users.
func (s *Service) GroupBatch(users []*User) *GroupBatch {
	b := &GroupBatch{s: s, users: make(map[string]*User, len(users))}
	for _, u := range users {
		b.users[u.ID] = u
	}
	return b
}

// UserGroups is Service.UserGroups for a user of the batch (a user who is
// not falls back to it). The same authorization applies to each user.
func (b *GroupBatch) UserGroups(ctx context.Context, userID string) ([]*Group, error) {
	u := b.users[userID]
	if u == nil {
		return b.s.UserGroups(ctx, userID)
	}
	actor, err := b.s.caller(ctx)
	if err != nil {
		return nil, err
	}
	now := b.s.now()
	if err := Authorize(actor, ActionRead, u, now); err != nil {
		return nil, err
	}
	b.once.Do(func() {
		var ids []string
		for id, other := range b.users {
			if Authorize(actor, ActionRead, other, now) == nil {
				ids = append(ids, id)
			}
		}
		b.groups, b.err = b.s.groupsOf(ctx, actor, ids)
	})
	if b.err != nil {
		return nil, b.err
	}
	return b.groups[userID], nil
}
