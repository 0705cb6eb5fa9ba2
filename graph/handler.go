package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"usersvc"
	"usersvc/internal/apicode"
)

// Options configure the GraphQL server.
type Options struct {
	// Introspection enables schema introspection (on by default in cmd).
	Introspection bool
	// ComplexityLimit caps a query's complexity (default 10,000; a paged
	// list costs its page size times an item, see withComplexity).
	ComplexityLimit int
	// TokenLimit caps the number of lexer tokens in a query (default 5000).
	TokenLimit int
	// Logger receives internal errors.
	Logger *slog.Logger
	// OnOperation, when set, is told each operation's name ("" for
	// unnamed operations and for every operation of a caller not signed
	// in).
	OnOperation func(name string)
	// Origins are the browser origins allowed to open a WebSocket besides
	// the server's own (the CORS origins).
	Origins []string
	// Tracing makes a span of every operation (tracing.go).
	Tracing bool
	// TraceResolvers (with Tracing) also makes a span of every field a
	// resolver computes: detail for finding a slow resolver, at a span
	// per field, so it is off by default.
	TraceResolvers bool
}

// NewHandler builds the GraphQL HTTP handler: handler.New with explicit
// transports (GET for queries, POST), a body limit, a complexity limit, a
// parser token limit, no suggestions, and errors mapped through
// usersvc's one code table. Callers must authenticate requests first (see
// server).
func NewHandler(svc *usersvc.Service, opts Options) http.Handler {
	if opts.ComplexityLimit <= 0 {
		opts.ComplexityLimit = 10_000
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
	cfg := withComplexity(Config{Schema: servedSchema(), Resolvers: &Resolver{Svc: svc, present: present}})
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(websocketTransport(svc, opts.Origins))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{})
	srv.SetQueryCache(newQueryCache()) // bounded in bytes: querycache.go
	srv.SetParserTokenLimit(opts.TokenLimit)
	srv.SetDisableSuggestion(true) // field names, missing selections
	srv.SetValidationRulesFn(rulesWithoutSuggestions)
	srv.Use(complexityExtension(opts.ComplexityLimit, SubscriptionComplexityLimit))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", p)
		return usersvc.Errorf(usersvc.EInternal, "Internal server error.")
	})
	srv.AroundOperations(limitSubscriptions(present))
	if opts.Tracing {
		srv.AroundOperations(newOperationTracer().around)
		if opts.TraceResolvers {
			srv.AroundFields(traceResolver)
		}
	}
	if opts.OnOperation != nil {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			// Only a signed-in caller's operation names a series: names
			// are client-chosen, and anonymous requests (sign-in) filled
			// every series the metric allows in under two seconds.
			name := ""
			if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && usersvc.PrincipalFrom(ctx) != nil {
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
			resp.Extensions["rateLimit"] = rateLimit{p.Quota.Limit, p.Quota.Remaining, p.Quota.Reset}
		}
		return resp
	})
	// A WebSocket upgrade is not an HTTP answer: the socket takes the
	// connection over, so it skips the body limit. Over HTTP, readRequest
	// checks and decodes the request and httpTransport writes the answer's
	// status: gqlgen writes to the server's one response writer directly.
	overHTTP := readRequest(srv)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsWebSocket(r) {
			srv.ServeHTTP(w, r)
			return
		}
		overHTTP.ServeHTTP(w, r)
	})
}

// rateLimit is the rateLimit extension; its fields are in the order a map
// would be written (by key), so the answer reads as it always has.
type rateLimit struct {
	Limit     int64 `json:"limit"`
	Remaining int64 `json:"remaining"`
	Reset     int64 `json:"reset"`
}

// maxMessageBytes bounds the messages of parse, validation and coercion
// errors: they quote what they found in the request (a name, a string), and
// an answer must not echo a request back at length.
const maxMessageBytes = 256

// rulesWithoutSuggestions are gqlparser's default validation rules with
// every rule that can say "Did you mean …" swapped for its variant that
// does not: enum values, argument names, input fields, type names.
// (SetDisableSuggestion swaps the other two: fields and missing selections.)
// A misspelling is reported, but never with a name from the schema.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, rule := range []struct {
		name string
		with core.Rule
	}{
		{rules.ValuesOfCorrectTypeRule.Name, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
		{rules.KnownArgumentNamesRule.Name, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule.Name, rules.KnownTypeNamesRuleWithoutSuggestions},
	} {
		r.RemoveRule(rule.name)
		r.AddRule(rule.with.Name, rule.with.RuleFunc)
	}
	return r
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
// coercion and are shown as they are, cut to maxMessageBytes.
func presentError(ctx context.Context, logger *slog.Logger, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var de *usersvc.Error
	if !errors.As(err, &de) {
		gqlErr.Message = clip(gqlErr.Message, maxMessageBytes)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		if _, ok := gqlErr.Extensions["code"]; !ok {
			gqlErr.Extensions["code"] = apicode.GraphQL(usersvc.EInvalid)
		}
		return gqlErr
	}
	usersvc.LogFailure(ctx, logger, de)
	gqlErr.Message = usersvc.ErrorMessage(de, usersvc.LangFrom(ctx))
	gqlErr.Extensions = errorExtensions(de)
	return gqlErr
}

// clip cuts s to at most n bytes, on a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// errorExtensions are a domain error's GraphQL extensions: its code, and
// the field and retryAfter when it has them. Answers from execution and
// answers before it say the same.
func errorExtensions(de *usersvc.Error) map[string]any {
	ext := map[string]any{"code": apicode.GraphQL(de.Code)}
	if de.Field != "" {
		ext["field"] = de.Field
	}
	if de.RetryAfter > 0 {
		ext["retryAfter"] = de.RetryAfter
	}
	return ext
}

// WriteHTTPError answers a GraphQL request that failed before execution
// (authentication, for one) with the code's HTTP status and a GraphQL
// error body.
func WriteHTTPError(w http.ResponseWriter, r *http.Request, err error) {
	de := &usersvc.Error{Code: usersvc.EInternal}
	errors.As(err, &de)
	body := map[string]any{"errors": []map[string]any{{
		"message":    usersvc.ErrorMessage(err, usersvc.LangFrom(r.Context())),
		"extensions": errorExtensions(de),
	}}}
	if p := usersvc.PrincipalFrom(r.Context()); p != nil {
		body["extensions"] = map[string]any{"apiUsage": p.Usage.Total, "apiDailyUsage": p.Usage.Daily}
	}
	if de.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(de.RetryAfter, 10))
	}
	code := de.Code
	w.Header().Set("Content-Type", responseType(r))
	w.WriteHeader(apicode.HTTPStatus(code))
	_ = json.NewEncoder(w).Encode(body)
}

// responseType picks the answer's media type from Accept as gqlgen's
// transports do: the first of application/json (also for */* and
// application/*) or application/graphql-response+json that the client
// lists; no Accept is application/json; an Accept naming neither gets
// application/graphql-response+json.
func responseType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "application/json"
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case "application/graphql-response+json":
			return "application/graphql-response+json"
		}
	}
	return "application/graphql-response+json"
}
