package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"usersvc"
	"usersvc/internal/apicode"
)

// An operation that produced nothing (data null, or every root field null) because the database was
// unavailable or the request ran out of time is answered 503 with
// Retry-After, as REST answers it, so that clients and proxies that retry
// on 503 do so; an answer with any data stays 200 (the errors carry
// extensions.retryAfter).
type unavailableKey struct{}

type unavailableMark struct{ retryAfter int64 }

// empty reports data that holds nothing: null, or every root field null.
func empty(data json.RawMessage) bool {
	if len(data) == 0 || string(data) == "null" {
		return true
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return false
	}
	for _, v := range fields {
		if string(v) != "null" {
			return false
		}
	}
	return true
}

// markUnavailable is an AroundResponses hook that notes such an answer.
func markUnavailable(ctx context.Context, resp *graphql.Response) {
	m, _ := ctx.Value(unavailableKey{}).(*unavailableMark)
	if m == nil || resp == nil || len(resp.Errors) == 0 || !empty(resp.Data) {
		return
	}
	var after int64
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		if code != apicode.GraphQL(usersvc.EUnavailable) && code != apicode.GraphQL(usersvc.ETimeout) {
			return
		}
		if n, ok := e.Extensions["retryAfter"].(int64); ok && n > after {
			after = n
		}
	}
	m.retryAfter = max(after, 1)
}

func unavailableStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := &unavailableWriter{ResponseWriter: w}
		next.ServeHTTP(u, r.WithContext(context.WithValue(r.Context(), unavailableKey{}, &u.m)))
	})
}

type unavailableWriter struct {
	http.ResponseWriter
	m     unavailableMark // the context's mark: one allocation for both
	wrote bool
}

func (u *unavailableWriter) WriteHeader(code int) {
	if !u.wrote && u.m.retryAfter > 0 && code == http.StatusOK {
		u.Header().Set("Retry-After", strconv.FormatInt(u.m.retryAfter, 10))
		code = http.StatusServiceUnavailable
	}
	u.wrote = true
	u.ResponseWriter.WriteHeader(code)
}

func (u *unavailableWriter) Write(b []byte) (int, error) {
	if !u.wrote {
		u.WriteHeader(http.StatusOK)
	}
	return u.ResponseWriter.Write(b)
}

func (u *unavailableWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }
