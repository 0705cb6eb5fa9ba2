//go:build unix

package spool

import (
	"fmt"
	"os"
	"syscall"

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

// private refuses a spool directory that is not this user's own (or is a
// link), and narrows one of ours that others may read or write to 0700:
// the default is in the shared temp directory, where another local user
// could have made it first (MkdirAll keeps a directory that exists), and
// the bodies hold password hashes.
func private(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("spool: %s is not a directory (a link?)", path)
	case ok && int(st.Uid) != os.Geteuid():
		return fmt.Errorf("spool: %s belongs to user %d, not to this process's user %d", path, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o077 != 0:
		if err := os.Chmod(path, 0o700); err != nil {
			return fmt.Errorf("spool: %s is open to other users (mode %04o) and could not be made 0700: %w", path, fi.Mode().Perm(), err)
		}
	}
	return nil
}
