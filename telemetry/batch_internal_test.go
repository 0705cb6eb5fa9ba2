package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// recordingExporter keeps the names of every batch it is given; while
// hold is set, each export waits until it is closed.
type recordingExporter struct {
	mu       sync.Mutex
	batches  [][]string
	hold     chan struct{}
	entered  chan struct{} // one value each time an export starts
	during   func()        // when set, called in each export
	shutdown int
}

func newRecordingExporter() *recordingExporter {
	return &recordingExporter{entered: make(chan struct{}, 1000)}
}

func (e *recordingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case e.entered <- struct{}{}:
	default: // nobody waits for that many exports
	}
	if e.during != nil {
		e.during()
	}
	if e.hold != nil {
		select {
		case <-e.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	e.mu.Lock()
	e.batches = append(e.batches, names)
	e.mu.Unlock()
	return nil
}

func (e *recordingExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	e.shutdown++
	e.mu.Unlock()
	return nil
}

func (e *recordingExporter) got() (batches [][]string, shutdowns int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([][]string(nil), e.batches...), e.shutdown
}

// noReport fails the test on any reported error or drop.
func noReport(t *testing.T) func(error) {
	return func(err error) { t.Errorf("reported %v", err) }
}

// ended is a sampled, ended span named name, as the SDK hands it over.
func ended(name string) sdktrace.ReadOnlySpan {
	return tracetest.SpanStub{Name: name, SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled,
	})}.Snapshot()
}

func names(prefix string, from, to int) []string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return s
}

func endAll(b *batcher, spans []string) {
	for _, n := range spans {
		b.OnEnd(ended(n))
	}
}

// waitExport waits for the exporter to start one export; a processor
// that never exports fails the test instead of hanging it.
func waitExport(t *testing.T, e *recordingExporter) {
	t.Helper()
	select {
	case <-e.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no export started")
	}
}

func TestBatchConfigFromEnv(t *testing.T) {
	vars := []string{"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"}
	for _, tc := range []struct {
		env     map[string]string
		want    batchConfig
		wantErr string
	}{
		{env: nil, want: batchConfig{5 * time.Second, 30 * time.Second, 2048, 512}},
		{env: map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_EXPORT_TIMEOUT": "1000", "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10"},
			want: batchConfig{250 * time.Millisecond, time.Second, 100, 10}},
		// A batch larger than the queue: the smaller of 512 and the queue.
		{env: map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100"}, want: batchConfig{5 * time.Second, 30 * time.Second, 100, 100}},
		{env: map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "8192"}, want: batchConfig{5 * time.Second, 30 * time.Second, 4096, 512}},
		{env: map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "0"}, wantErr: `OTEL_BSP_SCHEDULE_DELAY "0": want a positive integer`},
		{env: map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-5"}, wantErr: `OTEL_BSP_MAX_QUEUE_SIZE "-5"`},
		{env: map[string]string{"OTEL_BSP_EXPORT_TIMEOUT": "5s"}, wantErr: `OTEL_BSP_EXPORT_TIMEOUT "5s"`},
	} {
		for _, k := range vars {
			t.Setenv(k, tc.env[k]) // empty: unset for batchConfigFromEnv
		}
		got, err := batchConfigFromEnv()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case got != tc.want:
			t.Errorf("%v: %+v, want %+v", tc.env, got, tc.want)
		}
	}
}

// A full batch is exported without waiting for the schedule delay (an
// hour here), in the order the spans ended; a partial one waits for it or
// for ForceFlush; unsampled spans are not exported.
func TestBatcherExportsFullBatchesAtOnce(t *testing.T) {
	e := newRecordingExporter()
	b := newBatcher(e, batchConfig{delay: time.Hour, timeout: time.Minute, maxQueue: 16, maxBatch: 4}, noReport(t))
	defer b.Shutdown(context.Background())
	endAll(b, names("s", 0, 4))
	waitExport(t, e)
	endAll(b, names("s", 4, 7))
	unsampled := tracetest.SpanStub{Name: "unsampled"}.Snapshot()
	b.OnEnd(unsampled)
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := e.got()
	want := [][]string{names("s", 0, 4), names("s", 4, 7)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}

// The schedule delay bounds how long a lone span waits: it is exported
// without a full batch or a flush.
func TestBatcherExportsALoneSpanAfterTheDelay(t *testing.T) {
	e := newRecordingExporter()
	b := newBatcher(e, batchConfig{delay: 20 * time.Millisecond, timeout: time.Minute, maxQueue: 16, maxBatch: 4}, noReport(t))
	defer b.Shutdown(context.Background())
	b.OnEnd(ended("alone"))
	waitExport(t, e)
	// waitExport saw the export begin; ForceFlush waits for it to finish.
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.got(); fmt.Sprint(got) != "[[alone]]" {
		t.Fatalf("batches %v, want [[alone]]", got)
	}
}

// The bad interleaving: the collector stalls mid-export while requests
// keep ending spans. OnEnd never waits; at most maxQueue spans wait
// behind the stalled batch, the rest are dropped, and the drop is
// reported through otel.Handle.
func TestBatcherDropsWhatTheQueueCannotHold(t *testing.T) {
	var mu sync.Mutex
	var reported []string
	report := func(err error) { mu.Lock(); reported = append(reported, err.Error()); mu.Unlock() }

	e := newRecordingExporter()
	e.hold = make(chan struct{})
	b := newBatcher(e, batchConfig{delay: time.Hour, timeout: time.Minute, maxQueue: 4, maxBatch: 2}, report)
	endAll(b, names("s", 0, 2)) // a full batch: taken for export, which stalls
	waitExport(t, e)
	done := make(chan struct{})
	go func() { endAll(b, names("s", 2, 9)); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("OnEnd waited on a stalled exporter")
	}
	close(e.hold)
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, shutdowns := e.got()
	want := [][]string{{"s0", "s1"}, {"s2", "s3"}, {"s4", "s5"}}
	if fmt.Sprint(got) != fmt.Sprint(want) || shutdowns != 1 {
		t.Fatalf("batches %v and %d exporter shutdowns, want %v and 1", got, shutdowns, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(reported) != "[3 spans dropped: the export queue (OTEL_BSP_MAX_QUEUE_SIZE 4) was full]" {
		t.Fatalf("reported %q", reported)
	}
}

// ForceFlush exports what was queued when it was called: spans that keep
// ending while it exports (here one more during each export) cannot keep
// it going.
func TestBatcherForceFlushUnderLoad(t *testing.T) {
	e := newRecordingExporter()
	b := newBatcher(e, batchConfig{delay: time.Hour, timeout: time.Minute, maxQueue: 16, maxBatch: 4}, noReport(t))
	defer b.Shutdown(context.Background())
	e.during = func() { b.OnEnd(ended("later")) }
	endAll(b, names("s", 0, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush under load: %v", err)
	}
	if got, _ := e.got(); fmt.Sprint(got) != fmt.Sprint([][]string{names("s", 0, 3)}) {
		t.Fatalf("batches %v, want only the three queued before ForceFlush", got)
	}
}

// Shutdown exports what is queued, shuts the exporter down once, and
// drops spans ended after it; a stalled exporter makes it return its
// context's error instead of waiting forever.
func TestBatcherShutdown(t *testing.T) {
	e := newRecordingExporter()
	b := newBatcher(e, batchConfig{delay: time.Hour, timeout: time.Minute, maxQueue: 16, maxBatch: 4}, noReport(t))
	endAll(b, names("s", 0, 3))
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.OnEnd(ended("late"))
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, shutdowns := e.got()
	if fmt.Sprint(got) != fmt.Sprint([][]string{names("s", 0, 3)}) || shutdowns != 1 {
		t.Fatalf("batches %v and %d exporter shutdowns", got, shutdowns)
	}

	stalled := newRecordingExporter()
	stalled.hold = make(chan struct{})
	defer close(stalled.hold)
	b = newBatcher(stalled, batchConfig{delay: time.Hour, timeout: time.Minute, maxQueue: 16, maxBatch: 4}, func(error) {} /* its export ends after the test */)
	b.OnEnd(ended("stuck"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a stalled exporter: %v", err)
	}
}

// An export that outlives OTEL_BSP_EXPORT_TIMEOUT is cancelled and
// reported; the next batch is exported as usual.
func TestBatcherExportTimeout(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	report := func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }

	e := newRecordingExporter()
	e.hold = make(chan struct{}) // never closed: every export runs into the timeout
	b := newBatcher(e, batchConfig{delay: time.Hour, timeout: 20 * time.Millisecond, maxQueue: 16, maxBatch: 2}, report)
	defer b.Shutdown(context.Background())
	endAll(b, names("s", 0, 2))
	waitExport(t, e)
	// ForceFlush waits for the running export, then finds nothing queued.
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !errors.Is(reported[0], context.DeadlineExceeded) {
		t.Fatalf("reported %v, want one deadline error", reported)
	}
}

// Spans ended from many goroutines while batches are exported: each is
// exported once or counted as dropped, never both, never lost (run with
// -race).
func TestBatcherConcurrentEnds(t *testing.T) {
	var mu sync.Mutex
	dropped := 0
	report := func(err error) {
		var n int
		if _, scanErr := fmt.Sscanf(err.Error(), "%d spans dropped", &n); scanErr == nil {
			mu.Lock()
			dropped += n
			mu.Unlock()
		} else {
			t.Errorf("reported %v", err)
		}
	}

	e := newRecordingExporter()
	b := newBatcher(e, batchConfig{delay: time.Millisecond, timeout: time.Minute, maxQueue: 64, maxBatch: 8}, report)
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() { endAll(b, names(fmt.Sprintf("g%d-", g), 0, each)) })
	}
	wg.Wait()
	if err := b.ForceFlush(context.Background()); err != nil { // reports the drops so far
		t.Fatal(err)
	}
	b.OnEnd(ended("last")) // the queue has room: never dropped
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := e.got()
	seen := map[string]bool{}
	for _, batch := range got {
		if len(batch) > 8 {
			t.Fatalf("a batch of %d spans, more than 8", len(batch))
		}
		for _, n := range batch {
			if seen[n] {
				t.Fatalf("%s exported twice", n)
			}
			seen[n] = true
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen)+dropped != goroutines*each+1 || !seen["last"] {
		t.Fatalf("%d exported and %d dropped, want %d in all, \"last\" among them", len(seen), dropped, goroutines*each+1)
	}
}
