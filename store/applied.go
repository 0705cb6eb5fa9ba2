package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usersvc"
)

// What a failed call did to the database. A write that fails because the
// server is gone (a failover, a restart) either certainly applied nothing
// or may have committed; only the first may be run again (the write path
// waits for a new primary and does, write.go), the second is answered 503
// and the client retries with If-Match (docs/deploy.md).
//
// Certainly nothing applied (usersvc.Error.NotApplied):
//
//   - the connection could not be opened: refused, reset, no host with
//     the target_session_attrs asked for, the server starting up or
//     shutting down (connectFailed);
//   - the call wrote no byte to the server's socket (unsent): lib/pq
//     reports a connection it already knew broken, or a write that sent
//     nothing, as driver.ErrBadConn, and so does database/sql's liveness
//     check below; database/sql then runs the call again on another
//     connection, which is safe;
//   - the server answered with an error (a *pq.Error of severity ERROR):
//     the statement failed, its implicit transaction too, such as
//     25006 read_only_sql_transaction from a demoted primary;
//   - a transaction failed before its COMMIT was sent (beforeCommit): the
//     server rolls back a transaction whose session ends.
//
// Anything else after bytes were sent may have committed: the answer to a
// single-statement write or to a COMMIT was lost (EOF, reset, a deadline),
// or the server ended the session (lib/pq turns a FATAL error, 57P01
// admin_shutdown included, into driver.ErrBadConn and loses its code). So
// that database/sql does not run such a call again by itself (it retries
// every driver.ErrBadConn on another connection), the error is wrapped in
// lostAnswer, which does not unwrap to driver.ErrBadConn.

// connectFailed is a failure to open a connection: nothing was sent.
type connectFailed struct{ err error }

func (e *connectFailed) Error() string { return e.err.Error() }
func (e *connectFailed) Unwrap() error { return e.err }

// unsent is a call that wrote nothing to the server.
type unsent struct{ err error }

func (e *unsent) Error() string { return e.err.Error() }
func (e *unsent) Unwrap() error { return e.err }

// beforeCommit is a transaction's failure before its COMMIT was sent.
type beforeCommit struct{ err error }

func (e *beforeCommit) Error() string { return e.err.Error() }
func (e *beforeCommit) Unwrap() error { return e.err }

// lostAnswer is a call that sent bytes and got no usable answer: its
// outcome is unknown. It does not unwrap (see above).
type lostAnswer struct{ err error }

func (e *lostAnswer) Error() string {
	return "the connection broke before the database answered: " + e.err.Error()
}

// sentCounter counts the bytes written to a connection, so a failed call
// can tell whether any of it reached the server.
type sentCounter struct {
	net.Conn
	live *liveness // alive_linux.go
	sent atomic.Int64
}

func (c *sentCounter) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.sent.Add(int64(n))
	return n, err
}

// verdict marks the error of a call that began when the connection had
// sent before bytes (see the top of this file).
func (c *boundedConn) verdict(before int64, err error) error {
	if err == nil {
		return nil
	}
	var silent *noAnswer
	var pqErr *pq.Error
	switch {
	case errors.As(err, &pqErr):
		if pqErr.Code == "25006" {
			// A read-only server where a primary is wanted (a primary
			// demoted under its sessions): the connection is dropped, so
			// the next call connects again, to the new primary.
			c.readOnly = true
		}
		return err
	case errors.As(err, &silent):
		return err
	case c.nc.sent.Load() == before:
		return &unsent{err}
	case errors.Is(err, driver.ErrBadConn):
		return &lostAnswer{err}
	}
	return err
}

// notApplied reports whether err certainly applied nothing (the top of
// this file).
func notApplied(err error) bool {
	var (
		cf *connectFailed
		us *unsent
		bc *beforeCommit
		pe *pq.Error
	)
	switch {
	case errors.As(err, &cf), errors.As(err, &us), errors.As(err, &bc):
		return true
	case errors.As(err, &pe):
		return !pe.Fatal()
	}
	return false
}

// unavailable reports whether err says the database cannot be reached or
// cannot serve now (as opposed to a bad statement or a broken rule):
// refused, reset or closed connections, timeouts of the database's own
// bounds, too many connections, a server shutting down or starting up, a
// read-only server where a primary was asked for (a demoted primary, a
// standby), and on SQLite a database file another process keeps locked.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		silent *noAnswer
		lost   *lostAnswer
		cf     *connectFailed
	)
	if errors.As(err, &silent) || errors.As(err, &lost) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code.Class() == "08" && pqErr.Code != "08P01", // connection exception, not protocol_violation
			pqErr.Code == "25006", // read_only_sql_transaction: a primary demoted under us
			pqErr.Code == "53300", // too_many_connections
			pqErr.Code == "57P01", // admin_shutdown
			pqErr.Code == "57P02", // crash_shutdown
			pqErr.Code == "57P03": // cannot_connect_now
			return true
		}
		return false
	}
	if errors.As(err, &cf) {
		// A connection refused for its credentials or a missing database
		// (a *pq.Error, above) is a configuration error; the rest (no
		// server answered, or none with target_session_attrs' attributes)
		// is an outage.
		return true
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
// with Retry-After; NotApplied when nothing was applied) and a statement
// the server cancelled (a request out of time, or statement_timeout) as a
// timeout; the rest are left to usersvc.Internal.
func classify(err error) error {
	var e *usersvc.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "57014" { // query_canceled
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if unavailable(err) {
		if notApplied(err) {
			return usersvc.UnavailableNotApplied(err)
		}
		return usersvc.Unavailable(err)
	}
	return err
}
