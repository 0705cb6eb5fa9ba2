package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeConfigTable: the README's configuration table lists every
// variable serve reads, with its flag and its default, and nothing else.
// A flag added, renamed or given a new default without the README fails
// here.
func TestReadmeConfigTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ flag, def string }
	documented := map[string]row{}
	re := regexp.MustCompile("^\\| `(USERSVC_[A-Z_]+)` \\| `-([a-z-]+)` \\| ([^|]+) \\|")
	for _, line := range strings.Split(string(b), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			if _, dup := documented[m[1]]; dup {
				t.Errorf("README lists %s twice", m[1])
			}
			documented[m[1]] = row{m[2], strings.TrimSpace(m[3])}
		}
	}
	if len(documented) < 5 {
		t.Fatalf("found %d configuration rows in README.md; has the table's shape changed?", len(documented))
	}
	s := serveSettings(&config{}, io.Discard)
	seen := map[string]bool{}
	for _, e := range s.envs {
		if seen[e.env] { // a variable with two checks is bound twice
			continue
		}
		seen[e.env] = true
		d, ok := documented[e.env]
		if !ok {
			t.Errorf("README's configuration table lacks %s (-%s)", e.env, e.name)
			continue
		}
		delete(documented, e.env)
		if d.flag != e.name {
			t.Errorf("README: %s is -%s, the code says -%s", e.env, d.flag, e.name)
		}
		def := s.fs.Lookup(e.name).DefValue
		if !sameDefault(d.def, def) {
			t.Errorf("README: %s defaults to %s, the code to %q", e.env, d.def, def)
		}
	}
	for env := range documented {
		t.Errorf("README documents %s, which serve does not read", env)
	}
}

// sameDefault compares a README default cell with a flag's default: a
// value in backquotes must equal it (durations as durations); an empty
// default is written in words ("none", "the database URL").
func sameDefault(cell, def string) bool {
	if def == "" {
		return !strings.HasPrefix(cell, "`")
	}
	v, ok := strings.CutPrefix(cell, "`")
	if !ok {
		return false
	}
	v = strings.TrimSuffix(v, "`")
	if v == def {
		return true
	}
	a, err1 := time.ParseDuration(v)
	b, err2 := time.ParseDuration(def)
	return err1 == nil && err2 == nil && a == b
}

// TestReadmeHelp: every "`usersvc … -h` lists the flags" or "… lists the
// commands" in the README is what that command line prints (the README
// once said `usersvc -h` lists the flags; it lists the commands).
func TestReadmeHelp(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("`usersvc((?: [a-z]+)*) -h`(?: \\([^)]*\\))? lists the\\s+(flags|commands)")
	claims := re.FindAllStringSubmatch(string(b), -1)
	if len(claims) == 0 {
		t.Fatalf("found %d claims about -h in README.md; has its wording changed?", len(claims))
	}
	for _, c := range claims {
		args := append(strings.Fields(c[1]), "-h")
		var out strings.Builder
		if err := run(t.Context(), args, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("usersvc %s: %v", strings.Join(args, " "), err)
		}
		flags := strings.Contains(out.String(), "-database-url") && strings.Contains(out.String(), "[USERSVC_DATABASE_URL]")
		commands := strings.Contains(out.String(), "usersvc migrate") && strings.Contains(out.String(), "usersvc export")
		if got := map[string]bool{"flags": flags && !commands, "commands": commands && !flags}[c[2]]; !got {
			t.Errorf("README: `usersvc %s` lists the %s; it prints:\n%s", strings.Join(args, " "), c[2], out.String())
		}
	}
}
