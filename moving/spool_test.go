package moving_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
	"usersvc/spool"
)

// TestImportSpool: bodies wait in the configured directory, counted
// against its cap: one larger than the cap is 413, one that does not fit
// beside a running job's is 503 with a clear message; a body whose read
// fails, a refused one and a finished job leave no file behind.
func TestImportSpool(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		admin := as(t, e, e.AdminToken)
		dir := filepath.Join(t.TempDir(), "spool")
		d, _, err := spool.Open(dir, 1000)
		if err != nil {
			t.Fatal(err)
		}
		gate := newGate(e.Store, 1)
		jobs := moving.NewJobs(testenv.NewService(gate, e.Clock), gate)
		jobs.UseSpool(d)
		left := func() []string {
			names, _ := filepath.Glob(filepath.Join(dir, "*"))
			return names
		}
		lines := func(n int, prefix string) string { // n lines of 100 bytes
			var b strings.Builder
			for i := range n {
				line := fmt.Sprintf(`{"id":"%s%03d","name":"N","email":"%s%03d@example.com","country":"ES","timeZone":"UTC"`, prefix, i, prefix, i)
				b.WriteString(line + strings.Repeat(" ", 98-len(line)) + "}\n")
			}
			return b.String()
		}
		if _, _, err := jobs.Start(admin, strings.NewReader(lines(11, "a")), usersvc.ImportOptions{}, ""); usersvc.ErrorCode(err) != usersvc.ETooLarge ||
			usersvc.ErrorMessage(err, "en") != "An import body is at most 1000 bytes; import larger files with usersvc import." {
			t.Fatalf("a body over the cap: %v", err)
		}
		j, _, err := jobs.Start(admin, strings.NewReader(lines(6, "b")), usersvc.ImportOptions{}, "")
		if err != nil {
			t.Fatal(err)
		}
		<-gate.entered // its 600 bytes are spooled, its first batch held
		if got := left(); len(got) != 1 || d.Used() != 600 {
			t.Fatalf("spool while the job runs: %v, %d bytes", got, d.Used())
		}
		if _, _, err := jobs.Start(admin, strings.NewReader(lines(5, "c")), usersvc.ImportOptions{}, ""); usersvc.ErrorCode(err) != usersvc.EUnavailable ||
			usersvc.ErrorMessage(err, "en") != "The imports running now fill the spool (1000 bytes); try again when they end." {
			t.Fatalf("a body that does not fit now: %v", err)
		}
		broken := io.MultiReader(strings.NewReader(lines(1, "d")), iotest.ErrReader(errors.New("connection reset")))
		if _, _, err := jobs.Start(admin, broken, usersvc.ImportOptions{}, ""); usersvc.ErrorCode(err) != usersvc.EInvalid {
			t.Fatalf("a body whose read fails: %v", err)
		}
		gate.release <- struct{}{}
		if got := waitJobEnd(t, jobs, admin, j.ID); got.Status != usersvc.JobCompleted || got.Created != 6 || got.Bytes != 600 {
			t.Fatalf("the job: %+v", got)
		}
		if got := left(); len(got) != 0 || d.Used() != 0 {
			t.Fatalf("spool after everything ended: %v, %d bytes", got, d.Used())
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("the spool directory: %v %v", fi.Mode(), err)
		}
	})
}
