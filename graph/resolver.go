// Package graph is the GraphQL adapter: gqlgen resolvers over the usersvc
// domain. Resolvers translate arguments and call the service; no rule lives here.
package graph

import "usersvc"

//go:generate go tool gqlgen generate

// Resolver holds the resolvers' dependencies.
type Resolver struct {
	Svc *usersvc.Service
}
