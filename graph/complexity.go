package graph

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit is gqlgen's extension.FixedComplexityLimit with the
// computed complexity remembered per query text and operation name: the
// same answer (the ComplexityLimit stats, the COMPLEXITY_LIMIT_EXCEEDED
// error) without walking the operation on every request. It is used only
// when no field has a complexity function (staticComplexity), so that the
// complexity depends on the operation alone, never on variables.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	cache *lru.LRU[int]
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
	key := opCtx.RawQuery
	if opCtx.OperationName != "" {
		// A query's text cannot hold a NUL (gqlparser refuses it), so
		// the key is unambiguous.
		key += "\x00" + opCtx.OperationName
	}
	n, ok := c.cache.Get(ctx, key)
	if !ok {
		op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
		n = complexity.Calculate(ctx, c.es, op, opCtx.Variables)
		c.cache.Add(ctx, key, n)
	}
	opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// staticComplexity reports whether c sets no complexity function, so that
// every field costs gqlgen's default (1 plus its children) whatever its
// arguments.
func staticComplexity(c ComplexityRoot) bool {
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		obj := v.Field(i)
		for j := range obj.NumField() {
			if !obj.Field(j).IsNil() {
				return false
			}
		}
	}
	return true
}

// complexityExtension is the complexity limit for cfg: cached when
// staticComplexity allows it, gqlgen's own otherwise.
func complexityExtension(cfg Config, limit int) graphql.HandlerExtension {
	if staticComplexity(cfg.Complexity) {
		return &complexityLimit{limit: limit, cache: lru.New[int](1000)}
	}
	return extension.FixedComplexityLimit(limit)
}
