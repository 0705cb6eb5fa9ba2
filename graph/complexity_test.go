package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"usersvc/internal/testenv"
)

// TestComplexityRemembered sends each request twice: the remembered
// complexity is the operation's own (the operation name is part of the
// key), and a refusal says what it said the first time.
func TestComplexityRemembered(t *testing.T) {
	e := testenv.Start(t, testenv.BenchDBs(t)[0]) // SQLite: the database plays no part
	// 33 pages of 100 users costing 1 + 100 x 3 = 301 each, 33 x me { id }
	// at 2, and __typename at 1: 10,000, the limit.
	var big strings.Builder
	for i := range 33 {
		fmt.Fprintf(&big, " u%d: users(first: 100) { edges { node { id } } } m%d: me { id }", i, i)
	}
	doc := func(extra string) string {
		return "query A {" + big.String() + " __typename" + extra + " } query B { me { id } }"
	}
	for _, c := range []struct {
		name, query, op string
		refused         string
	}{
		{"at the limit", doc(""), "A", ""},
		{"other operation, same text", doc(""), "B", ""},
		{"over the limit", doc(" __typename"), "A", "operation has complexity 10001, which exceeds the limit of 10000"},
		{"small operation beside it", doc(" __typename"), "B", ""},
	} {
		body, _ := json.Marshal(map[string]any{"query": c.query, "operationName": c.op})
		for try := range 2 {
			r := e.Do(t, "POST", "/graphql", e.AliceToken, string(body))
			if msg := firstError(r.JSON); msg != c.refused {
				t.Errorf("%s, try %d: error %q, want %q", c.name, try+1, msg, c.refused)
			}
		}
	}
}

// firstError is the message of an answer's first error, "" if none.
func firstError(answer map[string]any) string {
	errs, _ := answer["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	msg, _ := errs[0].(map[string]any)["message"].(string)
	return msg
}

// TestComplexityCountsPages: a page costs its size times an item, whether
// the size is written in the query or comes in a variable (the remembered
// complexity follows the variables), and aliasing big history pages is
// refused (99 x history(first: 100) answered 21 MB).
func TestComplexityCountsPages(t *testing.T) {
	e := testenv.Start(t, testenv.BenchDBs(t)[0])
	aliased := func(n int) string { // n x me(1) + history(1 + 100 x (edges 1 + node 1 + 2 fields)) = n x 402
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, " h%d: me { history(first: 100) { edges { node { action at } } } }", i)
		}
		return "{" + b.String() + " }"
	}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		refused     string
	}{
		{"24 aliased pages of 100 (9,648)", aliased(24), nil, ""},
		{"36 of them (14,472)", aliased(36), nil, "operation has complexity 14472, which exceeds the limit of 10000"},
		{"a variable page, small", `query($n: Int) { users(first: $n) { edges { node { id name email } } } a: users(first: 100) { edges { node { id name email } } } }`, map[string]any{"n": 1}, ""},
		{"the same text, a big page", `query($n: Int) { users(first: $n) { edges { node { id name email } } } a: users(first: 100) { edges { node { id name email } } } }`, map[string]any{"n": 100}, ""},
	} {
		for try := range 2 {
			r := e.GraphQL(t, e.AliceToken, c.query, c.vars)
			if msg := firstError(r.JSON); msg != c.refused {
				t.Errorf("%s, try %d: error %q, want %q", c.name, try+1, msg, c.refused)
			}
		}
	}
	// The variable decides: 1 + 20 x (1 + 1 + 500 x 3 ...) is refused only with the big value.
	q := `query($n: Int) { users(first: $n) { edges { node { history(first: 100) { edges { node { action at } } } } } } }`
	for try := range 2 {
		for _, v := range []struct {
			n       int
			refused string
		}{
			// users(1 + n x (edges 1 + node (1 + history 401))) = 1 + n x 403
			{2, ""},
			{30, "operation has complexity 12091, which exceeds the limit of 10000"},
		} {
			r := e.GraphQL(t, e.AdminToken, q, map[string]any{"n": v.n})
			if msg := firstError(r.JSON); msg != v.refused {
				t.Errorf("try %d, first: %d: error %q, want %q", try+1, v.n, msg, v.refused)
			}
		}
	}
}

// TestSubscriptionComplexity: a subscription's selection, run again for
// every change, has the lower limit (1,000).
func TestSubscriptionComplexity(t *testing.T) {
	e := testenv.Start(t, testenv.BenchDBs(t)[0])
	srv := httptest.NewServer(e.Handler)
	defer srv.Close()
	c := mustDial(t, srv)
	c.init(e.AliceToken)
	// userChanged(1) + history(1 + 100 x (edges 1 + node 1 + 3 fields)) = 502; twice: 1,003
	page := "history(first: 100) { edges { node { action at actor } } }"
	c.subscribe("1", "subscription { userChanged { a: "+page+" b: "+page+" } }")
	m := c.must()
	if m.Type != "error" && m.Type != "next" || !strings.Contains(string(m.Payload), "operation has complexity 1003, which exceeds the limit of 1000") {
		t.Fatalf("subscription over the limit: %s %s", m.Type, m.Payload)
	}
	c.subscribe("2", "subscription { userChanged { a: "+page+" } }")
	waitSubscribed(t, e.Svc, 1)
}
