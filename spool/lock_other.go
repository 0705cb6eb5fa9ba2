//go:build !unix

package spool

import "os"

// lock does nothing where flock is missing: there, give each process a
// directory of its own.
func lock(*os.File) error { return nil }

// orphan: without locks every file a starting process finds is a
// leftover (each process has a directory of its own).
func orphan(string) bool { return true }

// private: no owner or mode to check here.
func private(string) error { return nil }
