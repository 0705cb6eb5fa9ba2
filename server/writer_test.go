package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestResponseWriterPassesOn: the one writer records the status and bytes
// and passes http.Flusher on, directly and through
// http.ResponseController (Unwrap); a writer that wraps it still finds it.
func TestResponseWriterPassesOn(t *testing.T) {
	rec := httptest.NewRecorder()
	rw := &responseWriter{ResponseWriter: rec}
	var w http.ResponseWriter = struct{ http.ResponseWriter }{rw} // a wrapper without Unwrap
	if writerOf(w) != nil {
		t.Fatal("found a writer through a wrapper without Unwrap")
	}
	if _, ok := any(rw).(http.Flusher); !ok {
		t.Fatal("not an http.Flusher")
	}
	if _, ok := any(rw).(http.Hijacker); !ok {
		t.Fatal("not an http.Hijacker")
	}
	if err := http.NewResponseController(rw).Flush(); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed || rw.status != http.StatusOK {
		t.Fatalf("flushed %v, status %d", rec.Flushed, rw.status)
	}
	_, _ = rw.Write([]byte("abc"))
	setUserID(unwrapper{rw}, "usr-1")
	if rw.bytes != 3 || rw.userID != "usr-1" {
		t.Fatalf("bytes %d, user %q", rw.bytes, rw.userID)
	}
}

type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestSocketOutlivesServerTimeouts: a WebSocket upgrade hijacks the
// connection through the request's writer without the HTTP server's read
// and write deadlines (here 100 ms; the socket writes after 300 ms; net/http
// clears them on Hijack too, and the writer does not count on it), and is
// counted open until it closes.
func TestSocketOutlivesServerTimeouts(t *testing.T) {
	var open atomic.Int64
	done := make(chan int64, 1)
	ws := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			done <- -1
			return
		}
		counted := open.Load()
		time.Sleep(300 * time.Millisecond) // past both of the server's deadlines
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello")
		_ = brw.Flush()
		_, _ = brw.ReadByte() // the client's answer, read past the read deadline
		_ = c.Close()
		_ = c.Close() // counted down once
		done <- counted
	})
	h := webSocket(ws, http.NotFoundHandler(), nil, &open)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&responseWriter{ResponseWriter: w}, r) // requestLog's writer
	}))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // a bound against hangs
	if _, err := io.WriteString(c, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var got strings.Builder
	for !strings.HasSuffix(got.String(), "hello") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("the socket was cut: %v after %q", err, got.String())
		}
		got.WriteByte(b)
	}
	if _, err := c.Write([]byte{'!'}); err != nil {
		t.Fatal(err)
	}
	if counted := <-done; counted != 1 || open.Load() != 0 {
		t.Fatalf("open while hijacked %d, after close %d", counted, open.Load())
	}
}

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	deadlines []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}

func (c *deadlineConn) Write(b []byte) (int, error) { return len(b), nil }

// TestSocketWriteDeadline: every write to a hijacked socket gets its own
// deadline, wsWriteTimeout ahead (a client that stops reading is dropped).
func TestSocketWriteDeadline(t *testing.T) {
	dc := &deadlineConn{}
	sc := &socketConn{Conn: dc, open: new(atomic.Int64)}
	for range 2 {
		before := time.Now()
		if _, err := sc.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if d := dc.deadlines[len(dc.deadlines)-1]; d.Before(before.Add(wsWriteTimeout)) {
			t.Fatalf("deadline %v is not %v past the write", d, wsWriteTimeout)
		}
	}
	if len(dc.deadlines) != 2 {
		t.Fatalf("%d deadlines for 2 writes", len(dc.deadlines))
	}
}
