package usersvc_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsNameOnlyRealSettings: every USERSVC_ variable the README or
// docs/ name is read by the code (a Go file that is not a test, the
// Makefile or a script): a setting the docs promise must exist.
func TestDocsNameOnlyRealSettings(t *testing.T) {
	re := regexp.MustCompile(`USERSVC_[A-Z0-9_]*[A-Z0-9]`)
	named := map[string]string{}
	docs, _ := filepath.Glob("docs/*.md")
	for _, p := range append(docs, "README.md") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range re.FindAllString(string(b), -1) {
			named[v] = p
		}
	}
	if len(named) < 5 {
		t.Fatalf("found %d settings in the docs; has their spelling changed?", len(named))
	}
	var code strings.Builder
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || d.Name() == "docs" || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") || p == "Makefile" || strings.HasPrefix(p, "scripts/") || strings.HasPrefix(p, ".ci/") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			code.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for v, doc := range named {
		if !strings.Contains(code.String(), v) {
			t.Errorf("%s names %s, which no code reads", doc, v)
		}
	}
}
