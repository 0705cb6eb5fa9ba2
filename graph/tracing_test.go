package graph_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"usersvc/internal/testenv"
	"usersvc/server"
)

// TestSubscriptionIsOneSpan: a subscription is one span for the whole
// operation, ended when the subscription ends, however many events it
// sent (three here).
func TestSubscriptionIsOneSpan(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		prev := otel.GetTracerProvider()
		otel.SetTracerProvider(tp)
		defer otel.SetTracerProvider(prev)
		h := server.New(e.Svc, server.Config{Tracing: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		srv := httptest.NewServer(h)
		defer srv.Close()
		c := mustDial(t, srv)
		c.init(e.AliceToken)
		c.subscribe("1", `subscription Follow { userChanged { id name } }`)
		waitSubscribed(t, e.Svc, 1)
		for _, name := range []string{"A1", "A2", "A3"} {
			patchName(t, e.Handler, e.AliceToken, e.Alice.ID, name)
			if u, code := c.event("userChanged"); u["name"] != name {
				t.Fatalf("event: %v %s", u, code)
			}
		}
		c.send(wsMsg{ID: "1", Type: "complete"})
		count := func() (started, ended int) {
			for _, s := range rec.Started() {
				if s.Name() == "subscription Follow" {
					started++
				}
			}
			for _, s := range rec.Ended() {
				if s.Name() == "subscription Follow" {
					ended++
				}
			}
			return
		}
		for i := 0; i < 200; i++ { // bounded wait for the server to end it
			if _, ended := count(); ended > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if started, ended := count(); started != 1 || ended != 1 {
			t.Fatalf("subscription spans: %d started, %d ended; want one, ended when the subscription was", started, ended)
		}
		// A client that vanishes ends its subscription's span too.
		v := mustDial(t, srv)
		v.init(e.AliceToken)
		v.subscribe("1", `subscription Gone { userChanged { id } }`)
		waitSubscribed(t, e.Svc, 1)
		v.conn.CloseNow()
		ended := func() bool {
			for _, s := range rec.Ended() {
				if s.Name() == "subscription Gone" {
					return true
				}
			}
			return false
		}
		for i := 0; i < 300 && !ended(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !ended() {
			t.Fatal("the span of a subscription whose client vanished never ended")
		}
		_ = tp.Shutdown(context.Background())
	})
}

// TestResolverSpans: resolver spans only when asked for, one per field a
// resolver computes (not per plain field), under the operation's span.
func TestResolverSpans(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct {
			traceResolvers bool
			want           []string
		}{
			{false, nil},
			{true, []string{"Query.user", "User.history"}},
		} {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			prev := otel.GetTracerProvider()
			otel.SetTracerProvider(tp)
			h := server.New(e.Svc, server.Config{Tracing: true, TraceResolvers: tc.traceResolvers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			body := `{"query":"query Q($id: ID!) { user(id: $id) { id name history(first: 1) { totalCount } } }","variables":{"id":"` + e.Alice.ID + `"}}`
			req := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.AliceToken)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			otel.SetTracerProvider(prev)
			if w.Code != 200 || strings.Contains(w.Body.String(), `"errors"`) {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			var op trace.SpanContext
			var got []string
			parents := map[string]trace.SpanContext{}
			for _, s := range rec.Ended() {
				switch {
				case s.Name() == "query Q":
					op = s.SpanContext()
				case strings.Contains(s.Name(), "."):
					if !strings.HasPrefix(s.Name(), "usersvc.") && !strings.HasPrefix(s.Name(), "password.") && !strings.HasPrefix(s.Name(), "signin.") && !strings.HasPrefix(s.Name(), "usage.") {
						got = append(got, s.Name())
						parents[s.Name()] = s.Parent()
					}
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("traceResolvers=%v: resolver spans %v, want %v", tc.traceResolvers, got, tc.want)
			}
			if p, ok := parents["Query.user"]; ok && p.SpanID() != op.SpanID() {
				t.Fatalf("Query.user's parent is %v, want the operation span %v", p.SpanID(), op.SpanID())
			}
			_ = tp.Shutdown(context.Background())
		}
	})
}
