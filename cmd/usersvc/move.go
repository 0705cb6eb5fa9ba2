package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"usersvc"
	"usersvc/moving"
	"usersvc/spool"
)

// exitError ends the command with its own exit status (import: 1 when
// lines failed, 2 for a usage error, an unreadable file or a database that
// cannot be opened).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error { return &exitError{code: 2, err: err} }

const importUsage = "usage: usersvc import [--mode create|upsert] [--dry-run] FILE (or - for standard input)"

// importCmd is usersvc import: stream FILE's NDJSON users in (see
// docs/import.md), with progress on standard error (a bar on a terminal,
// else a line every 5 s), each failed line's number, field and message on
// standard error, and the summary line on standard output.
func importCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	var mode string
	var dryRun bool
	s := newSettings("import", stderr)
	s.args = 1
	commonFlags(s, &c)
	s.fs.StringVar(&mode, "mode", usersvc.ImportCreate, "create (refuse existing ids and emails) or upsert (replace them, as PUT does)")
	s.fs.BoolVar(&dryRun, "dry-run", false, "check every line and report as a real run would, writing nothing")
	if err := s.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr(err)
	}
	if s.fs.NArg() != 1 {
		return usageErr(errors.New(importUsage))
	}
	if err := (&usersvc.ImportOptions{Mode: mode}).Check(); err != nil { // the domain's rule; a usage error here
		return usageErr(fmt.Errorf("--mode %q: %s", mode, usersvc.ErrorMessage(err, "en")))
	}
	in, size := stdin, int64(-1)
	if name := s.fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return usageErr(fmt.Errorf("reading %s: %w", name, err))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		in = f
	}
	st, err := open(ctx, &c, false, stderr)
	if err != nil {
		return usageErr(err) // nothing was imported: not "some lines failed"
	}
	defer st.Close()
	progress := newImportProgress(stderr, size)
	counts, err := moving.Import(usersvc.SystemContext(ctx), usersvc.NewService(st), in, moving.Options{
		ImportOptions: usersvc.ImportOptions{Mode: mode, DryRun: dryRun}, Progress: progress.update,
		Failed: func(f usersvc.ImportFailure) {
			progress.clear()
			if f.Field != "" {
				fmt.Fprintf(stderr, "line %d: %s: %s\n", f.Line, f.Field, f.Message)
			} else {
				fmt.Fprintf(stderr, "line %d: %s\n", f.Line, f.Message)
			}
		},
	})
	progress.finish()
	summary := counts.String()
	if dryRun {
		summary += " (dry run: nothing was written)"
	}
	fmt.Fprintln(stdout, summary)
	switch {
	case err != nil && usersvc.ErrorCode(err) == usersvc.EInvalid:
		return usageErr(err) // the input could not be read
	case err != nil:
		return err
	case counts.Failed > 0:
		return &exitError{code: 1, err: fmt.Errorf("%d of %d lines failed; %s", counts.Failed, counts.Lines, failedTail(counts, dryRun))}
	}
	return nil
}

// failedTail says what happened to the lines that did not fail.
func failedTail(c usersvc.ImportCounts, dryRun bool) string {
	switch {
	case dryRun && c.Failed >= c.Lines:
		return "a real run would import none (dry run: nothing was written)"
	case dryRun:
		return "a real run would import the others (dry run: nothing was written)"
	case c.Failed >= c.Lines:
		return "nothing was imported"
	}
	return "the others were imported"
}

// importProgress shows an import's progress on standard error: a bar
// (schollz/progressbar) when it is a terminal, else one line every 5 s.
type importProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
}

func newImportProgress(w io.Writer, size int64) *importProgress {
	p := &importProgress{w: w, start: time.Now(), last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("importing"), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *importProgress) update(c usersvc.ImportCounts) {
	if p.bar != nil {
		_ = p.bar.Set64(c.Bytes)
		p.bar.Describe(fmt.Sprintf("%d lines", c.Lines))
		return
	}
	if time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		rate := float64(c.Lines) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.w, "import: %d lines (%.0f a second), %s\n", c.Lines, rate, c)
	}
}

func (p *importProgress) clear() {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}

func (p *importProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// useSpool opens serve's spool directory (removing the import bodies a
// crashed process left there) and gives it to the import jobs.
func useSpool(jobs *moving.Jobs, c config, logger *slog.Logger) error {
	dir := c.SpoolDir
	if dir == "" {
		dir = moving.DefaultSpoolDir()
	}
	d, removed, err := spool.Open(dir, c.SpoolMax)
	if err != nil {
		return err
	}
	if removed > 0 {
		logger.Info("removed import bodies an earlier process left", "dir", dir, "files", removed)
	}
	jobs.UseSpool(d)
	return nil
}

// exportCmd is usersvc export: every user as NDJSON on standard output.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	var hashes bool
	s := newSettings("export", stderr)
	commonFlags(s, &c)
	s.fs.BoolVar(&hashes, "with-password-hashes", false, "include each user's stored password hash (recorded in the history)")
	if err := s.parse(args); err != nil {
		return err
	}
	st, err := open(ctx, &c, false, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := moving.Export(usersvc.SystemContext(ctx), usersvc.NewService(st), stdout, hashes)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d users\n", n)
	return nil
}
