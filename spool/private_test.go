//go:build unix

package spool_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usersvc/spool"
)

// TestOpenRefusesSharedDirectory: the default spool directory is in the
// shared temp directory, where another local user may have made it first;
// a directory others may read or write, or a link, is refused at start
// (the bodies hold password hashes); one of ours open to others is
// narrowed to 0700, a private one is used.
func TestOpenRefusesSharedDirectory(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(base, "private")
	theirs := filepath.Join(base, "theirs")
	if err := os.Mkdir(theirs, 0o700); err != nil {
		t.Fatal(err)
	}
	chowned := os.Chown(theirs, os.Geteuid()+1, -1) == nil // root only
	link := filepath.Join(base, "link")
	if err := os.Symlink(base, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"ours, open to others", open, ""},
		{"a link", link, "is not a directory"},
		{"new, private", private, ""},
		{"another user's", theirs, "belongs to user"},
	} {
		if tc.path == theirs && !chowned {
			continue // not root: cannot give a directory away
		}
		_, _, err := spool.Open(tc.path, 1<<20)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v; want it used", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	if fi, err := os.Stat(open); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the open directory after Open: %v, %v; want mode 0700", fi.Mode().Perm(), err)
	}
}
