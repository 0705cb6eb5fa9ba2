package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"

	"usersvc/internal/testenv"
	"usersvc/server"
	"usersvc/telemetry"
)

// BenchmarkGetOwnUserTraced is a user reading their own record through the
// whole handler with tracing off and with every request sampled and
// exported (telemetry.Start as the service runs it: the SDK's batch
// processor and OTLP over HTTP to a sink that drops what it reads), on
// SQLite: the cost of tracing on per request.
func BenchmarkGetOwnUserTraced(b *testing.B) {
	db := testenv.BenchDBs(b)[0]
	e := testenv.Start(b, db)
	e.Svc.DailyQuota = 1 << 40
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer sink.Close()
	for _, traced := range []bool{false, true} {
		name := "off"
		if traced {
			name = "on"
			b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.URL)
			b.Setenv("OTEL_TRACES_SAMPLER", "always_on")
			prev := otel.GetTracerProvider()
			stop, err := telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { otel.SetTracerProvider(prev); _ = stop(context.Background()) }()
		}
		h := server.New(e.Svc, server.Config{Tracing: traced, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := testenv.ProcessCPU(b)
			for b.Loop() {
				if r := testenv.Do(b, h, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, ""); r.Status != 200 {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
			// The whole process's CPU, the export's goroutine and the
			// sink included: what ns/op (one goroutine's wall time) misses.
			b.ReportMetric(float64(testenv.ProcessCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
