package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	haproxyfiles "usersvc/deploy/haproxy"
)

// HAProxyConfig is the balancer docs/deploy.md describes
// (deploy/haproxy.Config), on 127.0.0.1:port in front of servers (host:port
// each, named r1, r2, ...), with the repository's errorfile at errorfile:
// no retries, the replicas in rotation while they pass /readyz, and again
// as backups, checked on /readyz?database=skip, while none does.
func HAProxyConfig(errorfile string, port int, servers []string) string {
	return "global\n  maxconn 2000\n" + haproxyfiles.Config(errorfile, fmt.Sprintf("127.0.0.1:%d", port), servers)
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
