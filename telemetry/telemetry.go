// Package telemetry starts OpenTelemetry tracing when the standard
// environment asks for it, and holds the service's tracer for the
// adapters (server, GraphQL, store).
//
// Everything is the OpenTelemetry SDK's own parts, configured by its
// standard variables, which those parts read themselves: the exporter
// (otlptracehttp for OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf, the
// default, or otlptracegrpc for grpc) reads the endpoint, headers,
// timeout, compression and certificate files; the SDK's batch span
// processor reads OTEL_BSP_*; the tracer provider reads
// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG; the resource reads
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (default service name
// usersvc). This package reads only what decides whether tracing starts
// and which exporter: an endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; without one, nothing starts),
// OTEL_SDK_DISABLED, and the protocol.
//
// The batch processor's queue is bounded and drops spans when full, so a
// collector that is down, slow or refusing never fails or slows a
// request; the exporter retries a refused batch (429, 502, 503, 504,
// honouring Retry-After) within its timeout. Export errors are logged at
// most once a minute.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"usersvc"
)

// propagationHeaders are the request headers the propagators Start
// installs read (W3C trace context and baggage), in net/http's canonical
// form.
var propagationHeaders = [...]string{"Traceparent", "Tracestate", "Baggage"}

// Propagated reports whether a request's headers carry anything the
// installed propagators read; without any, extracting returns the context
// it is given, and a server skips it (a request's cheapest span).
func Propagated(h http.Header) bool {
	for _, k := range propagationHeaders {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// Tracer is the service's tracer (scope usersvc.TracerName) from the
// installed provider (a no-op until Start installs one). From the SDK's
// provider it is asked once per provider, not once per span: the
// provider's Tracer builds a scope and looks it up under a mutex.
func Tracer() trace.Tracer {
	tp := otel.GetTracerProvider()
	sdk, ok := tp.(*sdktrace.TracerProvider)
	if !ok { // the global no-op, or a provider of another kind
		return tp.Tracer(usersvc.TracerName)
	}
	if c := cachedTracer.Load(); c != nil && c.provider == sdk {
		return c.tracer
	}
	t := sdk.Tracer(usersvc.TracerName)
	cachedTracer.Store(&providerTracer{sdk, t})
	return t
}

// providerTracer is an SDK provider and the service's tracer from it.
type providerTracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

var cachedTracer atomic.Pointer[providerTracer]

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint is set and the SDK is not disabled.
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return endpoint() != ""
}

// endpoint is the OTLP endpoint variable that applies, as it is set (the
// exporter reads and completes it: a general endpoint gets /v1/traces
// over HTTP).
func endpoint() string {
	if v := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v != "" {
		return v
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
}

// Start installs the tracer provider the environment describes, with the
// W3C trace-context and baggage propagators, logs that tracing is on and
// where it exports, and returns a function that flushes and stops it.
// With tracing off it installs nothing and returns a no-op.
func Start(ctx context.Context, logger *slog.Logger) (shutdown func(context.Context) error, err error) {
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	// Before the provider exists: what the SDK cannot use in the
	// environment (a sampler it does not know) is reported through it.
	otel.SetErrorHandler(&rateLimited{logger: logger, every: time.Minute})
	var exp sdktrace.SpanExporter
	switch protocol {
	case "":
		protocol = "http/protobuf"
		exp, err = otlptracehttp.New(ctx)
	case "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: use http/protobuf or grpc", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", usersvc.TracerName)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER, the batch settings from
	// OTEL_BSP_*: the SDK reads them.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	logger.Info("tracing on", "endpoint", endpoint(), "protocol", protocol, "sampler", sampler())
	return tp.Shutdown, nil
}

// sampler describes OTEL_TRACES_SAMPLER and its argument as set, or the
// SDK's default when unset (for the start-up log; the SDK parses them, and
// reports one it cannot use through the error handler).
func sampler() string {
	s := os.Getenv("OTEL_TRACES_SAMPLER")
	if s == "" {
		return "parentbased_always_on (the default)"
	}
	if arg := os.Getenv("OTEL_TRACES_SAMPLER_ARG"); arg != "" {
		s += " " + arg
	}
	return s
}

// rateLimited logs OpenTelemetry's errors (a failed export, a setting the
// SDK cannot use) at most once every period.
type rateLimited struct {
	logger *slog.Logger
	every  time.Duration
	mu     sync.Mutex
	last   time.Time
	missed int
}

func (h *rateLimited) Handle(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.last) < h.every {
		h.missed++
		return
	}
	h.logger.Warn("tracing", "err", err, "errors_not_logged", h.missed)
	h.last, h.missed = time.Now(), 0
}
