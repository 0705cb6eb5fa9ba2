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
// whole handler with tracing off, at the recommended sampler ratio (1%),
// and with every request sampled and exported (telemetry.Start as the
// service runs it: the SDK's batch processor and OTLP over HTTP to a sink
// that drops what it reads), on SQLite: the cost of tracing per request.
func BenchmarkGetOwnUserTraced(b *testing.B) {
	db := testenv.BenchDBs(b)[0]
	e := testenv.Start(b, db)
	e.Svc.DailyQuota = 1 << 40
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer sink.Close()
	for _, mode := range []struct{ name, sampler, arg string }{
		{"off", "", ""},
		{"ratio", "parentbased_traceidratio", "0.01"}, // docs/deploy.md's recommendation
		{"on", "always_on", ""},
	} {
		traced := mode.sampler != ""
		stop := func(context.Context) error { return nil }
		prev := otel.GetTracerProvider()
		if traced {
			b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.URL)
			b.Setenv("OTEL_TRACES_SAMPLER", mode.sampler)
			b.Setenv("OTEL_TRACES_SAMPLER_ARG", mode.arg)
			var err error
			if stop, err = telemetry.Start(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				b.Fatal(err)
			}
		}
		h := server.New(e.Svc, server.Config{Tracing: traced, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		b.Run(mode.name, func(b *testing.B) {
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
		otel.SetTracerProvider(prev)
		_ = stop(context.Background())
	}
}
