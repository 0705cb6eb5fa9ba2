package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usersvc"
)

// Bounds on every PostgreSQL round trip. lib/pq answers a cancelled context
// by sending the server a cancel request and then waiting for the server's
// reply on the original connection; a server that has stopped answering
// (frozen, or cut off with the TCP connection still open) never replies,
// so without these a request, the readiness check, the usage flush or the
// change listener would wait as long as the outage lasts.
const (
	// ConnectTimeout bounds opening a connection: the TCP dial and the
	// startup handshake (authentication included).
	ConnectTimeout = 5 * time.Second
	// CallTimeout bounds a database call whose context has no deadline
	// (background work); calls with a deadline get the context's.
	CallTimeout = time.Minute
)

// listenerIdle bounds the change listener's silence: it pings every
// listenerPing, so a server that stays silent longer is gone, and the
// listener reconnects. (Variables for tests.)
var (
	listenerIdle = 75 * time.Second
	listenerPing = 30 * time.Second
)

// tcpKeepAlive probes an idle connection after 15 s, every 5 s, and gives
// up after 3 unanswered probes; tcpUserTimeout (Linux) drops a connection
// whose sent data stays unacknowledged for 30 s. Both catch a peer that is
// gone (a partition); a server process that is frozen behind a live kernel
// still acknowledges, which the read deadlines below catch.
var tcpKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

const tcpUserTimeout = 30 * time.Second

// dialer is lib/pq's Dialer for this package: keepalive and user timeout on
// every TCP connection, the dial context's deadline on the new connection
// (so lib/pq's cancel requests, which dial with a 10 s context and then
// read until the server hangs up, end), and, for the listener, a deadline
// on every read (idle > 0).
type dialer struct{ idle time.Duration }

func (d dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := net.Dialer{Timeout: ConnectTimeout, KeepAliveConfig: tcpKeepAlive, Control: setUserTimeout}
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if slot, ok := ctx.Value(slotKey{}).(*connSlot); ok {
		slot.c = c
	}
	if d.idle > 0 {
		return &idleConn{Conn: c, idle: d.idle}, nil
	}
	return c, nil
}

// idleConn puts a deadline on every read.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(b []byte) (int, error) {
	_ = c.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(b)
}

// connector opens lib/pq connections through dialer and wraps each in a
// boundedConn, which knows its network connection.
type connector struct{ pq *pq.Connector }

type slotKey struct{}

type connSlot struct{ c net.Conn }

func newConnector(url string) (*connector, error) {
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, err
	}
	c.Dialer(dialer{})
	return &connector{pq: c}, nil
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	slot := &connSlot{}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, slotKey{}, slot), ConnectTimeout)
	defer cancel()
	dc, err := c.pq.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if slot.c == nil { // cannot happen: every connection is dialled by dialer
		_ = dc.Close()
		return nil, errors.New("pq connection opened without the store's dialer")
	}
	_ = slot.c.SetDeadline(time.Time{})
	return &boundedConn{Conn: dc, nc: slot.c}, nil
}

func (c *connector) Driver() driver.Driver { return c.pq.Driver() }

// boundedConn sets its network connection's deadline before every call
// from the call's context, a little before the context's own deadline:
// the read then fails by itself, the connection is discarded as bad, and
// the caller hears "the database did not answer" while its context is
// still alive, whatever lib/pq's cancel request does. A commit or rollback
// (no context in database/sql/driver) runs under the deadline of the
// transaction's last statement.
type boundedConn struct {
	driver.Conn
	nc net.Conn
}

var (
	_ driver.ConnBeginTx        = (*boundedConn)(nil)
	_ driver.ConnPrepareContext = (*boundedConn)(nil)
	_ driver.ExecerContext      = (*boundedConn)(nil)
	_ driver.QueryerContext     = (*boundedConn)(nil)
	_ driver.Pinger             = (*boundedConn)(nil)
	_ driver.SessionResetter    = (*boundedConn)(nil)
	_ driver.Validator          = (*boundedConn)(nil)
	_ driver.NamedValueChecker  = (*boundedConn)(nil)
	_ driver.StmtExecContext    = (*boundedStmt)(nil)
	_ driver.StmtQueryContext   = (*boundedStmt)(nil)
	_ driver.Connector          = (*connector)(nil)
	_ pq.DialerContext          = dialer{}
)

// callDeadline is when a call under ctx must have its answer.
func callDeadline(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(CallTimeout)
	}
	margin := time.Until(dl) / 20
	if margin > 250*time.Millisecond {
		margin = 250 * time.Millisecond
	}
	if margin < 0 {
		margin = 0
	}
	return dl.Add(-margin)
}

func (c *boundedConn) bound(ctx context.Context) { _ = c.nc.SetDeadline(callDeadline(ctx)) }

func (c *boundedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.bound(ctx)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *boundedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.bound(ctx)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *boundedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.bound(ctx)
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &boundedStmt{Stmt: s, c: c}, nil
}

func (c *boundedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.bound(ctx)
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *boundedConn) Ping(ctx context.Context) error {
	c.bound(ctx)
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *boundedConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *boundedConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *boundedConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

type boundedStmt struct {
	driver.Stmt
	c *boundedConn
}

func (s *boundedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.bound(ctx)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *boundedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.bound(ctx)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// unavailable reports whether err says the database cannot be reached or
// cannot serve now (as opposed to a bad statement or a broken rule):
// refused, reset or closed connections, timeouts of the database's own
// bounds, too many connections, a server shutting down or starting up, and
// on SQLite a database file another process keeps locked.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code.Class() == "08", // connection exception
			pqErr.Code == "53300", // too_many_connections
			pqErr.Code == "57P01", // admin_shutdown
			pqErr.Code == "57P02", // crash_shutdown
			pqErr.Code == "57P03": // cannot_connect_now
			return true
		}
		return false
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.As(err, &netErr):
		return true
	}
	return false
}

// classify marks errors that say the database is unavailable as such (503
// with Retry-After); the rest are left to usersvc.Internal.
func classify(err error) error {
	var e *usersvc.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if unavailable(err) {
		return usersvc.Unavailable(err)
	}
	return err
}
