// Package telemetry starts OpenTelemetry tracing when the standard
// environment asks for it, and names the service's tracer.
//
// Configuration is the SDK's standard variables only:
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (no
// endpoint: no exporter, nothing recorded), OTEL_EXPORTER_OTLP_PROTOCOL
// or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (http/protobuf, the default, or
// grpc), OTEL_SERVICE_NAME (default usersvc) and OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, OTEL_SDK_DISABLED, and
// the exporter's headers, timeout, compression and certificate files, and
// the batch processor's OTEL_BSP_* settings. The exporter (otlp.go for
// HTTP, the SDK's otlptracegrpc for gRPC) runs behind a batch processor
// with the SDK's contract (batch.go: a bounded queue that drops spans
// when full), so a collector that is down, slow or refusing never fails
// or slows a request; its errors are logged at most once a minute.
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
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of every span the service makes.
const Name = "usersvc"

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

// Tracer is the service's tracer (a no-op until Start installs a provider).
// From the SDK's provider it is asked once per provider, not once per
// span: the provider's Tracer builds a scope and looks it up under a
// mutex.
func Tracer() trace.Tracer {
	tp := otel.GetTracerProvider()
	sdk, ok := tp.(*sdktrace.TracerProvider)
	if !ok { // the global no-op, or a provider of another kind
		return tp.Tracer(Name)
	}
	if c := cachedTracer.Load(); c != nil && c.provider == sdk {
		return c.tracer
	}
	t := sdk.Tracer(Name)
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
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Start installs the tracer provider the environment describes, with the
// W3C trace-context and baggage propagators, and returns a function that
// flushes and stops it. With tracing off it installs nothing and returns a
// no-op.
func Start(ctx context.Context, logger *slog.Logger) (shutdown func(context.Context) error, err error) {
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	bc, err := batchConfigFromEnv()
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry batch processor: %w", err)
	}
	protocol := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var exp sdktrace.SpanExporter
	switch protocol {
	case "", "http/protobuf":
		var cfg httpConfig
		if cfg, err = httpConfigFromEnv(); err == nil {
			exp = newHTTPExporter(cfg)
		}
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: use http/protobuf or grpc", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", Name)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(newBatcher(exp, bc, otel.Handle)), sdktrace.WithResource(res)) // the sampler comes from OTEL_TRACES_SAMPLER
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(&rateLimited{logger: logger, every: time.Minute})
	return tp.Shutdown, nil
}

// rateLimited logs export errors at most once every period.
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
	h.logger.Warn("exporting traces", "err", err, "errors_not_logged", h.missed)
	h.last, h.missed = time.Now(), 0
}
