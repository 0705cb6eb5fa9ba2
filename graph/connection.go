package graph

import (
	"context"

	"usersvc"
	"usersvc/graph/model"
)

// listUsers adapts the users query to the domain's list and its page to a
// Relay connection.
func listUsers(ctx context.Context, svc *usersvc.Service, first *int64, after *string, where *model.UserWhereInput, orderBy *model.UserOrder) (*model.UserConnection, error) {
	var f usersvc.UserFilter
	if where != nil {
		f = usersvc.UserFilter{Email: where.Email, Group: where.Group, Disabled: where.Disabled, Search: where.Search,
			Deleted: where.Deleted != nil && *where.Deleted}
		if where.Role != nil {
			r := usersvc.Role(*where.Role)
			f.Role = &r
		}
	}
	desc := orderBy != nil && orderBy.Direction == model.OrderDirectionDesc
	page, err := svc.ListUsers(ctx, f, first, after, desc)
	if err != nil {
		return nil, err
	}
	conn := &model.UserConnection{TotalCount: int64(page.TotalCount), Edges: []model.UserEdge{},
		PageInfo: &model.PageInfo{HasNextPage: page.NextCursor != nil, HasPreviousPage: after != nil && *after != "", EndCursor: page.NextCursor}}
	for i, u := range page.Users {
		conn.Edges = append(conn.Edges, model.UserEdge{Node: u, Cursor: page.Cursors[i]})
	}
	if len(page.Cursors) > 0 {
		conn.PageInfo.StartCursor = &page.Cursors[0]
		conn.PageInfo.EndCursor = &page.Cursors[len(page.Cursors)-1]
	}
	return conn, nil
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
