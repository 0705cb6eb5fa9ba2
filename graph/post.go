package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// checkedBody is a POST body readRequest has already decoded (checkRequest
// decodes it exactly as gqlgen's POST transport does), so that the
// transport does not decode it a second time.
type checkedBody struct {
	*bytes.Reader
	params *graphql.RawParams
}

func (checkedBody) Close() error { return nil }

// postTransport is gqlgen's transport.POST, except that a body readRequest
// has decoded is not decoded again: the answer (headers, status, body) is
// the one transport.POST gives for the same parameters. Any other body goes
// to transport.POST itself.
type postTransport struct{ transport.POST }

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	b, ok := r.Body.(checkedBody)
	if !ok || b.params == nil {
		t.POST.Do(w, r, exec)
		return
	}
	ctx := r.Context()
	contentType := responseType(r)
	w.Header().Add("Content-Type", contentType)
	start := graphql.Now()
	params := b.params
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		if contentType == "application/graphql-response+json" {
			w.WriteHeader(protocolStatus(opErr, http.StatusBadRequest))
		} else {
			w.WriteHeader(protocolStatus(opErr, http.StatusUnprocessableEntity))
		}
		writeJSON(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeJSON(w, responses(ctx))
}

// protocolStatus is transport.POST's status for errors before execution:
// protocol errors (parse, validation) get the given status, others 200.
func protocolStatus(errs gqlerror.List, protocol int) int {
	if errcode.GetErrorKind(errs) == errcode.KindProtocol {
		return protocol
	}
	return http.StatusOK
}

// writeJSON writes an answer as transport.POST does.
func writeJSON(w http.ResponseWriter, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		panic(fmt.Errorf("unable to marshal %s: %w", string(resp.Data), err))
	}
	_, _ = w.Write(b)
}
