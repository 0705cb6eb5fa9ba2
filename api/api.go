// Package api holds the OpenAPI 3.1 description of the REST API, served at
// GET /api/openapi.json and checked against real answers by the rest tests.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document (JSON).
//
//go:embed openapi.json
var OpenAPI []byte
