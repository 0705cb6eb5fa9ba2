//go:build ignore

// This program generates the ent code. Run it through `make generate`, which
// runs it first and then gqlgen. gqlgen does not read the ent model: it maps
// schema.graphql onto the domain types of package usersvc (gqlgen.yml).
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureUpsert,    // ON CONFLICT for the usage counters
			gen.FeatureLock,      // SELECT ... FOR UPDATE on PostgreSQL writes
			gen.FeatureExecQuery, // pg_notify inside write transactions
		},
	})
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
