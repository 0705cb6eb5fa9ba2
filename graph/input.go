package graph

import (
	"context"
	"encoding/json"

	"usersvc"
	"usersvc/jsonpatch"
)

// plain turns a GraphQL input value (gqlgen fills input maps with typed Go
// values: *string, time.Time, enum types) back into the generic JSON form a
// REST body has, so that the domain decodes both with the same code. Keys
// the client left out stay absent; explicit nulls stay null.
func plain(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v // the domain's decoder reports the odd type
	}
	out, err := jsonpatch.Parse(b)
	if err != nil {
		return v
	}
	return out
}

// withCurrentPassword passes a mutation's currentPassword argument, when
// given, to the service (see usersvc.WithCurrentPassword).
func withCurrentPassword(ctx context.Context, currentPassword *string) context.Context {
	if currentPassword == nil {
		return ctx
	}
	return usersvc.WithCurrentPassword(ctx, *currentPassword)
}
