package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"usersvc"
	"usersvc/graph/model"
)

// listGroups adapts the groups query to the domain's offset pages.
func listGroups(ctx context.Context, svc *usersvc.Service, first, offset *int64, where *model.GroupWhereInput) (*model.GroupPage, error) {
	q := usersvc.GroupQuery{Count: first}
	if offset != nil {
		q.Offset = *offset
	}
	if where != nil {
		q.Filter = usersvc.GroupFilter{DisplayName: where.DisplayName, ExternalID: where.ExternalID}
	}
	page, err := svc.Groups(ctx, q)
	if err != nil {
		return nil, err
	}
	return &model.GroupPage{Nodes: groupValues(page.Groups), TotalCount: int64(page.Total)}, nil
}

// userGroups answers User.groups; under a users page, the page's batch
// reads it (one statement for the page).
func userGroups(ctx context.Context, svc *usersvc.Service, userID string) ([]usersvc.Group, error) {
	read := svc.UserGroups
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if c, ok := fc.Result.(*model.UserConnection); ok && c.Groups != nil {
			read = c.Groups.UserGroups
			break
		}
	}
	gs, err := read(ctx, userID)
	if err != nil {
		return nil, err
	}
	return groupValues(gs), nil
}

// groupValues is the list as gqlgen's models hold it.
func groupValues(gs []*usersvc.Group) []usersvc.Group {
	out := make([]usersvc.Group, len(gs))
	for i, g := range gs {
		out[i] = *g
	}
	return out
}
