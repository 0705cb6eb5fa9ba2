package telemetry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// batcher is the span processor Start installs: the SDK's batch span
// processor's contract (a bounded queue that drops spans when full, export
// in batches, at the latest a schedule delay after a span ended, flush on
// ForceFlush and Shutdown) without its per-span hand-off.
//
// The SDK's processor sends every ended span over a channel to its
// goroutine, which therefore wakes (a futex call and a trip through the
// scheduler on both sides) once per span: on a server tracing every
// request that was about a third of tracing's cost (docs/benchmarks.md).
// Here a span is appended to the queue under a mutex, and the exporting
// goroutine is woken once per full batch or by its ticker.
//
// The bounds, as the SDK's: at most maxQueue ended spans wait (the rest
// are dropped and counted; the count is reported with the export errors,
// through otel.Handle in the service, so logged at a bounded rate); a span waits at most delay, plus the exports
// ahead of it, each bounded by timeout.
type batcher struct {
	exp      sdktrace.SpanExporter
	delay    time.Duration // OTEL_BSP_SCHEDULE_DELAY
	timeout  time.Duration // OTEL_BSP_EXPORT_TIMEOUT
	maxQueue int           // OTEL_BSP_MAX_QUEUE_SIZE
	maxBatch int           // OTEL_BSP_MAX_EXPORT_BATCH_SIZE

	mu      sync.Mutex
	queue   []sdktrace.ReadOnlySpan // ended, not yet taken for export
	stopped bool
	dropped atomic.Int64 // spans refused because the queue was full, since the last report

	kick chan struct{} // a full batch waits (capacity 1: one wake-up per batch)
	stop chan struct{} // closed by Shutdown
	done chan struct{} // closed when run returns

	report func(error) // export errors and drops: otel.Handle in the service

	exportMu sync.Mutex              // one export at a time (run, ForceFlush)
	batch    []sdktrace.ReadOnlySpan // the batch being exported, reused
	stopOnce sync.Once
}

// batchConfig are the batch processor's settings: the SDK's defaults,
// overridden by the standard OTEL_BSP_* variables.
type batchConfig struct {
	delay, timeout     time.Duration
	maxQueue, maxBatch int
}

// batchConfigFromEnv reads OTEL_BSP_SCHEDULE_DELAY and
// OTEL_BSP_EXPORT_TIMEOUT (milliseconds), OTEL_BSP_MAX_QUEUE_SIZE and
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, with the SDK's defaults (5 s, 30 s,
// 2048, 512). A batch larger than the queue is the smaller of 512 and the
// queue, as in the SDK. A value that is not a positive integer is an
// error: the service does not start on a setting it cannot honour.
func batchConfigFromEnv() (batchConfig, error) {
	delay, err1 := positive("OTEL_BSP_SCHEDULE_DELAY", os.Getenv("OTEL_BSP_SCHEDULE_DELAY"), sdktrace.DefaultScheduleDelay)
	timeout, err2 := positive("OTEL_BSP_EXPORT_TIMEOUT", os.Getenv("OTEL_BSP_EXPORT_TIMEOUT"), sdktrace.DefaultExportTimeout)
	queue, err3 := positive("OTEL_BSP_MAX_QUEUE_SIZE", os.Getenv("OTEL_BSP_MAX_QUEUE_SIZE"), sdktrace.DefaultMaxQueueSize)
	batch, err4 := positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", os.Getenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"), sdktrace.DefaultMaxExportBatchSize)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return batchConfig{}, err
	}
	if batch > queue {
		batch = min(sdktrace.DefaultMaxExportBatchSize, queue)
	}
	return batchConfig{delay: time.Duration(delay) * time.Millisecond, timeout: time.Duration(timeout) * time.Millisecond,
		maxQueue: queue, maxBatch: batch}, nil
}

// positive is the value s of the setting name, which must be a positive
// integer; def when s is empty.
func positive(name, s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive integer", name, s)
	}
	return n, nil
}

func newBatcher(exp sdktrace.SpanExporter, c batchConfig, report func(error)) *batcher {
	b := &batcher{
		exp: exp, report: report, delay: c.delay, timeout: c.timeout, maxQueue: c.maxQueue, maxBatch: c.maxBatch,
		queue: make([]sdktrace.ReadOnlySpan, 0, c.maxBatch),
		batch: make([]sdktrace.ReadOnlySpan, 0, c.maxBatch),
		kick:  make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go b.run()
	return b
}

// OnStart does nothing: only ended spans are exported.
func (b *batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span, or drops it when the queue is full or the
// processor is shut down. It never waits on the exporter.
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= b.maxQueue {
		b.mu.Unlock()
		b.dropped.Add(1)
		return
	}
	b.queue = append(b.queue, s)
	full := len(b.queue) == b.maxBatch
	b.mu.Unlock()
	if full {
		select {
		case b.kick <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// run exports full batches when woken, and everything queued at each tick.
func (b *batcher) run() {
	defer close(b.done)
	t := time.NewTicker(b.delay)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-b.kick:
			b.export(context.Background(), b.maxBatch, math.MaxInt)
		case <-t.C:
			b.export(context.Background(), 1, math.MaxInt)
		}
	}
}

// export sends the queue in batches of up to maxBatch while at least
// least spans wait, up to limit spans in all, and returns the first error
// (each is also reported, as the SDK's processor hands them to
// otel.Handle).
func (b *batcher) export(ctx context.Context, least, limit int) error {
	b.exportMu.Lock()
	defer b.exportMu.Unlock()
	if n := b.dropped.Swap(0); n > 0 {
		b.report(fmt.Errorf("%d spans dropped: the export queue (OTEL_BSP_MAX_QUEUE_SIZE %d) was full", n, b.maxQueue))
	}
	var first error
	for {
		b.mu.Lock()
		if len(b.queue) < least || len(b.queue) == 0 || limit <= 0 {
			b.mu.Unlock()
			return first
		}
		n := min(len(b.queue), b.maxBatch, limit)
		limit -= n
		b.batch = append(b.batch[:0], b.queue[:n]...)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()

		ectx, cancel := context.WithTimeoutCause(ctx, b.timeout, errors.New("span export timed out (OTEL_BSP_EXPORT_TIMEOUT)"))
		err := b.exp.ExportSpans(ectx, b.batch)
		cancel()
		clear(b.batch) // the spans are garbage now
		if err != nil {
			b.report(err)
			if first == nil {
				first = err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// ForceFlush exports as many spans as were queued when it was called
// (spans that keep ending under load cannot keep it going), or returns
// ctx's error when ctx ends first (the export goes on, bounded by its
// timeout).
func (b *batcher) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	queued := len(b.queue)
	b.mu.Unlock()
	return within(ctx, func() error { return b.export(ctx, 1, queued) })
}

// Shutdown stops the processor, exports what is queued and shuts the
// exporter down, or returns ctx's error when ctx ends first; spans ended
// after it are dropped. Only the first call does anything.
func (b *batcher) Shutdown(ctx context.Context) error {
	var err error
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
		err = within(ctx, func() error {
			<-b.done
			return errors.Join(b.export(ctx, 1, math.MaxInt), b.exp.Shutdown(ctx)) // nothing is queued after stopped
		})
	})
	return err
}

// within runs f and returns its error, or ctx's if ctx ends first: an
// exporter that ignores its context cannot hold the caller.
func within(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	go func() { res <- f() }()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
