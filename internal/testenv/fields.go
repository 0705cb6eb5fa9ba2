package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"usersvc"
)

// APISection is the text of docs/api.md under the heading "## <title>…",
// up to the next heading of that level. docs/api.md is found in the
// module's root, above the test's directory.
func APISection(t testing.TB, title string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## "+title)
	if !ok {
		t.Fatalf("docs/api.md has no %q section", "## "+title)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// FieldWriters is who may write each field of the user document, as the
// table "Who may write what" in docs/api.md says: "self" (the user and
// admins), "admin" (admins only), "undelete" (admins, and only back to
// null), "read-only" (nobody). That table is written by hand, for the
// API's clients, and is the tests' expectation: they check the
// production field table against it (CheckFieldWriters), never with it.
func FieldWriters(t testing.TB) map[string]string {
	t.Helper()
	name := regexp.MustCompile("`([a-zA-Z]+)`")
	documented := map[string]string{}
	for _, line := range strings.Split(APISection(t, "Who may write what"), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "field" {
			continue
		}
		self, admin := strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3])
		var who string
		switch {
		case strings.HasPrefix(self, "yes") && strings.HasPrefix(admin, "yes"):
			who = "self"
		case strings.Contains(cells[1], "only back to `null`") && strings.HasPrefix(admin, "yes"):
			who = "undelete"
		case strings.HasPrefix(self, "no") && strings.HasPrefix(admin, "yes"):
			who = "admin"
		case strings.HasPrefix(self, "no") && strings.HasPrefix(admin, "no"):
			who = "read-only"
		default:
			t.Fatalf("a row of docs/api.md's table the test cannot read: %s", line)
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			if m[1] == "null" {
				continue
			}
			if _, dup := documented[m[1]]; dup {
				t.Errorf("docs/api.md lists %s twice", m[1])
			}
			documented[m[1]] = who
		}
	}
	if len(documented) == 0 {
		t.Fatal("docs/api.md's \"Who may write what\" table lists no field")
	}
	return documented
}

// CheckFieldWriters fails t unless the production field table says what
// docs/api.md says (FieldWriters), and unless samples, when not nil, holds
// a value for exactly the writable fields. It returns FieldWriters.
func CheckFieldWriters[V any](t testing.TB, samples map[string]V) map[string]string {
	t.Helper()
	writers := FieldWriters(t)
	names := map[usersvc.Access]string{usersvc.SelfWritable: "self", usersvc.AdminWritable: "admin", usersvc.AdminUndelete: "undelete", usersvc.ReadOnly: "read-only"}
	production := map[string]string{}
	for _, f := range usersvc.FieldTable() {
		production[f.Name] = names[f.Access]
	}
	for f, want := range writers {
		if got, ok := production[f]; !ok {
			t.Errorf("%s: in docs/api.md's table but not a field", f)
		} else if got != want {
			t.Errorf("%s: the production table says %q, docs/api.md %q", f, got, want)
		}
		if _, ok := samples[f]; samples != nil && ok == (want == "read-only") {
			t.Errorf("%s (%s): sample present = %v", f, want, ok)
		}
	}
	for f := range production {
		if _, ok := writers[f]; !ok {
			t.Errorf("%s: in the production table but not in docs/api.md", f)
		}
	}
	for f := range samples {
		if _, ok := writers[f]; !ok {
			t.Errorf("%s: a sample for a field the table does not have", f)
		}
	}
	return writers
}
