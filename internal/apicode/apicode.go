// Package apicode is the one table from the domain's error codes to what
// the transports answer: the HTTP status (REST, and GraphQL over HTTP)
// and GraphQL's extensions.code. The domain names its codes (usersvc.E*)
// and knows nothing of HTTP; rest and graph both read this table.
package apicode

import (
	"net/http"

	"usersvc"
)

var table = map[string]struct {
	status  int
	graphql string
}{
	usersvc.ENotFound:           {http.StatusNotFound, "NOT_FOUND"},
	usersvc.EInvalid:            {http.StatusBadRequest, "INVALID"},
	usersvc.EUnauthenticated:    {http.StatusUnauthorized, "UNAUTHENTICATED"},
	usersvc.EForbidden:          {http.StatusForbidden, "FORBIDDEN"},
	usersvc.EConflict:           {http.StatusConflict, "CONFLICT"},
	usersvc.EPreconditionFailed: {http.StatusPreconditionFailed, "PRECONDITION_FAILED"},
	usersvc.EUnprocessable:      {http.StatusUnprocessableEntity, "UNPROCESSABLE"},
	usersvc.ERateLimited:        {http.StatusTooManyRequests, "RATE_LIMITED"},
	usersvc.ETooLarge:           {http.StatusRequestEntityTooLarge, "TOO_LARGE"},
	usersvc.EUnsupportedMedia:   {http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
	usersvc.ETimeout:            {http.StatusServiceUnavailable, "TIMEOUT"},
	usersvc.ECanceled:           {499, "CANCELED"}, // nginx's "client closed request": no one reads it
	usersvc.EUnavailable:        {http.StatusServiceUnavailable, "UNAVAILABLE"},
	usersvc.EInternal:           {http.StatusInternalServerError, "INTERNAL"},
}

// HTTPStatus maps an error code to its HTTP status (500 for a code not in
// the table).
func HTTPStatus(code string) int {
	if c, ok := table[code]; ok {
		return c.status
	}
	return http.StatusInternalServerError
}

// GraphQL maps an error code to the GraphQL extensions.code value
// (INTERNAL for a code not in the table).
func GraphQL(code string) string {
	if c, ok := table[code]; ok {
		return c.graphql
	}
	return "INTERNAL"
}

// scimTypes is SCIM's scimType (RFC 7644 §3.12) of an error's reason
// (usersvc.R*); an error without one has none, except invalid input,
// which is invalidValue.
var scimTypes = map[string]string{
	usersvc.RUnique:   "uniqueness",
	usersvc.RFilter:   "invalidFilter",
	usersvc.RPath:     "invalidPath",
	usersvc.RNoTarget: "noTarget",
	usersvc.RSyntax:   "invalidSyntax",
	usersvc.RReadOnly: "mutability",
	usersvc.RTooMany:  "tooMany",
	usersvc.RValue:    "invalidValue",
}

// SCIMType maps an error's code and reason to SCIM's scimType, "" for
// none.
func SCIMType(code, reason string) string {
	if t, ok := scimTypes[reason]; ok {
		return t
	}
	if code == usersvc.EInvalid {
		return "invalidValue"
	}
	return ""
}
