package usersvc_test

import (
	"regexp"
	"strconv"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// apiSection is the text of docs/api.md under the heading "## <title>…".
func apiSection(t *testing.T, title string) string { return testenv.APISection(t, title) }

// TestWriteTableInDocs: the "Who may write what" table of docs/api.md
// says, for every field of the document and no other, who may write it
// as the production table does (the table in the docs is the tests'
// expectation: testenv.FieldWriters reads it).
func TestWriteTableInDocs(t *testing.T) {
	testenv.CheckFieldWriters[any](t, nil)
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
