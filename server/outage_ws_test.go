package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"usersvc/internal/testenv"
	"usersvc/server"
)

// wsConn is a graphql-transport-ws client on a real socket.
type wsConn struct {
	t   *testing.T
	c   *websocket.Conn
	ctx context.Context
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialGraphQL(t *testing.T, srv *httptest.Server) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsConn{t: t, c: c, ctx: ctx}
}

func (w *wsConn) send(m wsMessage) {
	w.t.Helper()
	b, _ := json.Marshal(m)
	if err := w.c.Write(w.ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("send %s: %v", m.Type, err)
	}
}

// next is the next message other than ping/pong, or the read's error (a
// close carries its status).
func (w *wsConn) next() (wsMessage, error) {
	for {
		_, b, err := w.c.Read(w.ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			w.t.Fatalf("not JSON: %s", b)
		}
		switch m.Type {
		case "ping":
			w.send(wsMessage{Type: "pong"})
		case "pong":
		default:
			return m, nil
		}
	}
}

func (w *wsConn) init(token string) {
	w.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + token + `"}`)})
}

// closeStatus reads until the socket closes and returns the close frame;
// the messages read on the way are returned too.
func (w *wsConn) closeStatus() (websocket.CloseError, []wsMessage) {
	w.t.Helper()
	var seen []wsMessage
	for range 1000 { // bounded: keepalives, at most a few events
		m, err := w.next()
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				w.t.Fatalf("socket ended without a close frame: %v (after %v)", err, seen)
			}
			return ce, seen
		}
		seen = append(seen, m)
	}
	w.t.Fatal("no close")
	return websocket.CloseError{}, nil
}

// TestSubscriptionsDuringOutage: when the database becomes unavailable
// (PostgreSQL behind a proxy that cuts every connection), a subscription
// ends with an UNAVAILABLE error and its socket closes with 1013 (try
// again later); a reconnect during the outage is closed with 1013 too, not
// 4403 (which a client takes for "signed out"); once the database is back,
// a reconnect subscribes and receives changes again.
func TestSubscriptionsDuringOutage(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	proxy := testenv.NewProxy(t, testenv.PostgresAddr(t, base))
	e := testenv.Start(t, testenv.DB{Name: "postgres", URL: proxy.ProxyURL(testenv.NewSchema(t, base))})
	t.Cleanup(proxy.Cut)
	h := server.New(e.Svc, server.Config{RequestTimeout: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	subscribe := func(w *wsConn) {
		t.Helper()
		w.init(e.AliceToken)
		if m, err := w.next(); err != nil || m.Type != "connection_ack" {
			t.Fatalf("init: %v %v", m, err)
		}
		w.send(wsMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { userChanged { name } }"}`)})
	}
	// changed renames Alice until the subscription reports it (the
	// subscription may not be registered when the first rename commits).
	changed := func(w *wsConn, name string) {
		t.Helper()
		got := make(chan wsMessage, 1)
		go func() {
			m, _ := w.next()
			got <- m
		}()
		for i := range 50 {
			r := testenv.Do(t, h, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken, `[{"op":"replace","path":"/name","value":"`+name+string(rune('a'+i%26))+`"}]`, "Content-Type: application/json-patch+json")
			if r.Status != 200 {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			select {
			case m := <-got:
				if m.Type != "next" || !strings.Contains(string(m.Payload), name) {
					t.Fatalf("want the change, got %s %s", m.Type, m.Payload)
				}
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		t.Fatal("the subscription received no change")
	}

	live := dialGraphQL(t, srv)
	subscribe(live)
	changed(live, "Before")

	proxy.Cut()
	ce, seen := live.closeStatus()
	if ce.Code != 1013 {
		t.Fatalf("the subscription's socket closed with %d %q, want 1013 (try again later); messages %v", ce.Code, ce.Reason, seen)
	}
	if len(seen) == 0 || seen[len(seen)-1].Type != "error" || !strings.Contains(string(seen[len(seen)-1].Payload), `"UNAVAILABLE"`) {
		t.Fatalf("want an UNAVAILABLE error before the close, got %v", seen)
	}
	if ce.Reason != "The database is unavailable; try again shortly." {
		t.Fatalf("close reason %q", ce.Reason)
	}

	again := dialGraphQL(t, srv)
	again.init(e.AliceToken)
	ce, seen = again.closeStatus()
	if ce.Code != 1013 || ce.Reason != "The database is unavailable; try again shortly." {
		t.Fatalf("a reconnect during the outage closed with %d %q (messages %v), want 1013", ce.Code, ce.Reason, seen)
	}

	proxy.Resume()
	var back *wsConn
	for range 50 { // the pool reconnects on its next use: bounded retries
		back = dialGraphQL(t, srv)
		back.init(e.AliceToken)
		m, err := back.next()
		if err == nil && m.Type == "connection_ack" {
			break
		}
		if st := websocket.CloseStatus(err); st != 1013 {
			t.Fatalf("a reconnect after the outage: %v %v", m, err)
		}
		back = nil
		time.Sleep(100 * time.Millisecond)
	}
	if back == nil {
		t.Fatal("no reconnect was accepted after the database came back")
	}
	back.send(wsMessage{ID: "1", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { userChanged { name } }"}`)})
	changed(back, "After")
}
