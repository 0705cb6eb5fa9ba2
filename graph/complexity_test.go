package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"usersvc/internal/testenv"
)

// TestComplexityRemembered sends each request twice: the remembered
// complexity is the operation's own (the operation name is part of the
// key), and a refusal says what it said the first time.
func TestComplexityRemembered(t *testing.T) {
	e := testenv.Start(t, testenv.BenchDBs(t)[0]) // SQLite: the database plays no part
	var big strings.Builder                       // 250 × me { id } = 500, the limit
	for i := range 250 {
		fmt.Fprintf(&big, " a%d: me { id }", i)
	}
	doc := func(extra string) string {
		return "query A {" + big.String() + extra + " } query B { me { id } }"
	}
	for _, c := range []struct {
		name, query, op string
		refused         string
	}{
		{"at the limit", doc(""), "A", ""},
		{"other operation, same text", doc(""), "B", ""},
		{"over the limit", doc(" __typename"), "A", "operation has complexity 501, which exceeds the limit of 500"},
		{"small operation beside it", doc(" __typename"), "B", ""},
	} {
		body, _ := json.Marshal(map[string]any{"query": c.query, "operationName": c.op})
		for try := range 2 {
			r := e.Do(t, "POST", "/graphql", e.AliceToken, string(body))
			errs, _ := r.JSON["errors"].([]any)
			msg := ""
			if len(errs) > 0 {
				msg, _ = errs[0].(map[string]any)["message"].(string)
			}
			if msg != c.refused {
				t.Errorf("%s, try %d: error %q, want %q", c.name, try+1, msg, c.refused)
			}
		}
	}
}
