// Package haproxy holds what the repository ships for HAProxy in front of
// the replicas: Config, the recommended configuration (each replica in
// rotation while ready, and again as a backup while none is ready but it
// is up and not draining), and 503.http, the answer HAProxy gives when no
// replica can take a request (none ready nor live). It is our REST failure
// envelope for "unavailable", byte for byte what rest.WriteError writes
// (errorfile_test.go checks), with Retry-After, instead of HAProxy's own
// HTML page without one. Install it with `errorfile 503
// /etc/haproxy/errors/usersvc-503.http` (docs/deploy.md).
package haproxy

import _ "embed"

// Error503 is the content of 503.http: a raw HTTP response (CRLF line
// ends, exact Content-Length), as HAProxy's errorfile wants it.
//
//go:embed 503.http
var Error503 []byte
