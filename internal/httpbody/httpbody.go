// Package httpbody reads request bodies for the transports (rest and
// graph) under one size limit, failing with the service's errors: 413
// TOO_LARGE over the limit, 400 INVALID when the body cannot be read.
package httpbody

import (
	"io"
	"net/http"

	"usersvc"
)

// MaxBytes is the largest request body any write accepts.
const MaxBytes = 1 << 20

// Read reads a request body of at most MaxBytes: it stops reading one byte
// past the limit, so a larger body costs no more memory.
func Read(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, usersvc.Errorf(usersvc.EInvalid, "Could not read the request body.")
	}
	if len(b) > MaxBytes {
		return nil, errTooLarge()
	}
	return b, nil
}

// ReadRequest is Read for an HTTP request: a body whose declared
// Content-Length is over the limit is refused without reading any of it.
func ReadRequest(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBytes {
		return nil, errTooLarge()
	}
	if r.Body == nil {
		return nil, nil
	}
	return Read(r.Body)
}

func errTooLarge() error {
	return usersvc.Errorf(usersvc.ETooLarge, "Request body is too large (limit %d bytes).", MaxBytes)
}
