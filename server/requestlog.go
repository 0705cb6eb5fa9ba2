package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// requestLog writes one line per request: never the query string (it may
// hold secrets), never a header value other than the request id. A
// request whose answer was cut (http.ErrAbortHandler: a stream that failed
// half-way, whose cause the handler logged) gets its line too.
func requestLog(logger *slog.Logger, metrics *Metrics, route func(*http.Request) string, tracing bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &responseWriter{ResponseWriter: w}
		ctx := r.Context()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					logRequest(ctx, logger, metrics, route, tracing, r, rec, start)
				}
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
		logRequest(ctx, logger, metrics, route, tracing, r, rec, start)
	})
}

func logRequest(ctx context.Context, logger *slog.Logger, metrics *Metrics, route func(*http.Request) string, tracing bool, r *http.Request, rec *responseWriter, start time.Time) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	elapsed := time.Since(start)
	rt := route(r)
	metrics.observe(rt, r.Method, rec.status, elapsed)
	if tracing { // the span requestID started
		endServerSpan(trace.SpanFromContext(ctx), r, rt, rec.status)
	}
	// Attrs, not key-value pairs: the same line without boxing each value.
	logger.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("request_id", r.Header.Get("X-Request-Id")),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
		slog.Int("bytes", rec.bytes), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("user", rec.userID))
}
