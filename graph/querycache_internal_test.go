package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestTextCacheBounds: ordinary queries are kept and hit; a text over
// maxCachedQuery is never kept; past the byte budget the least recently
// used entries go, and the count follows replacements and evictions.
func TestTextCacheBounds(t *testing.T) {
	ctx := context.Background()
	q := newQueryCache()
	ordinary := `query User($id: ID!) { user(id: $id) { id name email role timeZone history(first: 10) { edges { node { action at } } } } }`
	doc, err := parser.ParseQuery(&ast.Source{Input: ordinary})
	if err != nil {
		t.Fatal(err)
	}
	q.Add(ctx, ordinary, doc)
	if got, ok := q.Get(ctx, ordinary); !ok || got != doc {
		t.Fatal("an ordinary query is not kept")
	}
	if q.Bytes() < len(ordinary) || q.Bytes() > 20_000 {
		t.Fatalf("an ordinary query counts %d bytes", q.Bytes())
	}
	long := `mutation { login(email: "a@example.com", password: "` + strings.Repeat("x", 500_000) + `") { token } }`
	q.Add(ctx, long, doc)
	if _, ok := q.Get(ctx, long); ok {
		t.Fatal("a 500 KB query was kept")
	}
	if _, ok := q.Get(ctx, ordinary); !ok {
		t.Fatal("a long query pushed an ordinary one out")
	}

	// 100-byte budget entries: 10 fit in a budget of 10 entries' cost.
	c := newTextCache(maxCachedQuery, 10*(entryBytes+100), func(k string, _ int) int { return 100 })
	for i := range 10 {
		c.Add(ctx, fmt.Sprint(i), i)
	}
	c.Get(ctx, "0")    // 0 is now the most recently used
	c.Add(ctx, "0", 0) // a replacement does not count twice
	if c.Bytes() != 10*(entryBytes+100) {
		t.Fatalf("10 entries count %d bytes", c.Bytes())
	}
	c.Add(ctx, "10", 10)
	if _, ok := c.Get(ctx, "1"); ok {
		t.Fatal("past the budget, the least recently used entry stays")
	}
	for _, k := range []string{"0", "2", "10"} {
		if _, ok := c.Get(ctx, k); !ok {
			t.Fatalf("%s was evicted", k)
		}
	}
	if c.Bytes() != 10*(entryBytes+100) {
		t.Fatalf("after an eviction: %d bytes", c.Bytes())
	}
}
