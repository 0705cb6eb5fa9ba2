// Package httpauth reads the credentials in an Authorization value (the
// header, or the same value in a WebSocket's connection_init payload):
// the HTTP syntax, for both transports, so the domain never parses a
// header.
package httpauth

import (
	"strings"

	"usersvc"
)

// Credentials splits an Authorization value into its scheme and its
// credentials (RFC 9110 section 11.4: the scheme, then whitespace, then
// the credentials), each trimmed. An empty or blank value is the zero
// Credentials (nothing presented).
func Credentials(authorization string) usersvc.Credentials {
	scheme, secret, _ := strings.Cut(strings.TrimSpace(authorization), " ")
	return usersvc.Credentials{Scheme: scheme, Secret: strings.TrimSpace(secret)}
}
