package server

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"usersvc/telemetry"
)

// startServerSpan starts r's server span in ctx, under the caller's span
// when it sent traceparent (and tracestate), and returns the context
// holding it. Its name and attributes are settled when the route is known
// (endServerSpan): one SetAttributes call then, not two, is one attribute
// slice fewer a request.
func startServerSpan(ctx context.Context, r *http.Request) context.Context {
	if telemetry.Propagated(r.Header) { // without these headers Extract returns ctx as it is
		ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	ctx, _ = telemetry.Tracer().Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
	return ctx
}

// endServerSpan names the span by its route template (never a raw path:
// ids stay out of span names) and records the answer. Following the
// semantic conventions, a 4xx leaves a server span's status unset; a 5xx
// is an error. Nothing from the query string or a header other than the
// request id is recorded.
func endServerSpan(span trace.Span, r *http.Request, route string, status int) {
	if !span.IsRecording() { // left out by the sampler: no name or attributes to build
		span.End()
		return
	}
	span.SetName(r.Method + " " + route)
	span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.scheme", scheme(r)),
		attribute.String("http.route", route), attribute.Int("http.response.status_code", status),
		attribute.String("usersvc.request_id", r.Header.Get("X-Request-Id")))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
