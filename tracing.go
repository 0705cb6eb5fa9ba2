package usersvc

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of every span the service makes:
// the domain's here, and the server's, GraphQL's and the database's
// (telemetry.Tracer).
const TracerName = "usersvc"

// The domain uses OpenTelemetry's API only (go.opentelemetry.io/otel/trace,
// no SDK, no exporter, no global: deps_test.go): which SDK records its spans,
// if any, is the program's choice (telemetry.Start in cmd/usersvc).

// span starts one of the domain's own spans (the token check, bcrypt, the
// sign-in throttle) under ctx's span, from the provider that made that
// span, so that a slow request shows which step took the time. Without a
// span in ctx (tracing off, the default, or work outside any request) it
// is the API's no-op. Spans carry no secret: names and counts only.
//
// Under a span that is not sampled (a request the sampler left out) it
// starts nothing either: the samplers a deployment uses (parent-based, or
// a trace-id ratio, which decides a trace's spans alike) would drop the
// child anyway, and asking the SDK to decide costs each request of the
// 99% a ratio leaves out (docs/benchmarks.md).
func span(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsSampled() {
		return ctx, noSpan
	}
	return parent.TracerProvider().Tracer(TracerName).Start(ctx, name, opts...)
}

// noSpan is the API's no-op span: ending it does nothing.
var noSpan = trace.SpanFromContext(context.Background())

// EndSpan ends a span of the domain or a transport with the outcome's code (an internal,
// unavailable or timeout error sets its status to error).
func EndSpan(sp trace.Span, err error) {
	if err != nil {
		code := ErrorCode(err)
		sp.SetAttributes(attribute.String("usersvc.error.code", code))
		if ServerFault(code) {
			sp.SetStatus(codes.Error, code)
		}
	}
	sp.End()
}

// ServerFault reports whether an error code is the service's failure
// (internal, database unavailable, out of time) rather than an answer to
// what the caller asked: the one rule for a span's error status.
func ServerFault(code string) bool {
	switch code {
	case EInternal, EUnavailable, ETimeout:
		return true
	}
	return false
}

// lazySpan is a span made only if the step it times turns out to do I/O:
// begin starts it (once), dated back to start, and returns the context
// for the I/O under it; end ends it if it was begun. A step that ends
// without I/O costs no span.
//
// tp, when set, is the provider it comes from, else ctx's span's (span);
// newRoot makes it a trace of its own (work that belongs to no request).
type lazySpan struct {
	name    string
	start   time.Time
	tp      trace.TracerProvider
	newRoot bool
	sp      trace.Span
	ctx     context.Context
}

func (l *lazySpan) begin(ctx context.Context) context.Context {
	if l.sp != nil {
		return l.ctx
	}
	opts := []trace.SpanStartOption{trace.WithTimestamp(l.start)}
	if l.newRoot {
		opts = append(opts, trace.WithNewRoot())
	}
	tp := l.tp
	if tp == nil {
		parent := trace.SpanFromContext(ctx)
		if !parent.SpanContext().IsSampled() { // as span: a left-out request's step is left out
			l.ctx, l.sp = ctx, noSpan
			return l.ctx
		}
		tp = parent.TracerProvider()
	}
	l.ctx, l.sp = tp.Tracer(TracerName).Start(ctx, l.name, opts...)
	return l.ctx
}

func (l *lazySpan) end(err error) {
	if l.sp != nil {
		EndSpan(l.sp, err)
	}
}
