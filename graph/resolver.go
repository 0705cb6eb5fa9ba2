// Package graph is the GraphQL adapter: gqlgen resolvers over the usersvc
// domain. Resolvers translate arguments and call the service; no rule lives here.
package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"usersvc"
)

//go:generate go tool gqlgen generate

// Resolver holds the resolvers' dependencies.
type Resolver struct {
	Svc *usersvc.Service
	// present renders errors as the handler does (subscriptions send
	// theirs themselves).
	present graphql.ErrorPresenterFunc
}
