package graph_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

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
