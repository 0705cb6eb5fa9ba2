package haproxy

import (
	"fmt"
	"strings"
)

// Config is the HAProxy configuration docs/deploy.md recommends (its
// listing is Config's output; config_test.go compares them), from
// `defaults` on: a frontend on bind (host:port) in front of servers
// (host:port each, named r1, r2, ...), no retries, the errorfile (the path
// where 503.http is installed) for HAProxy's own 503s, and each replica
// twice:
//
//   - in rotation while it passes /readyz (database reachable, not
//     draining), checked every 500 ms (fall 2, rise 2);
//   - again as a backup, taken only while no replica is ready (a database
//     outage fails every /readyz at once), as long as it passes
//     /readyz?database=skip (the process is up and not draining): a write
//     that reaches it waits for the new primary instead of HAProxy
//     answering 503 at once. `option allbackups` spreads those requests
//     over every live replica. A server's check URI is its backend's, so
//     the backups track servers of a second backend, `live`, that only
//     checks.
func Config(errorfile, bind string, servers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h          # WebSockets (subscriptions)
  retries 0                  # retry nothing: what fails, the client sees
  errorfile 503 %s
frontend usersvc
  bind %s
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
  option allbackups          # no replica ready: every live one takes requests
`, errorfile, bind)
	for i, s := range servers {
		fmt.Fprintf(&b, "  server r%d %s check\n", i+1, s)
	}
	b.WriteString("  # the same replicas, taken while none above is ready\n")
	for i, s := range servers {
		fmt.Fprintf(&b, "  server r%d-live %s backup track live/r%d\n", i+1, s, i+1)
	}
	b.WriteString(`backend live                 # checks only: up and not draining
  option httpchk GET /readyz?database=skip
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
`)
	for i, s := range servers {
		fmt.Fprintf(&b, "  server r%d %s check\n", i+1, s)
	}
	return b.String()
}
