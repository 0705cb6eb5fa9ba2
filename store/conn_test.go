package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lib/pq"

	"usersvc"
)

// TestClassify: errors that say the database cannot serve now become
// "unavailable" (503 with Retry-After); running out of time stays a
// timeout; anything else stays internal. The errors are the drivers' own.
func TestClassify(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := net.Dial("tcp", addr)

	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	hc, err := holder.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	if _, err := hc.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	waiter, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	_, busy := waiter.Exec("BEGIN IMMEDIATE")

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"connection refused", refused, usersvc.EUnavailable},
		{"wrapped by ent", fmt.Errorf("ent: starting a transaction: %w", refused), usersvc.EUnavailable},
		{"too many connections", &pq.Error{Code: "53300"}, usersvc.EUnavailable},
		{"admin shutdown", &pq.Error{Code: "57P01"}, usersvc.EUnavailable},
		{"cannot connect now", &pq.Error{Code: "57P03"}, usersvc.EUnavailable},
		{"connection failure", &pq.Error{Code: "08006"}, usersvc.EUnavailable},
		// A protocol violation is a bug (a pooler splitting a statement,
		// say), not an outage: it must not be retried or hidden as 503.
		{"protocol violation", &pq.Error{Code: "08P01"}, usersvc.EInternal},
		{"undefined table", &pq.Error{Code: "42P01"}, usersvc.EInternal},
		{"statement cancelled by the server", &pq.Error{Code: "57014"}, usersvc.ETimeout},
		{"no answer by the deadline", &noAnswer{err: context.DeadlineExceeded}, usersvc.EUnavailable},
		{"SQLite busy", busy, usersvc.EUnavailable},
		{"request deadline", context.DeadlineExceeded, usersvc.ETimeout},
		{"anything else", errors.New("boom"), usersvc.EInternal},
	} {
		if tc.err == nil {
			t.Fatalf("%s: no error to classify", tc.name)
		}
		got := usersvc.Internal(classify(tc.err))
		if code := usersvc.ErrorCode(got); code != tc.want {
			t.Errorf("%s (%v): %s, want %s", tc.name, tc.err, code, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: the cause is lost", tc.name)
		}
	}
}

// TestClassifyNotApplied: among unavailable errors, those after which the
// database certainly applied nothing are marked NotApplied (a write may run
// again); those whose outcome is unknown are not, and a lost answer does
// not unwrap to driver.ErrBadConn (database/sql would run the call again).
func TestClassifyNotApplied(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := net.Dial("tcp", addr)
	for _, tc := range []struct {
		name       string
		err        error
		notApplied bool
	}{
		{"connection refused while connecting", &connectFailed{refused}, true},
		{"no read-write host", &connectFailed{fmt.Errorf("pq: could not connect to any of the hosts:\n%w", errors.New("session is read-only"))}, true},
		{"nothing sent on a broken connection", &unsent{driver.ErrBadConn}, true},
		{"read-only server", &pq.Error{Code: "25006", Severity: "ERROR"}, true},
		{"transaction failed before its commit", &beforeCommit{io.ErrUnexpectedEOF}, true},
		{"answer lost", &lostAnswer{driver.ErrBadConn}, false},
		{"reset while waiting for the answer", fmt.Errorf("read: %w", syscall.ECONNRESET), false},
		{"no answer by the deadline", &noAnswer{err: context.DeadlineExceeded}, false},
	} {
		got := usersvc.Internal(classify(tc.err))
		var e *usersvc.Error
		if !errors.As(got, &e) || e.Code != usersvc.EUnavailable || e.NotApplied != tc.notApplied {
			t.Errorf("%s: %#v, want unavailable with NotApplied %v", tc.name, got, tc.notApplied)
		}
	}
	if errors.Is(&lostAnswer{driver.ErrBadConn}, driver.ErrBadConn) {
		t.Error("a lost answer unwraps to driver.ErrBadConn: database/sql would send the write again")
	}
}
