package server

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// wsWriteTimeout bounds one write to a WebSocket: a client that stops
// reading is dropped, rather than its events buffered without limit.
const wsWriteTimeout = 10 * time.Second

// responseWriter is the one writer between the handlers (gqlgen, REST)
// and the network. It records what the request log and the metrics need
// (status, bytes, the caller), and when a WebSocket upgrade hijacks the
// connection it hands the socket over without the HTTP server's read and
// write deadlines (they would cut every socket after ReadTimeout/
// WriteTimeout), with a deadline on each write instead, counted in sockets.
// It passes http.Flusher and http.Hijacker on, and Unwrap serves
// http.ResponseController.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	userID string
	// sockets, set for a WebSocket upgrade (webSocket), counts the
	// sockets open now.
	sockets *atomic.Int64
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil || w.sockets == nil {
		return c, brw, err
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, nil, err
	}
	w.sockets.Add(1)
	sc := &socketConn{Conn: c, open: w.sockets}
	// The server's writer was flushed by Hijack; writes go through sc.
	return sc, bufio.NewReadWriter(brw.Reader, bufio.NewWriter(sc)), nil
}

// writerOf finds requestLog's responseWriter under the writers that wrap
// it (each has Unwrap), or nil.
func writerOf(w http.ResponseWriter) *responseWriter {
	for {
		if rw, ok := w.(*responseWriter); ok {
			return rw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// setUserID lets the request log name the caller.
func setUserID(w http.ResponseWriter, id string) {
	if rw := writerOf(w); rw != nil {
		rw.userID = id
	}
}

// socketConn is a hijacked WebSocket connection: a deadline on each write,
// and counted open until closed.
type socketConn struct {
	net.Conn
	open      *atomic.Int64
	closeOnce sync.Once
}

func (c *socketConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *socketConn) Close() error {
	c.closeOnce.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}
