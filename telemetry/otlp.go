package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// httpExporter sends spans as OTLP over HTTP (binary protobuf), the batch
// processor's exporter for OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf.
//
// It writes each batch straight into one reused buffer in OTLP's wire
// format. The SDK's own OTLP exporter (otlptracehttp) first converts every
// span into generated protobuf structs and then marshals those: on a
// server tracing every request that was about 4% of its CPU and a third of
// a span's allocations (docs/benchmarks.md). The bytes it sends decode to
// the same message as that exporter's, which a test checks against it.
//
// What it reads from the environment is the OTLP exporter's standard set:
// the endpoint, headers, timeout, compression (gzip or none) and the TLS
// certificate files. Unlike otlptracehttp it does not retry: a batch that
// fails is dropped and the error reported (rate-limited to the log), and
// the next batch is sent as usual.
type httpExporter struct {
	cfg    httpConfig
	client *http.Client

	mu   sync.Mutex // one export at a time
	buf  []byte
	zbuf bytes.Buffer
	zw   *gzip.Writer
	down bool
}

type httpConfig struct {
	url     string
	headers http.Header
	timeout time.Duration
	gzip    bool
	tls     *tls.Config
}

// envFirst is the first of the variables that is set (a traces-specific
// variable before the general one).
func envFirst(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// httpConfigFromEnv reads the OTLP exporter variables, each
// OTEL_EXPORTER_OTLP_TRACES_X before OTEL_EXPORTER_OTLP_X, as the OTLP
// exporter specification defines them: a traces endpoint is used as it
// is, a general one gets /v1/traces appended; headers are comma-separated
// key=value pairs with URL-encoded values; the timeout is in milliseconds
// (default 10 s).
func httpConfigFromEnv() (httpConfig, error) {
	cfg := httpConfig{headers: http.Header{}}
	if u := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); u != "" {
		cfg.url = u
	} else if u := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); u != "" {
		cfg.url = strings.TrimSuffix(u, "/") + "/v1/traces"
	}
	if p, err := url.Parse(cfg.url); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return cfg, fmt.Errorf("OTLP endpoint %q: want an http:// or https:// URL", cfg.url)
	}
	if h := envFirst("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"); h != "" {
		for _, pair := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(pair, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				return cfg, fmt.Errorf("OTLP headers: %q is not key=value", pair)
			}
			dv, err := url.PathUnescape(strings.TrimSpace(v))
			if err != nil {
				return cfg, fmt.Errorf("OTLP headers: value of %q: %w", k, err)
			}
			cfg.headers.Add(k, dv)
		}
	}
	ms, err := positive("OTLP timeout (milliseconds)", envFirst("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"), 10_000)
	if err != nil {
		return cfg, err
	}
	cfg.timeout = time.Duration(ms) * time.Millisecond
	switch c := envFirst("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"); c {
	case "", "none":
	case "gzip":
		cfg.gzip = true
	default:
		return cfg, fmt.Errorf("OTLP compression %q: use gzip or none", c)
	}
	ca := envFirst("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
	cert := envFirst("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
	key := envFirst("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
	if ca != "" || cert != "" || key != "" {
		cfg.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return cfg, fmt.Errorf("OTLP certificate: %w", err)
			}
			cfg.tls.RootCAs = x509.NewCertPool()
			if !cfg.tls.RootCAs.AppendCertsFromPEM(pem) {
				return cfg, fmt.Errorf("OTLP certificate %s: no PEM certificate in it", ca)
			}
		}
		if cert != "" || key != "" {
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return cfg, fmt.Errorf("OTLP client certificate: %w", err)
			}
			cfg.tls.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg, nil
}

func newHTTPExporter(cfg httpConfig) *httpExporter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg.tls
	tr.MaxIdleConnsPerHost = 2
	return &httpExporter{cfg: cfg, client: &http.Client{Transport: tr, Timeout: cfg.timeout}}
}

// ExportSpans sends one batch. It is called by the batch processor's one
// goroutine; the lock makes a second caller wait its turn.
func (e *httpExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return nil
	}
	e.buf = appendRequest(e.buf[:0], spans)
	body := e.buf
	if e.cfg.gzip {
		e.zbuf.Reset()
		if e.zw == nil {
			e.zw = gzip.NewWriter(&e.zbuf)
		} else {
			e.zw.Reset(&e.zbuf)
		}
		if _, err := e.zw.Write(body); err != nil {
			return err
		}
		if err := e.zw.Close(); err != nil {
			return err
		}
		body = e.zbuf.Bytes()
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range e.cfg.headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if e.cfg.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("exporting %d spans: %w", len(spans), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("exporting %d spans: the collector answered %s", len(spans), resp.Status)
	}
	return nil
}

// Shutdown stops exporting; the batch processor has flushed before it.
func (e *httpExporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = true
	e.client.CloseIdleConnections()
	return ctx.Err()
}

// Field numbers of the OTLP messages written (opentelemetry-proto,
// collector/trace/v1, trace/v1, common/v1, resource/v1).
const (
	fRequestResourceSpans = 1 // ExportTraceServiceRequest.resource_spans

	fResourceSpansResource   = 1
	fResourceSpansScopeSpans = 2
	fResourceSpansSchemaURL  = 3

	fResourceAttributes = 1

	fScopeSpansScope     = 1
	fScopeSpansSpans     = 2
	fScopeSpansSchemaURL = 3

	fScopeName       = 1
	fScopeVersion    = 2
	fScopeAttributes = 3

	fSpanTraceID           = 1
	fSpanSpanID            = 2
	fSpanTraceState        = 3
	fSpanParentSpanID      = 4
	fSpanName              = 5
	fSpanKind              = 6
	fSpanStart             = 7
	fSpanEnd               = 8
	fSpanAttributes        = 9
	fSpanDroppedAttributes = 10
	fSpanEvents            = 11
	fSpanDroppedEvents     = 12
	fSpanLinks             = 13
	fSpanDroppedLinks      = 14
	fSpanStatus            = 15
	fSpanFlags             = 16

	fEventTime              = 1
	fEventName              = 2
	fEventAttributes        = 3
	fEventDroppedAttributes = 4

	fLinkTraceID           = 1
	fLinkSpanID            = 2
	fLinkAttributes        = 4
	fLinkDroppedAttributes = 5
	fLinkFlags             = 6

	fStatusMessage = 2
	fStatusCode    = 3

	fKeyValueKey   = 1
	fKeyValueValue = 2

	fAnyString = 1
	fAnyBool   = 2
	fAnyInt    = 3
	fAnyDouble = 4
	fAnyArray  = 5
	fAnyKVList = 6
	fAnyBytes  = 7

	fArrayValues  = 1 // ArrayValue.values
	fKVListValues = 1 // KeyValueList.values

	// SpanFlags: the low 8 bits are the W3C trace flags.
	flagHasIsRemote = 0x100
	flagIsRemote    = 0x200
)

// begin starts an embedded message (field num) and returns where its
// bytes start; end writes its length in front of them. One byte is
// reserved for the length, and the bytes are moved when it needs more.
func begin(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

func end(b []byte, at int) []byte {
	n := len(b) - at
	size := protowire.SizeVarint(uint64(n))
	if size > 1 {
		var pad [9]byte
		b = append(b, pad[:size-1]...)
		copy(b[at+size-1:], b[at:at+n])
	}
	protowire.AppendVarint(b[:at-1], uint64(n))
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendUvarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendFixed64(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

func appendFixed32(b []byte, num protowire.Number, v uint32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, v)
}

func unixNano(t time.Time) uint64 { return uint64(max(0, t.UnixNano())) } //nolint:gosec // clamped

func clampUint32(v int) uint64 { return uint64(min(max(v, 0), math.MaxUint32)) } //nolint:gosec // clamped

// appendRequest writes an ExportTraceServiceRequest holding spans,
// grouped by resource and then by instrumentation scope.
func appendRequest(b []byte, spans []sdktrace.ReadOnlySpan) []byte {
	type group struct {
		res    *resource.Resource
		scopes []instrumentation.Scope
		spans  [][]sdktrace.ReadOnlySpan
	}
	var groups []group // a batch has one resource and a scope or two
	for _, s := range spans {
		if s == nil {
			continue
		}
		res, scope := s.Resource(), s.InstrumentationScope()
		gi := -1
		for i := range groups {
			if groups[i].res == res || groups[i].res.Equal(res) {
				gi = i
				break
			}
		}
		if gi < 0 {
			groups = append(groups, group{res: res})
			gi = len(groups) - 1
		}
		g := &groups[gi]
		si := -1
		for i := range g.scopes {
			if g.scopes[i] == scope {
				si = i
				break
			}
		}
		if si < 0 {
			g.scopes = append(g.scopes, scope)
			g.spans = append(g.spans, nil)
			si = len(g.scopes) - 1
		}
		g.spans[si] = append(g.spans[si], s)
	}
	for _, g := range groups {
		var rs int
		b, rs = begin(b, fRequestResourceSpans)
		if g.res != nil {
			var r int
			b, r = begin(b, fResourceSpansResource)
			for it := g.res.Iter(); it.Next(); {
				b = appendKeyValue(b, fResourceAttributes, it.Attribute())
			}
			b = end(b, r)
		}
		for i, scope := range g.scopes {
			var ss int
			b, ss = begin(b, fResourceSpansScopeSpans)
			if scope != (instrumentation.Scope{}) {
				var sc int
				b, sc = begin(b, fScopeSpansScope)
				b = appendString(b, fScopeName, scope.Name)
				b = appendString(b, fScopeVersion, scope.Version)
				for it := scope.Attributes.Iter(); it.Next(); {
					b = appendKeyValue(b, fScopeAttributes, it.Attribute())
				}
				b = end(b, sc)
			}
			for _, s := range g.spans[i] {
				b = appendSpan(b, s)
			}
			b = appendString(b, fScopeSpansSchemaURL, scope.SchemaURL)
			b = end(b, ss)
		}
		if g.res != nil {
			b = appendString(b, fResourceSpansSchemaURL, g.res.SchemaURL())
		}
		b = end(b, rs)
	}
	return b
}

func appendSpan(b []byte, s sdktrace.ReadOnlySpan) []byte {
	var at int
	b, at = begin(b, fScopeSpansSpans)
	sc := s.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	b = appendBytes(b, fSpanTraceID, tid[:])
	b = appendBytes(b, fSpanSpanID, sid[:])
	b = appendString(b, fSpanTraceState, sc.TraceState().String())
	parent := s.Parent()
	if psid := parent.SpanID(); psid.IsValid() {
		b = appendBytes(b, fSpanParentSpanID, psid[:])
	}
	b = appendString(b, fSpanName, s.Name())
	b = appendUvarint(b, fSpanKind, uint64(spanKind(s.SpanKind())))
	b = appendFixed64(b, fSpanStart, unixNano(s.StartTime()))
	b = appendFixed64(b, fSpanEnd, unixNano(s.EndTime()))
	for _, kv := range s.Attributes() {
		b = appendKeyValue(b, fSpanAttributes, kv)
	}
	b = appendUvarint(b, fSpanDroppedAttributes, clampUint32(s.DroppedAttributes()))
	for _, ev := range s.Events() {
		var e int
		b, e = begin(b, fSpanEvents)
		b = appendFixed64(b, fEventTime, unixNano(ev.Time))
		b = appendString(b, fEventName, ev.Name)
		for _, kv := range ev.Attributes {
			b = appendKeyValue(b, fEventAttributes, kv)
		}
		b = appendUvarint(b, fEventDroppedAttributes, clampUint32(ev.DroppedAttributeCount))
		b = end(b, e)
	}
	b = appendUvarint(b, fSpanDroppedEvents, clampUint32(s.DroppedEvents()))
	for _, l := range s.Links() {
		var li int
		b, li = begin(b, fSpanLinks)
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		b = appendBytes(b, fLinkTraceID, ltid[:])
		b = appendBytes(b, fLinkSpanID, lsid[:])
		for _, kv := range l.Attributes {
			b = appendKeyValue(b, fLinkAttributes, kv)
		}
		b = appendUvarint(b, fLinkDroppedAttributes, clampUint32(l.DroppedAttributeCount))
		b = appendFixed32(b, fLinkFlags, spanFlags(l.SpanContext.TraceFlags(), l.SpanContext))
		b = end(b, li)
	}
	b = appendUvarint(b, fSpanDroppedLinks, clampUint32(s.DroppedLinks()))
	st := s.Status()
	var si int
	b, si = begin(b, fSpanStatus) // always present, as the SDK's exporter sends it
	b = appendString(b, fStatusMessage, st.Description)
	b = appendUvarint(b, fStatusCode, statusCode(st.Code))
	b = end(b, si)
	b = appendFixed32(b, fSpanFlags, spanFlags(sc.TraceFlags(), parent))
	return end(b, at)
}

// spanFlags is the W3C trace flags, with whether the parent is remote
// (always known here).
func spanFlags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	f := uint32(tf) | flagHasIsRemote
	if parent.IsRemote() {
		f |= flagIsRemote
	}
	return f
}

// spanKind is OTLP's SpanKind number (UNSPECIFIED 0, INTERNAL 1, SERVER 2,
// CLIENT 3, PRODUCER 4, CONSUMER 5).
func spanKind(k trace.SpanKind) int {
	switch k {
	case trace.SpanKindInternal:
		return 1
	case trace.SpanKindServer:
		return 2
	case trace.SpanKindClient:
		return 3
	case trace.SpanKindProducer:
		return 4
	case trace.SpanKindConsumer:
		return 5
	}
	return 0
}

// statusCode is OTLP's StatusCode number (UNSET 0, OK 1, ERROR 2).
func statusCode(c codes.Code) uint64 {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	}
	return 0
}

func appendKeyValue(b []byte, num protowire.Number, kv attribute.KeyValue) []byte {
	var at int
	b, at = begin(b, num)
	b = appendString(b, fKeyValueKey, string(kv.Key))
	b = appendAnyValue(b, fKeyValueValue, kv.Value)
	return end(b, at)
}

// appendAnyValue writes an AnyValue. Its value is a oneof, so it is
// written even when it is the zero value (an empty string is still a
// string).
func appendAnyValue(b []byte, num protowire.Number, v attribute.Value) []byte {
	var at int
	b, at = begin(b, num)
	switch v.Type() {
	case attribute.BOOL:
		b = protowire.AppendTag(b, fAnyBool, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		b = protowire.AppendTag(b, fAnyInt, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v.AsInt64())) //nolint:gosec // two's complement, as protobuf's int64
	case attribute.FLOAT64:
		b = protowire.AppendTag(b, fAnyDouble, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		b = protowire.AppendTag(b, fAnyString, protowire.BytesType)
		b = protowire.AppendString(b, v.AsString())
	case attribute.BYTESLICE:
		b = appendBytes(b, fAnyBytes, v.AsByteSlice())
	case attribute.BOOLSLICE:
		b = appendArray(b, v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		b = appendArray(b, v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		b = appendArray(b, v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		b = appendArray(b, v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		b = appendArray(b, v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		var l int
		b, l = begin(b, fAnyKVList)
		for _, kv := range v.AsMap() {
			b = appendKeyValue(b, fKVListValues, kv)
		}
		b = end(b, l)
	case attribute.EMPTY:
	default:
		b = protowire.AppendTag(b, fAnyString, protowire.BytesType)
		b = protowire.AppendString(b, "INVALID")
	}
	return end(b, at)
}

func appendArray[T any](b []byte, vs []T, value func(T) attribute.Value) []byte {
	var at int
	b, at = begin(b, fAnyArray)
	for _, v := range vs {
		b = appendAnyValue(b, fArrayValues, value(v))
	}
	return end(b, at)
}
