package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"usersvc"
	"usersvc/internal/apicode"
)

// checkedBody is a request readRequest has already decoded (checkRequest
// decodes the body of a POST, or the query string of a GET, exactly as
// gqlgen's transports do), so that the transport does not decode it a
// second time.
type checkedBody struct {
	*bytes.Reader
	params *graphql.RawParams
}

func (checkedBody) Close() error { return nil }

// httpTransport serves GraphQL over HTTP, GET and POST, from the parameters
// readRequest decoded; any request it did not decode goes to gqlgen's
// transport.GET or transport.POST itself. It writes each answer's status
// once, decided from the answer gqlgen built (answerStatus), before the
// body: no writer between gqlgen and the network rewrites a status or
// reads a body back.
type httpTransport struct {
	get  transport.GET
	post transport.POST
}

var _ graphql.Transport = httpTransport{}

func (t httpTransport) Supports(r *http.Request) bool {
	return t.get.Supports(r) || t.post.Supports(r)
}

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	b, ok := r.Body.(checkedBody)
	if !ok || b.params == nil {
		if r.Method == http.MethodGet {
			t.get.Do(w, r, exec)
		} else {
			t.post.Do(w, r, exec)
		}
		return
	}
	ctx := r.Context()
	contentType := responseType(r)
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	params := b.params
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr)
		w.WriteHeader(requestErrorStatus(opErr, contentType))
		writeJSON(w, resp, contentType)
		return
	}
	if r.Method == http.MethodGet {
		if op := rc.Doc.Operations.ForName(rc.OperationName); op == nil || op.Operation != ast.Query {
			// transport.GET's answer, status and message.
			w.WriteHeader(http.StatusNotAcceptable)
			writeJSON(w, &graphql.Response{Errors: gqlerror.List{{Message: "GET requests only allow query operations"}}}, contentType)
			return
		}
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if status, retryAfter := answerStatus(resp); status != http.StatusOK {
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfter, 10))
		w.WriteHeader(status)
	}
	writeJSON(w, resp, "")
}

// requestErrorStatus is the status of an answer whose execution never
// started (the request failed to parse or validate, or a variable to
// coerce). With application/graphql-response+json it is gqlgen's (400 for
// these protocol errors); with the legacy application/json it is 200, as
// the GraphQL-over-HTTP spec says it SHOULD be (gqlgen says 422).
func requestErrorStatus(errs gqlerror.List, contentType string) int {
	if contentType == "application/graphql-response+json" && errcode.GetErrorKind(errs) == errcode.KindProtocol {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// answerStatus is the status of an executed operation's answer, from its
// errors' codes. An operation that produced nothing (data null, or every
// root field null) because the database was unavailable or the request ran
// out of time is answered with those codes' status (503, apicode) and
// Retry-After, as REST answers it, so that clients and proxies that retry
// on 503 do so; an answer with any data stays 200 (the errors carry
// extensions.retryAfter).
func answerStatus(resp *graphql.Response) (status int, retryAfter int64) {
	if resp == nil || len(resp.Errors) == 0 {
		return http.StatusOK, 0
	}
	status = http.StatusOK
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		var s int
		switch code {
		case apicode.GraphQL(usersvc.EUnavailable):
			s = apicode.HTTPStatus(usersvc.EUnavailable)
		case apicode.GraphQL(usersvc.ETimeout):
			s = apicode.HTTPStatus(usersvc.ETimeout)
		default:
			return http.StatusOK, 0
		}
		status = max(status, s)
		if n, ok := e.Extensions["retryAfter"].(int64); ok && n > retryAfter {
			retryAfter = n
		}
	}
	if !empty(resp.Data) {
		return http.StatusOK, 0
	}
	return status, max(retryAfter, 1)
}

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

// requestError is an answer whose execution never started, as the
// GraphQL-over-HTTP spec asks for it with application/graphql-response+json:
// without a "data" entry (graphql.Response always writes one).
type requestError struct {
	Errors     gqlerror.List  `json:"errors,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// writeJSON writes an answer as gqlgen's transports do; an answer whose
// execution never started (no data), with the response type
// application/graphql-response+json, is written without "data".
func writeJSON(w http.ResponseWriter, resp *graphql.Response, contentType string) {
	var v any = resp
	if resp.Data == nil && contentType == "application/graphql-response+json" {
		v = requestError{resp.Errors, resp.Extensions}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("unable to marshal %s: %w", string(resp.Data), err))
	}
	_, _ = w.Write(b)
}
