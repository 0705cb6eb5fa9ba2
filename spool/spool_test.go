package spool_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usersvc/spool"
)

func files(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, spool.Pattern))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestCap: the bytes of every file count against the cap; a body that
// can never fit is ErrTooLarge, one that does not fit now ErrFull; a
// removed file gives its bytes back.
func TestCap(t *testing.T) {
	d, _, err := spool.Open(filepath.Join(t.TempDir(), "spool"), 100)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.Create()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if n, err := a.Fill(strings.NewReader(strings.Repeat("a", 60)), 1000, h); n != 60 || err != nil || d.Used() != 60 {
		t.Fatalf("first body: %d %v, used %d", n, err, d.Used())
	}
	if fmt.Sprintf("%x", h.Sum(nil)) != fmt.Sprintf("%x", sha256.Sum256([]byte(strings.Repeat("a", 60)))) {
		t.Fatal("the digest did not see the body")
	}
	b, _ := d.Create()
	if _, err := b.Fill(strings.NewReader(strings.Repeat("b", 50)), 1000, nil); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("second body past the cap: %v, want ErrFull", err)
	}
	b.Remove()
	c, _ := d.Create()
	if _, err := c.Fill(strings.NewReader(strings.Repeat("c", 101)), 1000, nil); !errors.Is(err, spool.ErrTooLarge) {
		t.Fatalf("a body over the whole cap: %v, want ErrTooLarge", err)
	}
	c.Remove()
	e, _ := d.Create()
	if _, err := e.Fill(strings.NewReader(strings.Repeat("e", 11)), 10, nil); !errors.Is(err, spool.ErrTooLarge) {
		t.Fatalf("a body over its limit: %v, want ErrTooLarge", err)
	}
	e.Remove()
	if d.Used() != 60 || len(files(t, d.Path())) != 1 {
		t.Fatalf("after the failures: used %d, files %v; want 60 and a's file alone", d.Used(), files(t, d.Path()))
	}
	a.Remove()
	a.Remove()
	if d.Used() != 0 || len(files(t, d.Path())) != 0 {
		t.Fatalf("after removing a: used %d, files %v", d.Used(), files(t, d.Path()))
	}
}

// TestLeftovers: opening a directory removes the spool files a dead
// process left (nothing holds their lock), and keeps those a live one
// holds and files that are not spool files.
func TestLeftovers(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A leftover: written by a process that died (its file closed,
	// without removing it, as kill -9 leaves it).
	if err := os.WriteFile(filepath.Join(dir, "import-123.ndjson"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	live, removed, err := spool.Open(dir, 1<<20)
	if err != nil || removed != 1 {
		t.Fatalf("open: removed %d, %v; want the leftover removed", removed, err)
	}
	f, err := live.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if _, removed, err := spool.Open(dir, 1<<20); err != nil || removed != 0 {
		t.Fatalf("the second open removed %d (%v); the first already had, and the live file is held", removed, err)
	}
	got := files(t, dir)
	if len(got) != 1 || got[0] != f.Name() {
		t.Fatalf("spool files after the opens: %v, want only the live %s", got, f.Name())
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file that is not a spool file was touched: %v", err)
	}
}
