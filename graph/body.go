package graph

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"usersvc"
	"usersvc/internal/httpbody"
	"usersvc/jsonpatch"
)

// readRequest runs before gqlgen sees a request. It caps the body at
// httpbody.MaxBytes like REST (413 TOO_LARGE; a declared Content-Length
// over the limit is refused unread, a longer stream is read one byte past
// it and no further), and it answers requests gqlgen cannot decode with a
// fixed message: gqlgen's own decode error quotes the whole body, and its
// query-string error quotes part of the URL.
func readRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := httpbody.ReadRequest(r)
		if err != nil {
			WriteHTTPError(w, r, err)
			return
		}
		params, err := checkRequest(r, body)
		if err != nil {
			WriteHTTPError(w, r, err)
			return
		}
		r.Body = checkedBody{bytes.NewReader(body), params}
		next.ServeHTTP(w, r)
	})
}

// checkRequest decodes what gqlgen's transports will decode, the same way,
// so that a request that passes here decodes there too. It returns the
// parameters of a GET, or of a POST of application/json (httpTransport
// uses them).
//
// Text must also be valid as written (jsonpatch.CheckText): gqlgen's
// decoding would turn invalid UTF-8 into U+FFFD silently. The error names
// the innermost key on the way to the bad string (the input field or the
// variable), or "query".
func checkRequest(r *http.Request, body []byte) (*graphql.RawParams, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, usersvc.Errorf(usersvc.EInvalid, "The query string is malformed.")
	}
	if r.Method == http.MethodGet {
		for _, k := range []string{"query", "operationName"} {
			if !utf8.ValidString(q.Get(k)) {
				return nil, badText([]string{k})
			}
		}
		if path, bad := jsonpatch.CheckText([]byte(q.Get("variables"))); bad {
			return nil, badText(path)
		}
		return getParams(q)
	}
	if r.Method != http.MethodPost {
		return nil, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, nil // not for the POST transport; gqlgen refuses it without quoting it
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var params graphql.RawParams
	if dec.Decode(&params) != nil {
		return nil, usersvc.Errorf(usersvc.EInvalid, "The request body must be one JSON object with a GraphQL \"query\".")
	}
	if path, bad := jsonpatch.CheckText(body); bad {
		return nil, badText(path)
	}
	return &params, nil
}

// getParams decodes a GET's parameters as transport.GET does (variables
// and extensions with UseNumber; whatever follows their first JSON value is
// ignored); variables or extensions that are not a JSON object are a
// malformed query string.
func getParams(q url.Values) (*graphql.RawParams, error) {
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if decodeParam(q.Get("variables"), &params.Variables) != nil || decodeParam(q.Get("extensions"), &params.Extensions) != nil {
		return nil, usersvc.Errorf(usersvc.EInvalid, "The query string is malformed.")
	}
	return params, nil
}

func decodeParam(v string, into *map[string]any) error {
	if v == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	return dec.Decode(into)
}

func badText(path []string) error {
	field := path[len(path)-1]
	return usersvc.FieldErrorf(usersvc.EInvalid, field, "Field %q must be valid text.", field)
}
