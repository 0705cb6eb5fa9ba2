package usersvc_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"usersvc"
)

// TestFlushTracesOnlyWork: a flush that finds nothing to do (an idle
// server's, every second) makes no trace; one that writes or re-reads
// counts is a trace of its own, usersvc.usage.flush, with no parent.
func TestFlushTracesOnlyWork(t *testing.T) {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(ctx) }()
	m := usersvc.NewMeter(newFakeUsage())
	m.Traces = tp
	flush := func(n int) tracetest.SpanStubs {
		t.Helper()
		exp.Reset()
		for range n {
			if err := m.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return exp.GetSpans()
	}
	if spans := flush(3); len(spans) != 0 {
		t.Fatalf("3 flushes with nothing counted made %d spans: %v", len(spans), spans)
	}
	if _, err := m.Count(ctx, "usr-a", "2026-12-07"); err != nil {
		t.Fatal(err)
	}
	// The flush that writes the count, then the two that re-read the
	// user's stored counts before it is forgotten (Meter.Flush).
	spans := flush(3)
	if len(spans) != 3 {
		t.Fatalf("3 flushes after a count made %d spans, want 3: %v", len(spans), spans)
	}
	for _, s := range spans {
		if s.Name != "usersvc.usage.flush" || s.Parent.IsValid() {
			t.Errorf("span %q with parent %v, want usersvc.usage.flush, a root", s.Name, s.Parent)
		}
	}
	if spans := flush(3); len(spans) != 0 {
		t.Fatalf("once the user is forgotten, 3 flushes made %d spans: %v", len(spans), spans)
	}

	// Meter.Run as the service runs it, idle: flush after flush, no trace.
	exp.Reset()
	flushed := make(chan struct{}, 1)
	m.Flushed = func(int, error) {
		select {
		case flushed <- struct{}{}:
		default:
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); m.Run(runCtx, time.Millisecond, nil) }()
	for range 20 {
		select {
		case <-flushed:
		case <-time.After(time.Minute): // a bound, not a measurement
			t.Fatal("Meter.Run does not flush")
		}
	}
	stop()
	<-done
	if spans := exp.GetSpans(); len(spans) != 0 {
		t.Fatalf("an idle Meter.Run made %d spans: %v", len(spans), spans)
	}
}
