package server_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"usersvc/internal/testenv"
	"usersvc/server"
	"usersvc/store"
)

// countingSampler drops every span it is asked about and counts them.
type countingSampler struct {
	mu    sync.Mutex
	asked []string
}

func (s *countingSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, p.Name)
	return sdktrace.SamplingResult{Decision: sdktrace.Drop}
}

func (s *countingSampler) Description() string { return "counting" }

// TestLeftOutRequestStartsOneSpan: a request the sampler leaves out (as
// the recommended ratio leaves out 99%) asks the SDK about its server
// span only: the domain's, GraphQL's and the database's spans under a
// span that is not sampled are not started at all (their samplers would
// drop them too), so an unsampled request costs one sampling decision.
// Before, every step asked (and built its attributes) again.
func TestLeftOutRequestStartsOneSpan(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		sampler := &countingSampler{}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler))
		prev := otel.GetTracerProvider()
		otel.SetTracerProvider(tp)
		t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })
		st, err := store.Open(context.Background(), db.URL, store.Options{Tracing: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		svc := testenv.NewService(st, e.Clock)
		h := server.New(svc, server.Config{Tracing: true, TraceResolvers: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		for _, tc := range []struct{ name, method, path, body string }{
			{"REST GET", "GET", "/api/users/" + e.Alice.ID, ""},
			{"REST PATCH", "PATCH", "/api/users/" + e.Alice.ID, `[{"op":"replace","path":"/description","value":"left out"}]`},
			{"GraphQL", "POST", "/graphql", `{"query":"{ me { id name history(first: 1) { totalCount } } }"}`},
		} {
			sampler.mu.Lock()
			sampler.asked = nil
			sampler.mu.Unlock()
			headers := []string{"Content-Type: application/json"}
			if tc.method == "PATCH" {
				headers = []string{"Content-Type: application/json-patch+json"}
			}
			if r := testenv.Do(t, h, tc.method, tc.path, e.AliceToken, tc.body, headers...); r.Status != 200 {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
			}
			sampler.mu.Lock()
			asked := sampler.asked
			sampler.mu.Unlock()
			if len(asked) != 1 || asked[0] != tc.method {
				t.Errorf("%s: the sampler was asked about %q; want only the server span (%q)", tc.name, asked, tc.method)
			}
		}
	})
}
