package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"usersvc"
)

// Every socket closes, whatever gqlgen does: gqlgen's transport returns
// without closing a socket whose connection_init payload is not a JSON
// object (it was left open, unanswered, for as long as the client kept
// it: a thousand such sockets took every file descriptor), and it closes
// a socket that never initialises with 1002. guardedTransport closes any
// socket gqlgen left open when its handler returns (4400), and one that
// has not sent an accepted connection_init within wsInitTimeout (4408).

// Close codes of graphql-transport-ws besides closeForbidden.
const (
	closeBadRequest  = 4400
	closeInitTimeout = 4408
	closeTooMany     = 4429
)

// guardedTransport is gqlgen's WebSocket transport, with a guard on each
// socket.
type guardedTransport struct {
	transport.Websocket
	svc *usersvc.Service
}

var _ graphql.Transport = guardedTransport{}

type wsGuardKey struct{}

// wsGuard is one socket's state: the connection once accepted, whether
// connection_init was accepted, whether the socket was closed.
type wsGuard struct {
	mu          sync.Mutex
	conn        transport.WebsocketConn
	initialised bool
	closed      bool
	timer       *time.Timer
	// socket is the connection's account with the service (limits,
	// metering of subscribe messages).
	socket *usersvc.Socket
	// closeReason, when set, closes the socket with closeTryAgain once
	// the next error message has been written (closeAfterError).
	closeReason string
}

// closeAfterError asks the socket ctx belongs to to close with
// closeTryAgain once the error message of the subscription that is ending
// has gone out (gqlgen writes it after the resolver's channel closes).
func closeAfterError(ctx context.Context, reason string) {
	if g, _ := ctx.Value(wsGuardKey{}).(*wsGuard); g != nil {
		g.mu.Lock()
		g.closeReason = clip(reason, 120)
		g.mu.Unlock()
	}
}

// socketOf is the service's account of the socket ctx belongs to, if any.
func socketOf(ctx context.Context) *usersvc.Socket {
	if g, _ := ctx.Value(wsGuardKey{}).(*wsGuard); g != nil {
		return g.socket
	}
	return nil
}

func (t guardedTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	sock, err := t.svc.OpenSocket(usersvc.ClientAddr(r.Context()))
	if err != nil {
		w.Header().Set("Retry-After", "5")
		transport.SendErrorf(w, http.StatusTooManyRequests, "%s", usersvc.ErrorMessage(err, usersvc.LangFrom(r.Context())))
		return
	}
	defer sock.Close()
	g := &wsGuard{socket: sock}
	t.Websocket.Do(w, r.WithContext(context.WithValue(r.Context(), wsGuardKey{}, g)), exec)
	g.mu.Lock()
	if g.timer != nil {
		g.timer.Stop()
	}
	g.mu.Unlock()
	g.close(closeBadRequest, "invalid connection_init") // the only way gqlgen returns with the socket open
}

// initialised records, from InitFunc, that the socket's connection_init
// was accepted; it reports false when the socket has already timed out.
func initialised(ctx context.Context) bool {
	g, _ := ctx.Value(wsGuardKey{}).(*wsGuard)
	if g == nil {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.initialised = !g.closed
	return g.initialised
}

// close closes the socket with code unless it is closed already.
func (g *wsGuard) close(code int, reason string) {
	g.mu.Lock()
	c := g.conn
	open := c != nil && !g.closed
	g.closed = true
	g.mu.Unlock()
	if open {
		_ = c.WriteClose(code, reason) // the handshake runs in the background, bounded (5 s)
		_ = c.Close()
	}
}

// guardedAccept accepts sockets with inner and hands each to its request's
// guard, starting the initialisation deadline.
type guardedAccept struct {
	inner transport.WebsocketImplementation
}

func (a guardedAccept) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := a.inner.Accept(w, r, o)
	g, _ := r.Context().Value(wsGuardKey{}).(*wsGuard)
	if err != nil || g == nil {
		return c, err
	}
	gc := &guardedConn{WebsocketConn: c, g: g}
	g.mu.Lock()
	g.conn = gc
	g.timer = time.AfterFunc(wsInitTimeout, func() {
		g.mu.Lock()
		late := !g.initialised
		g.mu.Unlock()
		if late {
			g.close(closeInitTimeout, "connection initialisation timeout")
		}
	})
	g.mu.Unlock()
	return gc, nil
}

// guardedConn marks its guard closed when gqlgen closes it, and passes on
// the optional interfaces gqlgen looks for.
type guardedConn struct {
	transport.WebsocketConn
	g *wsGuard
}

// WriteJSON writes a message; when the guard waits for an error message
// to close after (closeAfterError), it closes once one has been written,
// in the background: gqlgen holds its connection's lock while writing.
func (c *guardedConn) WriteJSON(v any) error {
	err := c.WebsocketConn.WriteJSON(v)
	c.g.mu.Lock()
	reason := c.g.closeReason
	c.g.mu.Unlock()
	if reason != "" && err == nil && isErrorMessage(v) {
		go c.g.close(closeTryAgain, reason)
	}
	return err
}

// isErrorMessage reports whether v, a message gqlgen writes, is an
// "error" message (both protocols call it so).
func isErrorMessage(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var m struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(b, &m) == nil && m.Type == "error"
}

func (c *guardedConn) WriteClose(code int, reason string) error {
	c.g.mu.Lock()
	c.g.closed = true
	c.g.mu.Unlock()
	return c.WebsocketConn.WriteClose(code, reason)
}

func (c *guardedConn) Close() error {
	c.g.mu.Lock()
	c.g.closed = true
	c.g.mu.Unlock()
	return c.WebsocketConn.Close()
}

func (c *guardedConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *guardedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
