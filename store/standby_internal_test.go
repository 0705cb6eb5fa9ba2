package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/lib/pq"

	"usersvc"
)

// TestRecoveryConflict: what a standby read runs again (TestStandby
// forces the 40001 on a real standby; a session the standby ends arrives
// as a broken connection), and what it does not.
func TestRecoveryConflict(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"statement cancelled for a conflict", usersvc.Internal(classify(&pq.Error{Code: "40001", Message: "canceling statement due to conflict with recovery"})), true},
		{"buffer-pin deadlock", usersvc.Internal(classify(&pq.Error{Code: "40P01"})), true},
		{"session ended", fmt.Errorf("query: %w", driver.ErrBadConn), true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"unique violation", usersvc.Internal(&pq.Error{Code: "23505"}), false},
		{"server shutting down", usersvc.Internal(classify(&pq.Error{Code: "57P01"})), false},
		{"not found", usersvc.Errorf(usersvc.ENotFound, "User not found."), false},
		{"behind", errBehind, false},
		{"other", errors.New("boom"), false},
	} {
		if got := recoveryConflict(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseLSN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0/0", 0, true},
		{"16/B374D848", 0x16_B374D848, true},
		{"FFFFFFFF/FFFFFFFF", ^uint64(0), true},
		{"0/1", 1, true},
		{"1/0", 1 << 32, true},
		{"100000000/0", 0, false},
		{"16B374D848", 0, false},
		{"x/1", 0, false},
		{"", 0, false},
	} {
		got, err := parseLSN(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseLSN(%q) = %x, %v; want %x, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
