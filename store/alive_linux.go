package store

import (
	"net"
	"syscall"
)

// alive reports whether a pooled connection may be used again: nothing is
// waiting to be read on it and its server has not closed it. Between two
// calls the server sends nothing unasked but the message that ends a
// session (57P01 when a primary shuts down for a switchover), so a
// readable socket is a session that ended. One non-blocking peek.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ok = true
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Alive only when there is nothing to read yet: data (n > 0), the
		// end of the stream (n == 0) or a socket error say it is over.
		ok = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
		return true
	})
	return ok && err == nil
}
