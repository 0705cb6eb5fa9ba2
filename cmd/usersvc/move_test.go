package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"usersvc"
	"usersvc/moving"
)

// TestImportExportCommands: usersvc import's summary, failed lines and
// exit status (0, 1 when lines failed, 2 for a usage error or an
// unreadable file), standard input, a dry run, and usersvc export.
func TestImportExportCommands(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "move.db")
	file := filepath.Join(dir, "users.ndjson")
	lines := strings.Join([]string{
		`{"id":"1001","name":"Ana","email":"ana@example.com","country":"ES","timeZone":"Europe/Madrid","passwordHash":"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"}`,
		`{"id":"1002","name":"Ben","email":"not an email","country":"ES","timeZone":"UTC"}`,
		``,
		`{"id":"1003","name":"Cy","email":"cy@example.com","country":"ES","timeZone":"UTC"}`,
	}, "\n") + "\n"
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	status := func(err error) int {
		var ex *exitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ex):
			return ex.code
		}
		return 1
	}
	cli := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args[:1:1], append([]string{"-database-url", db}, args[1:]...)...), strings.NewReader(stdin), &out, &errb)
		if err != nil {
			errb.WriteString("usersvc: " + err.Error() + "\n")
		}
		return out.String(), errb.String(), status(err)
	}
	if _, errOut, code := cli("", "import", file); code != 2 || !strings.Contains(errOut, "no database at ") {
		t.Fatalf("import before the database exists: %d %q", code, errOut)
	}
	if _, _, code := cli("", "migrate"); code != 0 {
		t.Fatal("migrate")
	}
	for _, tc := range []struct {
		name          string
		stdin         string
		args          []string
		status        int
		stdout, errIn string
	}{
		{"dry run", "", []string{"import", "--dry-run", file}, 1, "created 2, updated 0, unchanged 0, failed 1 (dry run: nothing was written)\n",
			"line 2: email: Invalid email.\nusersvc: 1 of 3 lines failed; a real run would import the others (dry run: nothing was written)\n"},
		{"dry run, every line failed", `{"name":"Ed","email":"ed@example.com","country":"ES","timeZone":"UTC","passwordHash":"$2a$10$abc"}` + "\n", []string{"import", "--dry-run", "-"}, 1,
			"created 0, updated 0, unchanged 0, failed 1 (dry run: nothing was written)\n",
			"line 1: passwordHash: malformed bcrypt hash (want 53 characters after the cost, not 3)\nusersvc: 1 of 1 lines failed; a real run would import none (dry run: nothing was written)\n"},
		{"import", "", []string{"import", file}, 1, "created 2, updated 0, unchanged 0, failed 1\n", "1 of 3 lines failed; the others were imported\n"},
		{"again, from standard input", lines, []string{"import", "-"}, 1, "created 0, updated 0, unchanged 0, failed 3\n", "line 1: id: A user with this id already exists.\nline 2: email: Invalid email.\nline 4: id: A user with this id already exists.\nusersvc: 3 of 3 lines failed; nothing was imported\n"},
		{"upsert", strings.Replace(lines, `"Cy"`, `"Cyd"`, 1), []string{"import", "--mode", "upsert", "-"}, 1, "created 0, updated 1, unchanged 1, failed 1\n", "line 2: email"},
		{"a good file", `{"name":"Di","email":"di@example.com","country":"ES","timeZone":"UTC"}` + "\n", []string{"import", "-"}, 0, "created 1, updated 0, unchanged 0, failed 0\n", ""},
		{"missing file", "", []string{"import", filepath.Join(dir, "nope.ndjson")}, 2, "", "no such file"},
		{"no file", "", []string{"import"}, 2, "", "usage: usersvc import"},
		{"a bad id", `{"id":"a%b","name":"Fa","email":"fa@example.com","country":"ES","timeZone":"UTC"}` + "\n", []string{"import", "-"}, 1, "created 0, updated 0, unchanged 0, failed 1\n",
			"line 1: id: An id is 1 to 64 bytes of printable text without spaces, /, ?, # or %, and not countries, timeZones, import or export.\n"},
		{"bad mode", "", []string{"import", "--mode", "merge", file}, 2, "", `--mode "merge": The import mode must be "create" or "upsert".`},
		{"two files", "", []string{"import", file, file}, 2, "", "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(tc.stdin, tc.args...)
			if code != tc.status || out != tc.stdout || !strings.Contains(errOut, tc.errIn) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, stderr with %q", code, out, errOut, tc.status, tc.stdout, tc.errIn)
			}
		})
	}
	out, errOut, code := cli("", "export", "--with-password-hashes")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"id":"1001"`) || !strings.Contains(out, `"name":"Cyd"`) ||
		!strings.Contains(out, `"passwordHash":"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"`) || errOut != "exported 3 users\n" {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
}

// TestServeSpool: serve's spool directory (USERSVC_SPOOL_DIR) is made,
// and the import bodies a crashed process left in it are removed at
// start; other files stay.
func TestServeSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"import-1.ndjson", "import-2.ndjson", "keep.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := serveConfig([]string{"-spool-dir", dir, "-spool-max-bytes", "1000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := useSpool(moving.NewJobs(usersvc.NewService(nil), nil), c, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 1 || filepath.Base(left[0]) != "keep.txt" || !strings.Contains(log.String(), "files=2") {
		t.Fatalf("after start: %v; log %q", left, log.String())
	}
	if _, err := serveConfig([]string{"-spool-max-bytes", "0"}, io.Discard); err == nil {
		t.Fatal("a spool cap of 0 was accepted")
	}
}
