package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// Caches keyed by a query's text (gqlgen's parsed-query cache, the
// complexity cache, the tracing cache) are bounded in bytes, not only in
// entries: gqlgen's lru.New counts entries, so 1,000 distinct anonymous
// login mutations of 1 MiB each pinned 4 GiB across the three.
// Each cache skips a text over maxCachedQuery (such a query is parsed,
// costed and redacted again each time: the work it asks for anyway) and
// evicts its least recently used entries past its byte budget. Ordinary
// queries, a few KiB, hit as before.
const (
	maxCachedQuery = 32 << 10
	// queryCacheBytes bounds the parsed queries kept; docCacheBytes each
	// of the two small caches (an int or a redacted text per query).
	queryCacheBytes = 32 << 20
	docCacheBytes   = 8 << 20
	cacheEntries    = 1000
	// astBytesPerToken is what a parsed query holds per lexer token
	// (measured: 70 to 95 bytes with gqlparser v2.5; a query's text costs
	// its length on top), and entryBytes an entry's own bookkeeping.
	astBytesPerToken = 128
	entryBytes       = 128
)

// textCache is a graphql.Cache bounded in entries and in bytes (cost says
// what an entry holds) that does not keep keys over maxKey. It wraps
// hashicorp's LRU, the one gqlgen's lru.New wraps, to learn of evictions.
type textCache[T any] struct {
	maxKey, maxBytes int
	cost             func(key string, v T) int

	mu    sync.Mutex
	lru   *simplelru.LRU[string, sized[T]]
	bytes int
}

type sized[T any] struct {
	v    T
	cost int
}

var _ graphql.Cache[int] = (*textCache[int])(nil)

func newTextCache[T any](maxKey, maxBytes int, cost func(string, T) int) *textCache[T] {
	c := &textCache[T]{maxKey: maxKey, maxBytes: maxBytes, cost: cost}
	l, err := simplelru.NewLRU(cacheEntries, func(_ string, e sized[T]) { c.bytes -= e.cost })
	if err != nil {
		panic(err) // only for a size <= 0
	}
	c.lru = l
	return c
}

// Get looks key up; a key too long to be kept is never there.
func (c *textCache[T]) Get(_ context.Context, key string) (T, bool) {
	if len(key) > c.maxKey {
		var zero T
		return zero, false
	}
	c.mu.Lock()
	e, ok := c.lru.Get(key)
	c.mu.Unlock()
	return e.v, ok
}

// Add keeps v under key unless key is too long, or v alone is over the
// budget, then evicts the least recently used entries past the budget.
func (c *textCache[T]) Add(_ context.Context, key string, v T) {
	if len(key) > c.maxKey {
		return
	}
	n := entryBytes + c.cost(key, v)
	if n > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(key); ok {
		c.bytes -= old.cost // replaced, not evicted: no callback
	}
	c.lru.Add(key, sized[T]{v: v, cost: n})
	c.bytes += n
	for c.bytes > c.maxBytes {
		c.lru.RemoveOldest()
	}
}

// Bytes is what the cache holds by its own count.
func (c *textCache[T]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// newQueryCache is gqlgen's parsed-query cache: a document costs its text
// and astBytesPerToken a token (the text's tokens are counted once, when
// it is added).
func newQueryCache() *textCache[*ast.QueryDocument] {
	return newTextCache(maxCachedQuery, queryCacheBytes, func(q string, _ *ast.QueryDocument) int {
		return len(q) + astBytesPerToken*tokens(q)
	})
}

// tokens counts q's lexer tokens (q was parsed already: it lexes).
func tokens(q string) int {
	lx := lexer.New(&ast.Source{Input: q})
	n := 0
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return n
		}
		n++
	}
}
