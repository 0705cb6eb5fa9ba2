package store

import (
	"net"
	"syscall"
)

// liveness checks whether a pooled connection may be used again: nothing
// is waiting to be read on it and its server has not closed it. Between
// two calls the server sends nothing unasked but the message that ends a
// session (57P01 when a primary shuts down for a switchover), so a
// readable socket is a session that ended. One non-blocking peek, with
// what it needs taken once per connection (no allocation per check).
type liveness struct {
	rc   syscall.RawConn
	peek func(fd uintptr) bool
	ok   bool
}

func newLiveness(c net.Conn) *liveness {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	l := &liveness{rc: rc}
	l.peek = func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Alive only when there is nothing to read yet: data, the end of
		// the stream (no error) or a socket error say it is over.
		l.ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
		return true
	}
	return l
}

// alive reports whether the connection may be used again (see liveness).
func (l *liveness) alive() bool {
	if l == nil {
		return true
	}
	l.ok = true
	if err := l.rc.Read(l.peek); err != nil {
		return false
	}
	return l.ok
}
