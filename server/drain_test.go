package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"usersvc/internal/testenv"
	"usersvc/server"
)

// TestDraining: while draining, /readyz says 503 (with ?database=skip
// too, which skips only the database check) and everything else is still
// served; closing ends open WebSockets with a normal close (which
// graphql-ws clients answer by reconnecting elsewhere).
func TestDraining(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var draining atomic.Bool
		closing := make(chan struct{})
		h := server.New(e.Svc, server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Draining: &draining, Closing: closing})
		for _, c := range []struct {
			path string
			want int
		}{
			{"/readyz", 200},
			{"/readyz?database=skip", 200},
			{"/readyz?database=check", 400},
		} {
			if r := testenv.Do(t, h, "GET", c.path, "", ""); r.Status != c.want {
				t.Fatalf("%s: %d %s, want %d", c.path, r.Status, r.Body, c.want)
			}
		}
		draining.Store(true)
		for _, path := range []string{"/readyz", "/readyz?database=skip"} {
			if r := testenv.Do(t, h, "GET", path, "", ""); r.Status != 503 || !strings.Contains(string(r.Body), "draining") {
				t.Fatalf("draining %s: %d %s", path, r.Status, r.Body)
			}
		}
		if r := testenv.Do(t, h, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, ""); r.Status != 200 {
			t.Fatalf("a request while draining: %d", r.Status)
		}

		srv := httptest.NewServer(h)
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":{"Authorization":"Bearer `+e.AliceToken+`"}}`)); err != nil {
			t.Fatal(err)
		}
		if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
			t.Fatalf("ack: %s %v", b, err)
		}
		close(closing)
		for {
			_, _, err := c.Read(ctx)
			if err == nil {
				continue // a keepalive
			}
			if st := websocket.CloseStatus(err); st != websocket.StatusNormalClosure {
				t.Fatalf("socket ended with %v (status %d), want a normal close", err, st)
			}
			break
		}
	})
}
