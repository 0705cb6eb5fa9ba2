package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"usersvc/internal/testenv"
	"usersvc/server"
	"usersvc/telemetry"
)

// TestStalledCollectorHoldsNoRequest: with tracing on as the service
// starts it (telemetry.Start: the SDK's batch processor and OTLP
// exporter), a collector that takes an export and never answers holds no
// request. Once it holds one, 300 more requests through the whole handler
// all complete while it still has not answered: ending a span never waits
// on the exporter (its queue is full within a few requests here, and the
// rest are dropped).
func TestStalledCollectorHoldsNoRequest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		e.Svc.DailyQuota = 1 << 40
		var received, answered atomic.Int64
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			received.Add(1)
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-release
			answered.Add(1)
		}))
		defer collector.Close()

		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
		t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
		t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "16")
		t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4")
		t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "600000") // the export stays stalled for the whole test
		t.Setenv("OTEL_BSP_EXPORT_TIMEOUT", "600000")
		prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
		stop, err := telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			close(release) // the stalled export ends; the rest flush
			otel.SetTracerProvider(prevTP)
			otel.SetTextMapPropagator(prevProp)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = stop(ctx)
		}()
		h := server.New(e.Svc, server.Config{Tracing: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		get := func() {
			t.Helper()
			if r := testenv.Do(t, h, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, ""); r.Status != 200 {
				t.Fatalf("GET: %d %s", r.Status, r.Body)
			}
		}
		for range 8 { // a full batch of 4 spans and more: an export starts
			get()
		}
		select {
		case <-arrived:
		case <-time.After(time.Minute): // a bound, not a measurement
			t.Fatal("no export reached the collector")
		}
		for range 300 {
			get()
		}
		if answered.Load() != 0 || received.Load() == 0 {
			t.Fatalf("the collector received %d exports and answered %d; want it stalled on at least one", received.Load(), answered.Load())
		}
	})
}
