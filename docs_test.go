package usersvc_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// apiSection is the text of docs/api.md under the heading "## <title>…",
// up to the next heading of that level.
func apiSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile("docs/api.md")
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

// TestWriteTableInDocs: the "Who may write what" table of docs/api.md
// says, for every field of the document and no other, what FieldWriters
// (checked against the production table by CheckFieldWriters) says.
func TestWriteTableInDocs(t *testing.T) {
	section := apiSection(t, "Who may write what")
	name := regexp.MustCompile("`([a-zA-Z]+)`")
	documented := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
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
			t.Fatalf("a row the test cannot read: %s", line)
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
	for f, want := range testenv.FieldWriters {
		if got, ok := documented[f]; !ok {
			t.Errorf("docs/api.md's table lacks %s (%s)", f, want)
		} else if got != want {
			t.Errorf("docs/api.md: %s is %s, want %s", f, got, want)
		}
	}
	for f := range documented {
		if _, ok := testenv.FieldWriters[f]; !ok {
			t.Errorf("docs/api.md's table lists %s, which is not a field", f)
		}
	}
}

// TestValidationTableInDocs: every limit of the field table is the one
// docs/api.md's "Validation" table states: lengths (`name` ≤ 200, or the
// field's own row ending "≤ N characters"), entries (≤ N entries) and
// integer ranges (Min … Max).
func TestValidationTableInDocs(t *testing.T) {
	section := apiSection(t, "Validation")
	states := func(patterns ...string) bool {
		for _, p := range patterns {
			if regexp.MustCompile("(?m)" + p).MatchString(section) {
				return true
			}
		}
		return false
	}
	checked := 0
	for _, f := range usersvc.FieldTable() {
		name := regexp.QuoteMeta("`" + f.Name + "`")
		switch {
		case f.MaxLength > 0:
			n := numberPattern(int64(f.MaxLength))
			if !states(name+"(?:/`\\w+`)* ≤ "+n+`\b`, `^\| `+name+` \|[^\n]*≤ `+n+` characters`) {
				t.Errorf("docs/api.md does not say %s is at most %d characters", f.Name, f.MaxLength)
			}
		case f.MaxItems > 0:
			if !states(`^\| ` + name + ` \|[^\n]*≤ ` + numberPattern(int64(f.MaxItems)) + ` entries`) {
				t.Errorf("docs/api.md does not say %s holds at most %d entries", f.Name, f.MaxItems)
			}
		case f.Max > 0:
			if !states(`^\| ` + name + ` \|[^\n]*` + numberPattern(f.Min) + ` … ` + numberPattern(f.Max) + `\b`) {
				t.Errorf("docs/api.md does not say %s is %d … %d", f.Name, f.Min, f.Max)
			}
		default:
			continue
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d limits checked; has the field table lost its limits?", checked)
	}
}

// numberPattern matches n written plainly or with thousands commas.
func numberPattern(n int64) string {
	plain := strconv.FormatInt(n, 10)
	grouped := plain
	for i := len(plain) - 3; i > 0; i -= 3 {
		grouped = grouped[:i] + "," + grouped[i:]
	}
	return "(?:" + plain + "|" + regexp.QuoteMeta(grouped) + ")"
}
