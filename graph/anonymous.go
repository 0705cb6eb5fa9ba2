package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"usersvc/internal/httpbody"
)

// anonymousFields are the root fields a request without a token may select:
// signing in is how a client gets a token.
var anonymousFields = map[string]bool{"login": true, "loginWithApiKey": true, "__typename": true}

// AnonymousOperation reports whether r is a GraphQL POST whose operation
// selects only sign-in fields, so it may run without a bearer token. The
// body is read (at most httpbody.MaxBytes) and put back for the handler.
// Anything it cannot read plainly (fragments at the root, several
// operations without a name, a bad body) is not anonymous.
func AnonymousOperation(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Body == nil || r.ContentLength > httpbody.MaxBytes {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, httpbody.MaxBytes+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil || len(body) > httpbody.MaxBytes {
		return false
	}
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &req) != nil || req.Query == "" {
		return false
	}
	doc, gqlErr := parser.ParseQueryWithTokenLimit(&ast.Source{Input: req.Query}, 5000)
	if gqlErr != nil {
		return false
	}
	var op *ast.OperationDefinition
	if req.OperationName == "" {
		if len(doc.Operations) != 1 {
			return false
		}
		op = doc.Operations[0]
	} else if op = doc.Operations.ForName(req.OperationName); op == nil {
		return false
	}
	if op.Operation != ast.Mutation || len(op.SelectionSet) == 0 {
		return false
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !anonymousFields[f.Name] {
			return false
		}
	}
	return true
}
