package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"usersvc/internal/testenv"
)

// countingListener counts the connections it accepted that are still
// open on the server's side.
type countingListener struct {
	net.Listener
	open atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	done atomic.Bool
}

func (c *countedConn) Close() error {
	if c.done.CompareAndSwap(false, true) {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}

// waitNoneOpen waits (bounded) until the server holds no connection.
func waitNoneOpen(t *testing.T, l *countingListener) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); l.open.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open on the server", l.open.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// guardedServer serves e's handler through a counting listener.
func guardedServer(t *testing.T, e *testenv.Env) (*httptest.Server, *countingListener) {
	srv := httptest.NewUnstartedServer(e.Handler)
	l := &countingListener{Listener: srv.Listener}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, l
}

// closeCode reads until the socket closes and returns its close code.
func closeCode(t *testing.T, c *wsClient) websocket.StatusCode {
	t.Helper()
	for range 10 {
		m, err := c.next()
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if m.Type != "connection_error" && m.Type != "error" {
			t.Fatalf("unexpected %s before the close", m.Type)
		}
	}
	t.Fatal("no close")
	return 0
}

// TestSocketsAlwaysClose: a connection_init whose payload is not a JSON
// object closes the socket with 4400 (it was left open, unanswered, for as
// long as the client kept it), an empty or null payload is no token
// (4403), a socket that sends nothing closes with 4408 after 5 s, and a
// client that vanishes after a bad init leaves nothing open on the server.
func TestSocketsAlwaysClose(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		srv, l := guardedServer(t, e)
		for _, tc := range []struct {
			payload string
			want    websocket.StatusCode
		}{
			{`"a string"`, 4400},
			{`["an", "array"]`, 4400},
			{`42`, 4400},
			{`true`, 4400},
			{`null`, 4403},
			{`{}`, 4403},
		} {
			c := mustDial(t, srv)
			c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(tc.payload)})
			if got := closeCode(t, c); got != tc.want {
				t.Errorf("payload %s: close %d, want %d", tc.payload, got, tc.want)
			}
		}
		waitNoneOpen(t, l)

		// The client vanishes (no close frame) after a bad init.
		for range 20 {
			c := mustDial(t, srv)
			c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`"x"`)})
			c.conn.CloseNow()
		}
		waitNoneOpen(t, l)

		// A good init still works.
		c := mustDial(t, srv)
		c.init(e.AliceToken)
		c.conn.CloseNow()
		waitNoneOpen(t, l)
	})
}

// TestSocketInitTimeout: a socket that sends no connection_init closes with
// 4408 once the documented 5 s have passed, and a client that opened it
// and vanished leaves nothing open.
func TestSocketInitTimeout(t *testing.T) {
	e := testenv.Start(t, testenv.DB{Name: "sqlite", URL: "sqlite:" + filepath.Join(t.TempDir(), "test.db")})
	srv, l := guardedServer(t, e)
	quiet := mustDial(t, srv)
	vanished := mustDial(t, srv)
	vanished.conn.CloseNow()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, _, err := quiet.conn.Read(ctx)
	if code := websocket.CloseStatus(err); code != 4408 {
		t.Fatalf("close %d (%v), want 4408", code, err)
	}
	if waited := time.Since(start); waited < 4*time.Second {
		t.Fatalf("closed after %s, before the documented 5 s", waited)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("no close")
	}
	waitNoneOpen(t, l)
}
