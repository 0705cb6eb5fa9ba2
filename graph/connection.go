package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"usersvc"
	"usersvc/graph/model"
)

// listUsers adapts the users query to the domain's list and its page to a
// Relay connection.
func listUsers(ctx context.Context, svc *usersvc.Service, first *int64, after *string, where *model.UserWhereInput, orderBy *model.UserOrder) (*model.UserConnection, error) {
	var f usersvc.UserFilter
	if where != nil {
		f = usersvc.UserFilter{Email: where.Email, Group: where.Group, Role: where.Role, Disabled: where.Disabled,
			Search: where.Search, Deleted: where.Deleted != nil && *where.Deleted}
	}
	desc := orderBy != nil && orderBy.Direction == model.OrderDirectionDesc
	page, err := svc.ListUsers(ctx, f, first, after, desc, slices.Contains(graphql.CollectAllFields(ctx), "totalCount"))
	if err != nil {
		return nil, err
	}
	conn := &model.UserConnection{TotalCount: int64(page.TotalCount), Edges: []model.UserEdge{},
		PageInfo: pageInfo(page.Cursors, page.NextCursor, after), History: svc.HistoryBatch(page.Users),
		Groups: svc.GroupBatch(page.Users)}
	for i, u := range page.Users {
		conn.Edges = append(conn.Edges, model.UserEdge{Node: u, Cursor: page.Cursors[i]})
	}
	return conn, nil
}

// listHistory adapts the domain's history page to a Relay connection, as
// listUsers does for users. Under a users page, the page's batch reads it.
func listHistory(ctx context.Context, svc *usersvc.Service, userID string, first *int64, after *string) (*model.AuditEntryConnection, error) {
	history := svc.History
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if c, ok := fc.Result.(*model.UserConnection); ok && c.History != nil {
			history = c.History.History
			break
		}
	}
	page, err := history(ctx, userID, first, after, slices.Contains(graphql.CollectAllFields(ctx), "totalCount"))
	if err != nil {
		return nil, err
	}
	conn := &model.AuditEntryConnection{TotalCount: int64(page.TotalCount), Edges: []model.AuditEntryEdge{},
		PageInfo: pageInfo(page.Cursors, page.NextCursor, after)}
	for i, e := range page.Entries {
		conn.Edges = append(conn.Edges, model.AuditEntryEdge{Node: e, Cursor: page.Cursors[i]})
	}
	return conn, nil
}

// pageInfo describes a page by its edges' cursors; next is the cursor of
// the following page (nil on the last one).
func pageInfo(cursors []string, next, after *string) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: next != nil, HasPreviousPage: after != nil && *after != ""}
	if len(cursors) > 0 {
		info.StartCursor = &cursors[0]
		info.EndCursor = &cursors[len(cursors)-1]
	}
	return info
}

// createAPIKey returns the secret and its record as the GraphQL payload.
func createAPIKey(ctx context.Context, svc *usersvc.Service, label string, userID *string) (*model.CreateAPIKeyPayload, error) {
	key, rec, err := svc.CreateAPIKey(ctx, deref(userID), label)
	if err != nil {
		return nil, err
	}
	return &model.CreateAPIKeyPayload{Key: key, APIKey: rec}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// scimObject is a user's scim field as GraphQL's JSON: null when none
// (never a typed nil map).
func scimObject(u *usersvc.User) any {
	if u.SCIM == nil {
		return nil
	}
	return u.SCIM
}
