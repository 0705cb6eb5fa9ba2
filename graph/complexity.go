package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"usersvc"
	"usersvc/graph/model"
)

// complexityLimit is gqlgen's extension.FixedComplexityLimit with the
// computed complexity remembered per query text, operation name and
// variables (the page sizes may come from variables): the same answer
// (the ComplexityLimit stats, the COMPLEXITY_LIMIT_EXCEEDED error) without
// walking the operation on every request. The cache is bounded in bytes
// and skips long texts (querycache.go). Subscriptions have a lower
// limit of their own: their selection runs again for every change.
type complexityLimit struct {
	limit, subscriptionLimit int
	es                       graphql.ExecutableSchema
	cache                    *textCache[int]
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &complexityLimit{}

// ExtensionName is FixedComplexityLimit's, so the stats are found where
// extension.GetComplexityStats looks.
func (c *complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	c.es = schema
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	// A query's text cannot hold a NUL (gqlparser refuses it), so the
	// key is unambiguous; the variables go in as a digest of their JSON
	// (object keys sorted), since a page size may come from them.
	key := opCtx.RawQuery + "\x00" + opCtx.OperationName
	if len(opCtx.Variables) > 0 {
		b, err := json.Marshal(opCtx.Variables)
		if err != nil {
			b = []byte(fmt.Sprint(opCtx.Variables))
		}
		sum := sha256.Sum256(b)
		key += "\x00" + string(sum[:])
	}
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	limit := c.limit
	if op != nil && op.Operation == ast.Subscription {
		limit = c.subscriptionLimit
	}
	n, ok := c.cache.Get(ctx, key)
	if !ok {
		n = complexity.Calculate(ctx, c.es, op, opCtx.Variables)
		c.cache.Add(ctx, key, n)
	}
	opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: limit})
	if n > limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// pageCost is what a list field costs: its own 1 plus, for each item a
// page asked for with first may hold (usersvc.PageItems), its children's.
func pageCost(childComplexity int, first *int64) int {
	return 1 + usersvc.PageItems(first)*childComplexity
}

// withComplexity sets the cost of every paged list in cfg: a page of
// first items costs first times an item (gqlgen's default counted one
// item: 99 aliased history(first: 100) cost as 99 entries, and answered
// 21 MB).
func withComplexity(cfg Config) Config {
	cfg.Complexity.Query.Users = func(child int, first *int64, _ *string, _ *model.UserWhereInput, _ *model.UserOrder) int {
		return pageCost(child, first)
	}
	cfg.Complexity.Query.Groups = func(child int, first *int64, _ *int64, _ *model.GroupWhereInput) int {
		return pageCost(child, first)
	}
	cfg.Complexity.User.History = func(child int, first *int64, _ *string) int {
		return pageCost(child, first)
	}
	return cfg
}

// complexityExtension is the complexity limit for cfg, remembered per
// operation and variables; subscriptions get subscriptionLimit.
func complexityExtension(limit, subscriptionLimit int) graphql.HandlerExtension {
	return &complexityLimit{limit: limit, subscriptionLimit: subscriptionLimit, cache: newTextCache(maxCachedQuery, docCacheBytes, func(key string, _ int) int { return len(key) + 8 })}
}
