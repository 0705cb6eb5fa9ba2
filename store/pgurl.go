package store

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/lib/pq"
)

// The PostgreSQL connection strings an operator is handed, and what lib/pq
// (v1.12) reads of them:
//
//   - libpq's multi-host URI, postgres://h1:5502,h2:5503/app?... (what
//     pg_auto_failover's `pg_autoctl show uri` and many managed services
//     print): lib/pq takes "h1:5502,h2:5503" for host names. pgName
//     rewrites it into lib/pq's own spelling, postgres://h1,h2/app?...&port=5502,5503.
//   - lib/pq's spelling, postgres://h1,h2/app?port=5502,5503: read as is.
//   - key/value strings, host=h1,h2 port=5502,5503 dbname=app: read as is.
//
// target_session_attrs (any, read-write, read-only, primary, standby,
// prefer-standby) and load_balance_hosts are lib/pq's: the hosts are
// tried in order until one has the attributes asked for.
//
// sslmode=prefer and sslmode=allow are refused (weakSSLMode): on a server
// without TLS, lib/pq 1.12 answers either by dialling a second socket and
// leaving the first one open, one leaked socket (and one server backend
// stuck in its startup) per connection, which for example holds a
// primary's shutdown during a switchover. An unset sslmode is lib/pq's
// default, which is require (TLS, without a fallback to plain text; unlike
// libpq, whose default is prefer): it is accepted, like disable, require,
// verify-ca and verify-full. PGSSLMODE counts when the string sets none.

// kvDSN matches the start of a key/value connection string ("host=...",
// "dbname = app"). A SQLite file whose name starts so needs the "sqlite:"
// prefix.
var kvDSN = regexp.MustCompile(`^\s*[A-Za-z_]+\s*=`)

// isKeyValueDSN reports whether s is a key/value PostgreSQL connection
// string.
func isKeyValueDSN(s string) bool { return kvDSN.MatchString(s) }

// errWeakSSLMode is the refusal of sslmode=prefer and sslmode=allow.
var errWeakSSLMode = errors.New("leaks a socket per connection with lib/pq when the server has no TLS: use sslmode=disable (no TLS) or sslmode=require (or verify-ca, verify-full)")

// pgName turns a PostgreSQL URL or key/value string into one lib/pq reads
// as meant, and checks it: lib/pq must parse it, and its sslmode must not
// be prefer or allow.
func pgName(s string) (string, error) {
	name := s
	if !isKeyValueDSN(s) {
		var err error
		if name, err = multiHostURL(s); err != nil {
			return "", err
		}
	}
	cfg, err := pq.NewConfig(name)
	if err != nil {
		return "", err
	}
	if cfg.SSLMode == pq.SSLModePrefer || cfg.SSLMode == pq.SSLModeAllow {
		return "", fmt.Errorf("sslmode=%s %w", cfg.SSLMode, errWeakSSLMode)
	}
	return name, nil
}

// multiHostURL rewrites a postgres:// URL whose hosts carry their ports
// (libpq's h1:p1,h2:p2) into lib/pq's spelling (h1,h2 and ?port=p1,p2). A
// host without a port in such a list gets 5432, libpq's default. The scheme
// is put in lower case (lib/pq knows no other). Any other URL is returned
// with only its scheme lowered.
func multiHostURL(s string) (string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", fmt.Errorf("%q is not a postgres:// URL", s)
	}
	scheme = strings.ToLower(scheme)
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostlist := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hostlist = authority[:i+1], authority[i+1:]
	}
	hosts := strings.Split(hostlist, ",")
	if len(hosts) < 2 {
		return scheme + "://" + rest, nil
	}
	names := make([]string, len(hosts))
	ports := make([]string, len(hosts))
	withPort := false
	for i, h := range hosts {
		if strings.HasPrefix(h, "[") {
			return "", fmt.Errorf("%q: an IPv6 address in a list of hosts is not supported in a URL; use the key/value form (host=::1,::2 port=5502,5503 dbname=...)", hostlist)
		}
		name, port, err := net.SplitHostPort(h)
		if err != nil {
			name, port = h, ""
		} else {
			withPort = true
		}
		if name == "" {
			return "", fmt.Errorf("%q: an empty host in the list of hosts", hostlist)
		}
		names[i], ports[i] = name, port
	}
	if !withPort {
		return scheme + "://" + rest, nil // lib/pq's own spelling
	}
	path, query, _ := strings.Cut(tail, "?")
	query, fragment, _ := strings.Cut(query, "#")
	for _, kv := range strings.Split(query, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == "port" {
			return "", fmt.Errorf("%q gives ports both with its hosts and in ?port=", s)
		}
	}
	for i := range ports {
		if ports[i] == "" {
			ports[i] = "5432"
		}
	}
	if query != "" {
		query += "&"
	}
	query += "port=" + strings.Join(ports, ",")
	u := scheme + "://" + userinfo + strings.Join(names, ",") + path + "?" + query
	if fragment != "" {
		u += "#" + fragment
	}
	return u, nil
}
