package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/lib/pq"
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

// cancelWait bounds a lib/pq cancel request: dial, send, and the wait for
// the server to hang up.
const cancelWait = 500 * time.Millisecond

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
	slot, pooled := ctx.Value(slotKey{}).(*connSlot)
	if !pooled && d.idle == 0 {
		// lib/pq's cancel request (sent when a call's context ends). It only
		// has to reach the server; lib/pq then waits for the server to hang
		// up, and for prepared statements the call waits for that, so it is
		// kept short: a silent server must not hold the caller.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cancelWait)
		defer cancel()
	}
	nd := net.Dialer{Timeout: ConnectTimeout, KeepAliveConfig: tcpKeepAlive, Control: setUserTimeout}
	c, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if pooled {
		sc := &sentCounter{Conn: c, live: newLiveness(c)}
		slot.c = sc
		return sc, nil
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
type connector struct {
	pq        *pq.Connector
	textBytes bool
	identify  bool // ask each new connection its server (replay.go)
}

type slotKey struct{}

type connSlot struct{ c *sentCounter }

func newConnector(url string) (*connector, error) {
	return newConnectorMode(url, false)
}

// newConnectorMode is newConnector; oneExchange sends every statement with
// arguments as one Parse/Bind/Describe/Execute/Sync exchange (lib/pq's
// binary_parameters), so that a pooler in transaction mode can never hand
// its Bind to another server connection (where another client's unnamed
// statement may wait). Without it lib/pq sends Parse and Sync first and
// the Bind after the answer: two exchanges a pooler may route apart.
func newConnectorMode(url string, oneExchange bool) (*connector, error) {
	url, err := pgName(url) // libpq's multi-host URI, the scheme in lower case (pgurl.go)
	if err != nil {
		return nil, err
	}
	if oneExchange {
		sep := "?"
		switch {
		case isKeyValueDSN(url):
			sep = " "
		case strings.Contains(url, "?"):
			sep = "&"
		}
		url += sep + "binary_parameters=yes"
	}
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, err
	}
	c.Dialer(dialer{})
	return &connector{pq: c, textBytes: oneExchange}, nil
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	slot := &connSlot{}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, slotKey{}, slot), ConnectTimeout)
	defer cancel()
	dc, err := c.pq.Connect(ctx)
	if err != nil {
		return nil, &connectFailed{err}
	}
	if slot.c == nil { // cannot happen: every connection is dialled by dialer
		_ = dc.Close()
		return nil, errors.New("pq connection opened without the store's dialer")
	}
	_ = slot.c.SetDeadline(time.Time{})
	bc := &boundedConn{Conn: dc, nc: slot.c, textBytes: c.textBytes}
	if c.identify {
		return identify(ctx, bc)
	}
	return bc, nil
}

func (c *connector) Driver() driver.Driver { return c.pq.Driver() }

// boundedConn sets its network connection's deadline before every call
// from the call's context, a little after the context's own deadline. At
// the context's deadline lib/pq sends the server a cancel request: a live
// server stops the statement and answers (the caller's error is then a
// timeout). A server that does not answer even so is cut off a moment
// later by the deadline: the read fails, lib/pq closes the connection, and
// the caller hears that the database did not answer (unavailable). A
// commit or rollback (no context in database/sql/driver) runs under the
// deadline of the transaction's last statement.
type boundedConn struct {
	driver.Conn
	nc     *sentCounter
	server string // the server process reached, when identified (replay.go)
	// textBytes sends []byte arguments as text (see CheckNamedValue).
	textBytes bool
	// readOnly: the server refused a write as read-only (verdict); the
	// connection is not used again.
	readOnly bool
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

// callDeadline is when a call under ctx must have its answer: the
// context's deadline plus a grace for the server to answer lib/pq's cancel
// request (10% of the time left, 100 ms to 500 ms).
func callDeadline(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(CallTimeout)
	}
	grace := min(max(time.Until(dl)/10, 100*time.Millisecond), 500*time.Millisecond)
	return dl.Add(grace)
}

// noAnswer is a call that ended with its context without a word from the
// server. It does not unwrap, so database/sql does not retry the call on
// another connection (the context has ended anyway).
type noAnswer struct{ err error }

func (e *noAnswer) Error() string { return "the database did not answer in time: " + e.err.Error() }

// outcome tells a server that never answered from one that answered.
func outcome(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) { // it answered (a cancelled statement, say)
		return err
	}
	return &noAnswer{err: err}
}

// bound sets the call's deadline and returns the bytes sent so far (for
// verdict, applied.go).
func (c *boundedConn) bound(ctx context.Context) int64 {
	_ = c.nc.SetDeadline(callDeadline(ctx))
	return c.nc.sent.Load()
}

func (c *boundedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	sent := c.bound(ctx)
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	return rows, c.verdict(sent, outcome(ctx, err))
}

func (c *boundedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	sent := c.bound(ctx)
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	return res, c.verdict(sent, outcome(ctx, err))
}

func (c *boundedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	sent := c.bound(ctx)
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, c.verdict(sent, outcome(ctx, err))
	}
	return &boundedStmt{Stmt: s, c: c}, nil
}

func (c *boundedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	sent := c.bound(ctx)
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, c.verdict(sent, outcome(ctx, err))
	}
	return &boundedTx{Tx: tx, c: c}, nil
}

func (c *boundedConn) Ping(ctx context.Context) error {
	sent := c.bound(ctx)
	return c.verdict(sent, outcome(ctx, c.Conn.(driver.Pinger).Ping(ctx)))
}

// ResetSession runs before database/sql hands out a pooled connection
// again: besides lib/pq's own check, one whose server has closed it or
// sent something unasked (a session a switchover's shutdown ended, with
// its FATAL message waiting) is reported bad, so the call gets another
// connection before sending anything (alive_linux.go).
func (c *boundedConn) ResetSession(ctx context.Context) error {
	if c.readOnly || !c.nc.live.alive() {
		return driver.ErrBadConn
	}
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

// boundedTx tells a COMMIT that never left from one whose answer was lost.
type boundedTx struct {
	driver.Tx
	c *boundedConn
}

func (t *boundedTx) Commit() error {
	sent := t.c.nc.sent.Load()
	return t.c.verdict(sent, t.Tx.Commit())
}

func (c *boundedConn) IsValid() bool { return !c.readOnly && c.Conn.(driver.Validator).IsValid() }

// CheckNamedValue is lib/pq's, except that with binary_parameters a byte
// slice argument (ent's JSON values, json.RawMessage, a Valuer's []byte)
// is sent as text: lib/pq would send it in binary format, which jsonb
// does not read as JSON text. No column of the schema is bytea, so every
// byte slice argument is text of some kind.
func (c *boundedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c.textBytes {
		if vr, ok := nv.Value.(driver.Valuer); ok {
			if rv := reflect.ValueOf(vr); rv.Kind() == reflect.Pointer && rv.IsNil() {
				nv.Value = nil
				return nil
			}
			v, err := vr.Value()
			if err != nil {
				return err
			}
			nv.Value = v
		}
		if rv := reflect.ValueOf(nv.Value); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			if rv.IsNil() {
				nv.Value = nil
			} else {
				nv.Value = string(rv.Bytes())
			}
			return nil
		}
	}
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

type boundedStmt struct {
	driver.Stmt
	c *boundedConn
}

func (s *boundedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	sent := s.c.bound(ctx)
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	return rows, s.c.verdict(sent, outcome(ctx, err))
}

func (s *boundedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	sent := s.c.bound(ctx)
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return res, s.c.verdict(sent, outcome(ctx, err))
}
