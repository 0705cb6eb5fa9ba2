// Package spool keeps uploaded import bodies on disk until their job has
// read them: one directory, a cap on the bytes all its files hold at once,
// each file removed when its job ends, and the files a crashed process
// left removed when the next one opens the directory.
//
// A file in use is locked (flock) by the process that wrote it, so two
// processes may share a directory: Open removes only files no live
// process holds.
package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Pattern is how spool files are named (os.CreateTemp's pattern).
const Pattern = "import-*.ndjson"

// Errors of Fill.
var (
	// ErrFull: the directory's cap would be passed by this body now; it
	// may fit once running jobs end.
	ErrFull = errors.New("the spool directory is full")
	// ErrTooLarge: the body is larger than the limit it was given or the
	// whole cap: it can never be spooled.
	ErrTooLarge = errors.New("the body is too large")
	// ErrDisk: writing the file failed (the disk, not the body).
	ErrDisk = errors.New("spool: writing the file")
)

// Dir is a spool directory with a byte cap.
type Dir struct {
	path string
	max  int64

	mu   sync.Mutex
	used int64
}

// Open makes (0700) or opens the directory at path, with a cap of max
// bytes, and removes the spool files no live process holds (left by a
// crash). It returns how many it removed.
func Open(path string, max int64) (*Dir, int, error) {
	if path == "" {
		return nil, 0, errors.New("spool: no directory")
	}
	if max <= 0 {
		return nil, 0, fmt.Errorf("spool: the cap must be positive, not %d", max)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	if err := private(path); err != nil {
		return nil, 0, err
	}
	names, err := filepath.Glob(filepath.Join(path, Pattern))
	if err != nil {
		return nil, 0, fmt.Errorf("spool: %w", err)
	}
	removed := 0
	for _, name := range names {
		if orphan(name) && os.Remove(name) == nil {
			removed++
		}
	}
	return &Dir{path: path, max: max}, removed, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// Max is the cap, in bytes.
func (d *Dir) Max() int64 { return d.max }

// Used is how many bytes the files of this process hold now.
func (d *Dir) Used() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used
}

// reserve counts n more bytes against the cap, or fails with ErrFull.
func (d *Dir) reserve(n int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.used+n > d.max {
		return ErrFull
	}
	d.used += n
	return nil
}

func (d *Dir) release(n int64) {
	d.mu.Lock()
	d.used -= n
	d.mu.Unlock()
}

// File is one spooled body, locked while it exists.
type File struct {
	*os.File
	d    *Dir
	size int64
	once sync.Once
}

// Create makes a new, locked, empty spool file.
func (d *Dir) Create() (*File, error) {
	f, err := os.CreateTemp(d.path, Pattern)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &File{File: f, d: d}, nil
}

// Fill copies r into the file, at most limit bytes, counting them against
// the directory's cap as they come, then rewinds the file for reading. w,
// when set, sees every byte too (a digest). It fails with ErrTooLarge past
// limit or past the whole cap, with ErrFull when the cap is reached by
// the bytes of other files, with ErrDisk when the file cannot be
// written, and with r's error when r fails.
func (f *File) Fill(r io.Reader, limit int64, w io.Writer) (int64, error) {
	tooLarge := min(limit, f.d.max)
	buf := make([]byte, 64<<10)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if f.size+int64(n) > tooLarge {
				return f.size, ErrTooLarge
			}
			if err := f.d.reserve(int64(n)); err != nil {
				return f.size, err
			}
			f.size += int64(n)
			if _, err := f.Write(buf[:n]); err != nil {
				return f.size, fmt.Errorf("%w: %w", ErrDisk, err)
			}
			if w != nil {
				_, _ = w.Write(buf[:n])
			}
		}
		if rerr == io.EOF {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return f.size, fmt.Errorf("%w: %w", ErrDisk, err)
			}
			return f.size, nil
		}
		if rerr != nil {
			return f.size, rerr
		}
	}
}

// Remove closes and removes the file and gives its bytes back to the cap.
// It may be called more than once.
func (f *File) Remove() {
	f.once.Do(func() {
		f.File.Close()
		os.Remove(f.Name())
		f.d.release(f.size)
	})
}
