package telemetry_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"usersvc/telemetry"
)

// TestStartFromEnvironment: no endpoint, no exporter; with one, spans
// reach an OTLP/HTTP collector (here a test server) carrying the service
// name, and the start-up log says where they go; a collector that is down
// makes no span wait; a protocol it does not know stops the start.
func TestStartFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}, false},
	} {
		for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"} {
			t.Setenv(k, tc.env[k]) // restored when the test ends
			if tc.env[k] == "" {
				os.Unsetenv(k)
			}
		}
		if got := telemetry.Enabled(); got != tc.want {
			t.Errorf("%v: Enabled %v, want %v", tc.env, got, tc.want)
		}
	}
	keepGlobals(t)

	var got atomic.Int64
	var body atomic.Value
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			got.Add(1)
			body.Store(string(b))
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	os.Unsetenv("OTEL_SDK_DISABLED")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "1")
	var logs strings.Builder
	stop, err := telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if want := `msg="tracing on" endpoint=` + collector.URL + ` protocol=http/protobuf sampler="parentbased_traceidratio 1"`; !strings.Contains(logs.String(), want) {
		t.Errorf("start-up log:\n%s\nwant a line with %s", logs.String(), want)
	}
	_, span := telemetry.Tracer().Start(context.Background(), "GET /api/users/{userId}")
	span.End()
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.Load() == 0 || !strings.Contains(body.Load().(string), "usersvc") || !strings.Contains(body.Load().(string), "GET /api/users/{userId}") {
		t.Fatalf("the collector got %d exports", got.Load())
	}

	// A collector that is down: ending spans does not wait on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", down)
	stop, err = telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for range 5000 { // more than the batch queue holds: the rest are dropped, not waited for
		_, s := telemetry.Tracer().Start(context.Background(), "span")
		s.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = stop(ctx) // fails to export, within its bound

	// A sampler the SDK does not know: it says so in the log (and uses
	// its default).
	t.Setenv("OTEL_TRACES_SAMPLER", "every_other")
	logs.Reset()
	stop, err = telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_ = stop(ctx)
	if !strings.Contains(logs.String(), "level=WARN msg=tracing") || !strings.Contains(logs.String(), "every_other") {
		t.Errorf("an unknown sampler: the log says\n%s", logs.String())
	}

	// A protocol it has no exporter for: the service does not start.
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	if _, err := telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(testWriter{t}, nil))); err == nil || !strings.Contains(err.Error(), `"http/json"`) {
		t.Fatalf("Start with OTEL_EXPORTER_OTLP_PROTOCOL=http/json: %v", err)
	}
}

// TestExporterRetries: a collector that answers 503 with Retry-After gets
// the same batch again, from the SDK's exporter, and it arrives.
func TestExporterRetries(t *testing.T) {
	keepGlobals(t)
	var calls atomic.Int64
	var delivered atomic.Value
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		delivered.Store(string(b))
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	os.Unsetenv("OTEL_SDK_DISABLED")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "60000") // the retry waits the exporter's back-off (about 5 s)
	t.Setenv("OTEL_BSP_EXPORT_TIMEOUT", "60000")
	var logs strings.Builder
	stop, err := telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, span := telemetry.Tracer().Start(context.Background(), "POST /api/Auth/Token")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // a bound, not a measurement
	defer cancel()
	if err := stop(ctx); err != nil { // flushes: the export and its retry
		t.Fatal(err)
	}
	d, _ := delivered.Load().(string)
	if calls.Load() != 2 || !strings.Contains(d, "POST /api/Auth/Token") {
		t.Fatalf("the collector was called %d times (want 503, then 200 with the span); delivered %q; log:\n%s", calls.Load(), d, logs.String())
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a batch that arrived after a retry logged an error:\n%s", logs.String())
	}
}

// keepGlobals restores OpenTelemetry's global provider, propagator and
// error handler when the test ends.
func keepGlobals(t *testing.T) {
	tp, prop := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(prop)
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// TestPropagated: a request carries propagation when it has any header of
// W3C trace context or baggage, whatever case it came in (net/http
// canonicalizes them); and every header the propagators Start installs
// read is one of them, so skipping Extract without them loses nothing.
func TestPropagated(t *testing.T) {
	received := func(lines ...string) http.Header {
		h := http.Header{}
		for _, l := range lines {
			k, v, _ := strings.Cut(l, ": ")
			h.Add(k, v) // as net/http's server stores them: canonical
		}
		return h
	}
	for _, tc := range []struct {
		headers []string
		want    bool
	}{
		{nil, false},
		{[]string{"X-Request-Id: abc", "Authorization: Bearer x"}, false},
		{[]string{"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, true},
		{[]string{"TraceState: congo=t61rcWkgMzE"}, true},
		{[]string{"baggage: tenant=a"}, true},
	} {
		if got := telemetry.Propagated(received(tc.headers...)); got != tc.want {
			t.Errorf("%q: Propagated %v, want %v", tc.headers, got, tc.want)
		}
	}

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	os.Unsetenv("OTEL_SDK_DISABLED")
	stop, err := telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = stop(ctx)
	}()
	fields := otel.GetTextMapPropagator().Fields()
	if len(fields) == 0 {
		t.Fatal("Start installed no propagator")
	}
	for _, f := range fields {
		if !telemetry.Propagated(received(f + ": x")) {
			t.Errorf("the installed propagators read %q, which Propagated does not look for", f)
		}
	}
}

// Tracer follows the installed provider: a span started after another
// SDK provider is installed is that provider's, not the one a cached
// tracer came from.
func TestTracerFollowsTheProvider(t *testing.T) {
	prev := otel.GetTracerProvider()
	defer otel.SetTracerProvider(prev)
	var recorders []*tracetest.SpanRecorder
	for i := range 2 {
		rec := tracetest.NewSpanRecorder()
		recorders = append(recorders, rec)
		otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
		for range 2 { // the second span comes from the cached tracer
			_, span := telemetry.Tracer().Start(context.Background(), fmt.Sprint("provider ", i))
			span.End()
		}
	}
	for i, rec := range recorders {
		ended := rec.Ended()
		if len(ended) != 2 || ended[0].Name() != fmt.Sprint("provider ", i) || ended[1].Name() != ended[0].Name() {
			t.Errorf("provider %d recorded %d spans: %v", i, len(ended), ended)
		}
	}
}
