package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	haproxyfiles "usersvc/deploy/haproxy"
)

// HAProxyConfig is the balancer docs/deploy.md describes, in front of
// servers (host:port each, named r1, r2, ...) on 127.0.0.1:port: no
// retries, health checks on /readyz every 500 ms (fall 2, rise 2), and the
// repository's errorfile (at errorfile) for its own 503s.
func HAProxyConfig(errorfile string, port int, servers []string) string {
	cfg := fmt.Sprintf(`global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
  # Retry nothing: a request that fails is a failure the client sees.
  retries 0
  errorfile 503 %s
frontend usersvc
  bind 127.0.0.1:%d
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
`, errorfile, port)
	for i, s := range servers {
		cfg += fmt.Sprintf("  server r%d %s check\n", i+1, s)
	}
	return cfg
}

// StartHAProxy writes the errorfile (deploy/haproxy/503.http) and cfg
// (which names it at dir/503.http) into dir, checks the configuration and
// starts haproxy in the foreground, logging to dir/haproxy.log.
// e2e/cluster and e2e/failover both run it.
func StartHAProxy(bin, dir, cfg string) (*exec.Cmd, error) {
	if err := os.WriteFile(filepath.Join(dir, "503.http"), haproxyfiles.Error503, 0o644); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("haproxy -c: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	return cmd, nil // the caller kills and waits for it; the log closes with the harness
}
