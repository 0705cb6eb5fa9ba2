package usersvc

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"usersvc/telemetry"
)

// span starts one of the domain's own spans (the token check, bcrypt, the
// sign-in throttle), so that a slow request shows which step took the
// time. Without a tracer provider (tracing off, the default) it is
// OpenTelemetry's no-op. Spans carry no secret: names and counts only.
func span(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return telemetry.Tracer().Start(ctx, name, opts...)
}

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
type lazySpan struct {
	name  string
	start time.Time
	sp    trace.Span
	ctx   context.Context
}

func (l *lazySpan) begin(ctx context.Context) context.Context {
	if l.sp == nil {
		l.ctx, l.sp = span(ctx, l.name, trace.WithTimestamp(l.start))
	}
	return l.ctx
}

func (l *lazySpan) end(err error) {
	if l.sp != nil {
		EndSpan(l.sp, err)
	}
}
