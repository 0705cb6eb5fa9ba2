//go:build unix

package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

// lock holds f for this process (released when f is closed or the
// process dies).
func lock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}

// orphan reports whether no live process holds the file at name.
func orphan(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}
