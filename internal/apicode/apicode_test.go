package apicode_test

import (
	"testing"

	"usersvc"
	"usersvc/internal/apicode"
)

// TestTable: each code's HTTP status and GraphQL code, as the public API
// promises them (written here, not read from the table).
func TestTable(t *testing.T) {
	for _, tc := range []struct {
		code    string
		status  int
		graphql string
	}{
		{usersvc.ENotFound, 404, "NOT_FOUND"},
		{usersvc.EInvalid, 400, "INVALID"},
		{usersvc.EUnauthenticated, 401, "UNAUTHENTICATED"},
		{usersvc.EForbidden, 403, "FORBIDDEN"},
		{usersvc.EConflict, 409, "CONFLICT"},
		{usersvc.EPreconditionFailed, 412, "PRECONDITION_FAILED"},
		{usersvc.EUnprocessable, 422, "UNPROCESSABLE"},
		{usersvc.ERateLimited, 429, "RATE_LIMITED"},
		{usersvc.ETooLarge, 413, "TOO_LARGE"},
		{usersvc.EUnsupportedMedia, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{usersvc.ETimeout, 503, "TIMEOUT"},
		{usersvc.ECanceled, 499, "CANCELED"},
		{usersvc.EUnavailable, 503, "UNAVAILABLE"},
		{usersvc.EInternal, 500, "INTERNAL"},
		{"no such code", 500, "INTERNAL"},
		{"", 500, "INTERNAL"},
	} {
		if got := apicode.HTTPStatus(tc.code); got != tc.status {
			t.Errorf("HTTPStatus(%q) = %d, want %d", tc.code, got, tc.status)
		}
		if got := apicode.GraphQL(tc.code); got != tc.graphql {
			t.Errorf("GraphQL(%q) = %q, want %q", tc.code, got, tc.graphql)
		}
	}
}
