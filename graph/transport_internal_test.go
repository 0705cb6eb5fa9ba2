package graph

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestAnswerStatus: an executed answer is 503 with Retry-After (the
// largest retryAfter of its errors, at least 1) only when it holds no data
// and every error is UNAVAILABLE or TIMEOUT; otherwise 200.
func TestAnswerStatus(t *testing.T) {
	errOf := func(code string, retryAfter ...int64) *gqlerror.Error {
		ext := map[string]any{"code": code}
		if len(retryAfter) > 0 {
			ext["retryAfter"] = retryAfter[0]
		}
		return &gqlerror.Error{Message: "m", Extensions: ext}
	}
	for _, c := range []struct {
		name       string
		data       string
		errs       gqlerror.List
		status     int
		retryAfter int64
	}{
		{"no errors", `{"me":null}`, nil, 200, 0},
		{"data null, unavailable", `null`, gqlerror.List{errOf("UNAVAILABLE", 5)}, 503, 5},
		{"no data, timeout without retryAfter", ``, gqlerror.List{errOf("TIMEOUT")}, 503, 1},
		{"every root field null", `{"a":null,"b":null}`, gqlerror.List{errOf("TIMEOUT", 2), errOf("UNAVAILABLE", 7)}, 503, 7},
		{"some data", `{"a":null,"b":{"id":"1"}}`, gqlerror.List{errOf("UNAVAILABLE", 5)}, 200, 0},
		{"another code too", `null`, gqlerror.List{errOf("UNAVAILABLE", 5), errOf("NOT_FOUND")}, 200, 0},
		{"not found alone", `null`, gqlerror.List{errOf("NOT_FOUND")}, 200, 0},
	} {
		resp := &graphql.Response{Errors: c.errs}
		if c.data != "" {
			resp.Data = json.RawMessage(c.data)
		}
		if s, ra := answerStatus(resp); s != c.status || ra != c.retryAfter {
			t.Errorf("%s: %d, Retry-After %d; want %d, %d", c.name, s, ra, c.status, c.retryAfter)
		}
	}
}
