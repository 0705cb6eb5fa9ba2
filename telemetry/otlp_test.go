package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// collector is an OTLP/HTTP endpoint that keeps what it is sent.
type collector struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	status  int
}

func newCollector(t *testing.T) (*collector, string) {
	c := &collector{status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body, _ = io.ReadAll(zr)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "wrong path or type", http.StatusNotFound)
			return
		}
		c.bodies = append(c.bodies, body)
		c.headers = append(c.headers, r.Header.Clone())
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(c.status)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func (c *collector) requests() ([][]byte, []http.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.bodies), slices.Clone(c.headers)
}

// decode reads an export request and orders its groups (the SDK's
// exporter groups resources through a map, so its order varies).
func decode(t *testing.T, body []byte) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		t.Fatalf("the body is not an ExportTraceServiceRequest: %v", err)
	}
	slices.SortFunc(req.ResourceSpans, func(a, b *tracepb.ResourceSpans) int {
		return strings.Compare(protojson.Format(a.Resource), protojson.Format(b.Resource))
	})
	return &req
}

// testSpans covers what a span can carry: every attribute type (empty
// values too), events, links, a remote parent with trace state, an error
// status, dropped counts, two scopes and two resources.
func testSpans(t *testing.T) []sdktrace.ReadOnlySpan {
	t.Helper()
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	ts, err := trace.ParseTraceState("vendor=a1,other=b2")
	if err != nil {
		t.Fatal(err)
	}
	sc := func(sid byte, remote bool) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{0, 0, 0, 0, 0, 0, 0, sid},
			TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: remote})
	}
	res1 := resource.NewSchemaless(attribute.String("service.name", "usersvc"), attribute.Int("replica", 2))
	res2 := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "other"))
	start := time.Date(2026, 12, 4, 12, 0, 0, 123456789, time.UTC)
	every := []attribute.KeyValue{
		attribute.String("s", "value"), attribute.String("empty", ""),
		attribute.Bool("t", true), attribute.Bool("f", false),
		attribute.Int64("i", -42), attribute.Int64("zero", 0), attribute.Float64("d", 2.5),
		attribute.StringSlice("ss", []string{"a", "", "c"}), attribute.BoolSlice("bs", []bool{true, false}),
		attribute.Int64Slice("is", []int64{1, -2, 300000}), attribute.Float64Slice("ds", []float64{0.5, -1}),
		{Key: "long", Value: attribute.StringValue(strings.Repeat("x", 300))}, // a length of two bytes
	}
	stubs := tracetest.SpanStubs{
		{
			Name: "GET /api/users/{userId}", SpanContext: sc(1, false), Parent: sc(9, true), SpanKind: trace.SpanKindServer,
			StartTime: start, EndTime: start.Add(1500 * time.Microsecond), Attributes: every,
			Events: []sdktrace.Event{{Name: "exception", Time: start.Add(time.Millisecond),
				Attributes: []attribute.KeyValue{attribute.String("exception.message", "boom")}, DroppedAttributeCount: 1}},
			Links:             []sdktrace.Link{{SpanContext: sc(7, true), Attributes: []attribute.KeyValue{attribute.Int("n", 1)}, DroppedAttributeCount: 2}},
			Status:            sdktrace.Status{Code: codes.Error, Description: "database unavailable"},
			DroppedAttributes: 3, DroppedEvents: 4, DroppedLinks: 5,
			Resource: res1, InstrumentationScope: instrumentation.Scope{Name: "usersvc", Version: "1.0"},
		},
		{
			Name: "SELECT", SpanContext: sc(2, false), Parent: sc(1, false), SpanKind: trace.SpanKindClient,
			StartTime: start, EndTime: start.Add(time.Millisecond), Resource: res1,
			InstrumentationScope: instrumentation.Scope{Name: "usersvc"},
		},
		{
			Name: "internal", SpanContext: sc(3, false), SpanKind: trace.SpanKindInternal, StartTime: start, EndTime: start,
			Status: sdktrace.Status{Code: codes.Ok}, Resource: res1,
			InstrumentationScope: instrumentation.Scope{Name: "other", SchemaURL: "https://opentelemetry.io/schemas/1.26.0",
				Attributes: attribute.NewSet(attribute.String("scope", "attr"))},
		},
		{
			Name: strings.Repeat("long name ", 20), SpanContext: sc(4, false), SpanKind: trace.SpanKindProducer,
			StartTime: start, EndTime: start.Add(time.Second), Resource: res2,
		},
		{Name: "consumer", SpanContext: sc(5, false), SpanKind: trace.SpanKindConsumer, StartTime: start, EndTime: start, Resource: res2},
		{Name: "unspecified", SpanContext: sc(6, false), SpanKind: trace.SpanKindUnspecified, Resource: res2},
	}
	return stubs.Snapshots()
}

// TestExportMatchesTheSDKExporter: a batch sent by httpExporter decodes to
// the same message as the same batch sent by the SDK's own OTLP/HTTP
// exporter, which is the reference for what a collector receives.
func TestExportMatchesTheSDKExporter(t *testing.T) {
	ctx := context.Background()
	spans := testSpans(t)

	want, wantURL := newCollector(t)
	sdkExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(wantURL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sdkExp.ExportSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	got, gotURL := newCollector(t)
	exp := newHTTPExporter(httpConfig{url: gotURL + "/v1/traces", timeout: 5 * time.Second})
	if err := exp.ExportSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	wb, _ := want.requests()
	gb, _ := got.requests()
	if len(wb) != 1 || len(gb) != 1 {
		t.Fatalf("requests: SDK %d, ours %d; want one each", len(wb), len(gb))
	}
	w, g := decode(t, wb[0]), decode(t, gb[0])
	if !proto.Equal(w, g) {
		t.Errorf("the export differs from the SDK exporter's:\nours: %s\nSDK:  %s", protojson.Format(g), protojson.Format(w))
	}
	if n := len(g.ResourceSpans); n != 2 {
		t.Errorf("%d resource groups, want 2", n)
	}

	// Reusing the buffer for a smaller batch leaves nothing of the last.
	if err := exp.ExportSpans(ctx, spans[1:2]); err != nil {
		t.Fatal(err)
	}
	gb, _ = got.requests()
	one := decode(t, gb[1])
	if len(one.ResourceSpans) != 1 || len(one.ResourceSpans[0].ScopeSpans) != 1 || len(one.ResourceSpans[0].ScopeSpans[0].Spans) != 1 ||
		one.ResourceSpans[0].ScopeSpans[0].Spans[0].Name != "SELECT" {
		t.Errorf("second batch: %s, want the one SELECT span", protojson.Format(one))
	}
}

func TestExportOptions(t *testing.T) {
	ctx := context.Background()
	spans := testSpans(t)
	c, url := newCollector(t)
	exp := newHTTPExporter(httpConfig{url: url + "/v1/traces", timeout: 5 * time.Second, gzip: true,
		headers: http.Header{"Api-Key": {"s e/cret"}}})
	if err := exp.ExportSpans(ctx, spans); err != nil {
		t.Fatal(err)
	}
	bodies, headers := c.requests()
	if len(bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(bodies))
	}
	if got := headers[0].Get("Content-Encoding"); got != "gzip" {
		t.Errorf("Content-Encoding %q, want gzip", got)
	}
	if got := headers[0].Get("Api-Key"); got != "s e/cret" {
		t.Errorf("Api-Key %q, want the configured header", got)
	}
	if n := len(decode(t, bodies[0]).ResourceSpans); n != 2 {
		t.Errorf("the gzipped body decodes to %d resource groups, want 2", n)
	}

	c.mu.Lock()
	c.status = http.StatusServiceUnavailable
	c.mu.Unlock()
	if err := exp.ExportSpans(ctx, spans); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a refused export returned %v, want the collector's status", err)
	}
	if err := exp.ExportSpans(ctx, nil); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exp.ExportSpans(ctx, spans); err != nil {
		t.Errorf("an export after Shutdown: %v, want nothing sent and no error", err)
	}
	if bodies, _ := c.requests(); len(bodies) != 2 {
		t.Errorf("%d requests reached the collector, want 2 (the empty batch and the one after Shutdown send nothing)", len(bodies))
	}
}

func TestHTTPConfigFromEnv(t *testing.T) {
	vars := []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
		"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_CERTIFICATE",
		"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY"}
	cases := []struct {
		name    string
		env     map[string]string
		url     string
		headers http.Header
		timeout time.Duration
		gzip    bool
		err     string
	}{
		{name: "base endpoint gets the traces path", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
			url: "http://127.0.0.1:4318/v1/traces", timeout: 10 * time.Second},
		{name: "base endpoint with a slash", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318/otlp/"},
			url: "https://collector:4318/otlp/v1/traces", timeout: 10 * time.Second},
		{name: "traces endpoint used as it is", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:2/custom"}, url: "http://b:2/custom", timeout: 10 * time.Second},
		{name: "headers, timeout and gzip, traces variables first", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_HEADERS": "x-general=1",
			"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "api-key=s%20e%2Fcret, tenant = blue ",
			"OTEL_EXPORTER_OTLP_TIMEOUT":        "2500", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip"},
			url: "http://a:1/v1/traces", headers: http.Header{"Api-Key": {"s e/cret"}, "Tenant": {"blue"}},
			timeout: 2500 * time.Millisecond, gzip: true},
		{name: "not a URL", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, err: "want an http:// or https:// URL"},
		{name: "header without value", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1",
			"OTEL_EXPORTER_OTLP_HEADERS": "api-key"}, err: "is not key=value"},
		{name: "bad timeout", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1",
			"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, err: "milliseconds"},
		{name: "unknown compression", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1",
			"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, err: "use gzip or none"},
		{name: "missing certificate file", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://a:1",
			"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}, err: "OTLP certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tc.env[v])
			}
			cfg, err := httpConfigFromEnv()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.headers == nil {
				tc.headers = http.Header{}
			}
			if cfg.url != tc.url || cfg.timeout != tc.timeout || cfg.gzip != tc.gzip || !maps.EqualFunc(cfg.headers, tc.headers, slices.Equal[[]string]) {
				t.Errorf("got url %q timeout %v gzip %v headers %v; want %q %v %v %v",
					cfg.url, cfg.timeout, cfg.gzip, cfg.headers, tc.url, tc.timeout, tc.gzip, tc.headers)
			}
		})
	}
}

// BenchmarkExport compares encoding and sending one batch of server spans
// with the SDK's OTLP/HTTP exporter and with httpExporter.
func BenchmarkExport(b *testing.B) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	res := resource.NewSchemaless(attribute.String("service.name", "usersvc"))
	start := time.Now()
	stubs := make(tracetest.SpanStubs, 512) // the batch processor's default batch
	for i := range stubs {
		stubs[i] = tracetest.SpanStub{Name: "GET /api/users/{userId}", SpanKind: trace.SpanKindServer,
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1, byte(i)}, TraceFlags: trace.FlagsSampled}),
			StartTime:   start, EndTime: start.Add(time.Millisecond), Resource: res,
			InstrumentationScope: instrumentation.Scope{Name: Name},
			Attributes: []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("http.route", "/api/users/{userId}"),
				attribute.Int("http.response.status_code", 200), attribute.String("url.scheme", "http"), attribute.String("usersvc.request_id", "0123456789abcdef")}}
	}
	spans := stubs.Snapshots()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	ctx := context.Background()
	sdkExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range []struct {
		name string
		exp  sdktrace.SpanExporter
	}{{"sdk-otlptracehttp", sdkExp}, {"usersvc", newHTTPExporter(httpConfig{url: srv.URL + "/v1/traces", timeout: 5 * time.Second})}} {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.exp.ExportSpans(ctx, spans); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
		})
	}
}
