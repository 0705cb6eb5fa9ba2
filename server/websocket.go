package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"usersvc/graph"
)

// wsWriteTimeout bounds one write to a WebSocket: a client that stops
// reading is dropped, rather than its events buffered without limit.
const wsWriteTimeout = 10 * time.Second

// webSocket serves /graphql upgrades without the HTTP authentication (the
// connection_init payload carries the token; graph checks it) and lets the
// socket take over the connection with deadlines of its own. When closing
// is closed (the server shuts down) every socket ends: http.Server.Shutdown
// does not wait for, or close, connections taken over. open counts the
// sockets open now (a metric).
func webSocket(ws, plain http.Handler, closing <-chan struct{}, open *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !graph.IsWebSocket(r) {
			plain.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		if closing != nil {
			go func() {
				select {
				case <-closing:
					cancel()
				case <-ctx.Done():
				}
			}()
		}
		ws.ServeHTTP(&hijackWriter{ResponseWriter: w, open: open}, r.WithContext(ctx))
	})
}

// hijackWriter hands the WebSocket library a connection without the HTTP
// server's read and write deadlines (they would cut every socket after
// ReadTimeout/WriteTimeout) and with a deadline on each write instead.
type hijackWriter struct {
	http.ResponseWriter
	open *atomic.Int64
}

func (w *hijackWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, nil, err
	}
	w.open.Add(1)
	sc := &socketConn{Conn: c, open: w.open}
	// The server's writer was flushed by Hijack; writes go through sc.
	return sc, bufio.NewReadWriter(brw.Reader, bufio.NewWriter(sc)), nil
}

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
