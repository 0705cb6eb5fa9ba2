package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"usersvc"
)

// Options configure the GraphQL server.
type Options struct {
	// Introspection enables schema introspection (on by default in cmd).
	Introspection bool
	// ComplexityLimit caps a query's complexity (default 500).
	ComplexityLimit int
	// TokenLimit caps the number of lexer tokens in a query (default 5000).
	TokenLimit int
	// Logger receives internal errors.
	Logger *slog.Logger
	// OnOperation, when set, is told each operation's name.
	OnOperation func(name string)
	// Origins are the browser origins allowed to open a WebSocket besides
	// the server's own (the CORS origins).
	Origins []string
}

// NewHandler builds the GraphQL HTTP handler: handler.New with explicit
// transports (GET for queries, POST), a complexity limit, a parser token
// limit, no field suggestions, and errors mapped through usersvc's one code
// table. Callers must authenticate requests first (see server).
func NewHandler(svc *usersvc.Service, opts Options) http.Handler {
	if opts.ComplexityLimit <= 0 {
		opts.ComplexityLimit = 500
	}
	if opts.TokenLimit <= 0 {
		opts.TokenLimit = 5000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	logger := opts.Logger
	present := func(ctx context.Context, err error) *gqlerror.Error {
		return presentError(ctx, logger, err)
	}
	srv := handler.New(NewExecutableSchema(Config{Schema: servedSchema(), Resolvers: &Resolver{Svc: svc, present: present}}))
	srv.AddTransport(websocketTransport(svc, opts.Origins))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(opts.TokenLimit)
	srv.SetDisableSuggestion(true)
	srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", p)
		return usersvc.Errorf(usersvc.EInternal, "Internal server error.")
	})
	srv.AroundOperations(limitSubscriptions)
	if opts.OnOperation != nil {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			name := ""
			if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
				name = oc.Operation.Name
			}
			opts.OnOperation(name)
			return next(ctx)
		})
	}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		// Counters describe the request that carried them; a subscription's
		// events come long after its one counted request.
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
			return resp
		}
		if p := usersvc.PrincipalFrom(ctx); p != nil && resp != nil {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["apiUsage"] = p.Usage.Total
			resp.Extensions["apiDailyUsage"] = p.Usage.Daily
			resp.Extensions["rateLimit"] = map[string]int64{"limit": p.Quota.Limit, "remaining": p.Quota.Remaining, "reset": p.Quota.Reset}
		}
		return resp
	})
	return specStatus(srv)
}

// servedSchema is schema.graphql as gqlparser loads it, less the @defer
// directive its prelude declares: the server has no incremental-delivery
// transport, so a deferred fragment could never arrive. Without it, a query
// using @defer fails validation, and introspection shows exactly the
// schema in schema.graphql (scripts/e2e.sh compares the two).
func servedSchema() *ast.Schema {
	s := *parsedSchema
	s.Directives = maps.Clone(s.Directives)
	delete(s.Directives, "defer")
	return &s
}

// presentError renders domain errors with their code (and field) in
// extensions, localized; internal errors are logged and masked. Errors that
// are not domain errors come from GraphQL parsing, validation or argument
// coercion and are shown as they are.
func presentError(ctx context.Context, logger *slog.Logger, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var de *usersvc.Error
	if !errors.As(err, &de) {
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		if _, ok := gqlErr.Extensions["code"]; !ok {
			gqlErr.Extensions["code"] = usersvc.GraphQLCode(usersvc.EInvalid)
		}
		return gqlErr
	}
	if de.Code == usersvc.EInternal {
		logger.ErrorContext(ctx, "internal error", "err", err)
	}
	gqlErr.Message = usersvc.ErrorMessage(de, usersvc.LangFrom(ctx))
	gqlErr.Extensions = map[string]any{"code": usersvc.GraphQLCode(de.Code)}
	if de.Field != "" {
		gqlErr.Extensions["field"] = de.Field
	}
	if de.RetryAfter > 0 {
		gqlErr.Extensions["retryAfter"] = de.RetryAfter
	}
	return gqlErr
}

// WriteHTTPError answers a GraphQL request that failed before execution
// (authentication, for one) with the code's HTTP status and a GraphQL
// error body.
func WriteHTTPError(w http.ResponseWriter, r *http.Request, err error) {
	code := usersvc.ErrorCode(err)
	body := map[string]any{"errors": []map[string]any{{
		"message":    usersvc.ErrorMessage(err, usersvc.LangFrom(r.Context())),
		"extensions": map[string]any{"code": usersvc.GraphQLCode(code)},
	}}}
	if p := usersvc.PrincipalFrom(r.Context()); p != nil {
		body["extensions"] = map[string]any{"apiUsage": p.Usage.Total, "apiDailyUsage": p.Usage.Daily}
	}
	var de *usersvc.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(de.RetryAfter, 10))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(usersvc.HTTPStatus(code))
	_ = json.NewEncoder(w).Encode(body)
}
