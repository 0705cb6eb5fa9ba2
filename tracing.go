package usersvc

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// span starts one of the domain's own spans (the token check, bcrypt, the
// sign-in throttle), so that a slow request shows which step took the
// time. Without a tracer provider (tracing off, the default) it is
// OpenTelemetry's no-op. Spans carry no secret: names and counts only.
func span(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return otel.Tracer("usersvc").Start(ctx, name, opts...)
}

// endSpan ends a domain span with the outcome's code (an internal,
// unavailable or timeout error sets its status to error).
func endSpan(sp trace.Span, err error) {
	if err != nil {
		code := ErrorCode(err)
		sp.SetAttributes(attribute.String("usersvc.error.code", code))
		switch code {
		case EInternal, EUnavailable, ETimeout:
			sp.SetStatus(codes.Error, code)
		}
	}
	sp.End()
}
