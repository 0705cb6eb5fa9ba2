package graph

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"usersvc"
	"usersvc/telemetry"
)

// traceOperation makes one span of each GraphQL operation, named by its
// type and name ("query me", "subscription userChanged"), under the
// request's server span. The document is recorded with every string and
// number literal replaced by ? and its comments dropped
// (graphql.document: a literal may hold an email or a password; variables
// are never recorded). A subscription's span lasts as long as
// the subscription (one span, not one per event). Errors are recorded as
// events with their code; an internal, unavailable or timeout error sets
// the span's status to error (usersvc.ServerFault). docs remembers the
// redacted form of recent documents: clients send the same few again and
// again (bounded in bytes, long texts skipped: querycache.go).
type operationTracer struct{ docs *textCache[string] }

func newOperationTracer() *operationTracer {
	return &operationTracer{docs: newTextCache(maxCachedQuery, docCacheBytes, func(raw, d string) int { return len(raw) + len(d) })}
}

func (t *operationTracer) around(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if !trace.SpanFromContext(ctx).SpanContext().IsSampled() { // a request the sampler left out (or no request span)
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	typ, opName := "query", oc.OperationName
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if opName == "" {
			opName = oc.Operation.Name
		}
	}
	name := typ
	if opName != "" {
		name += " " + opName
	}
	ctx, span := telemetry.Tracer().Start(ctx, name, trace.WithAttributes(
		attribute.String("graphql.operation.type", typ), attribute.String("graphql.operation.name", opName),
		attribute.String("graphql.document", t.redacted(ctx, oc.RawQuery))))
	handler := next(ctx)
	var once sync.Once
	end := func() { once.Do(func() { span.End() }) }
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp == nil {
			end()
			return nil
		}
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			span.AddEvent("graphql.error", trace.WithAttributes(attribute.String("graphql.error.code", code)))
			// Only a domain error can be the service's fault; anything
			// else was presented as INVALID (presentError).
			if de := (*usersvc.Error)(nil); errors.As(e.Err, &de) && usersvc.ServerFault(de.Code) {
				span.SetStatus(codes.Error, code)
			}
		}
		if typ != "subscription" {
			end()
		}
		return resp
	}
}

// traceResolver makes a span of each field a resolver computes (not of
// fields read straight from a value), named by its type and field, with
// the field's path (names and list indexes, never argument values).
func traceResolver(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver || !trace.SpanFromContext(ctx).SpanContext().IsSampled() {
		return next(ctx)
	}
	ctx, span := telemetry.Tracer().Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.parent_type", fc.Object), attribute.String("graphql.field.name", fc.Field.Name),
		attribute.String("graphql.field.path", fc.Path().String())))
	res, err := next(ctx)
	usersvc.EndSpan(span, err)
	return res, err
}

// maxDocument bounds a recorded document (bytes, before the cut's "…").
const maxDocument = 2000

// redacted is a GraphQL document for a span: its tokens joined by single
// spaces, every string, block string and number literal replaced by ?,
// comments dropped, at most maxDocument bytes. Names, enum values,
// booleans, null and variables ($id) stay: they are the shape of the
// operation, and values come only from literals or variables.
func (t *operationTracer) redacted(ctx context.Context, raw string) string {
	if d, ok := t.docs.Get(ctx, raw); ok {
		return d
	}
	lx := lexer.New(&ast.Source{Input: raw})
	var b strings.Builder
	afterDollar := false
	for {
		tok, err := lx.ReadToken()
		if err != nil {
			return "" // not a document (it was refused before running)
		}
		switch tok.Kind {
		case lexer.EOF:
			d := b.String()
			t.docs.Add(ctx, raw, d)
			return d
		case lexer.Comment:
			continue
		}
		if b.Len() > 0 && !afterDollar {
			b.WriteByte(' ')
		}
		afterDollar = tok.Kind == lexer.Dollar
		switch tok.Kind {
		case lexer.String, lexer.BlockString, lexer.Int, lexer.Float:
			b.WriteByte('?')
		case lexer.Name:
			b.WriteString(tok.Value)
		default:
			b.WriteString(tok.Kind.String()) // punctuation: { } ( ) : $ ! …
		}
		if b.Len() > maxDocument {
			d := b.String()[:maxDocument] + "…"
			t.docs.Add(ctx, raw, d)
			return d
		}
	}
}
