package graph

import "testing"

func TestStaticComplexity(t *testing.T) {
	var withFunc ComplexityRoot
	withFunc.User.Tags = func(int) int { return 10 }
	for _, c := range []struct {
		name string
		root ComplexityRoot
		want bool
	}{
		{"no functions", ComplexityRoot{}, true},
		{"one function", withFunc, false},
	} {
		if got := staticComplexity(c.root); got != c.want {
			t.Errorf("%s: staticComplexity = %v, want %v", c.name, got, c.want)
		}
	}
}
