//go:build !linux

package store

import "syscall"

// setUserTimeout: TCP_USER_TIMEOUT is Linux's; elsewhere keepalive and
// the read deadlines bound a silent connection.
func setUserTimeout(string, string, syscall.RawConn) error { return nil }
