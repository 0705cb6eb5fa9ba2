package main

// The processes in front of the replicas: HAProxy, the load balancer the
// clients reach, and pgbouncer in front of the database (pooler mode).

import (
	"database/sql"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"usersvc/e2e/internal/harness"
)

func (c *cluster) startProxy() error {
	// When no replica can take a request, HAProxy answers with our JSON
	// envelope and Retry-After (deploy/haproxy/503.http), not its HTML.
	errorfile := filepath.Join(c.dir, "503.http")
	var servers []string
	for _, r := range c.replicas {
		servers = append(servers, r.addr)
	}
	cfg := harness.HAProxyConfig(errorfile, *port, servers)
	// The same balancer in front of the first replica alone (port + 20),
	// and in front of all three routing each token to one replica (port +
	// 21, docs/deploy.md), for measuring them side by side with the same
	// client.
	cfg += fmt.Sprintf(`frontend sticky
  bind 127.0.0.1:%d
  default_backend sticky
backend sticky
  balance hdr(Authorization)
  hash-type consistent
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
`, *port+21)
	for _, r := range c.replicas {
		cfg += fmt.Sprintf("  server %s %s check\n", r.name, r.addr)
	}
	cfg += fmt.Sprintf(`frontend one
  bind 127.0.0.1:%d
  default_backend one
backend one
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
  server %s %s check
`, *port+20, c.replicas[0].name, c.replicas[0].addr)
	var err error
	c.proxy, err = harness.StartHAProxy(*haproxy, c.dir, cfg)
	return err
}

// startPgbouncer runs pgbouncer in transaction mode in front of the
// cluster's database, with 4 server connections for the replicas' 32, and
// points poolURL at it.
func (c *cluster) startPgbouncer() error {
	u, err := url.Parse(c.dbURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	host, pgPort := u.Hostname(), u.Port()
	if pgPort == "" {
		pgPort = "5432"
	}
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	listen := *port + 10
	// pgbouncer refuses to run as root: it drops to the postgres user (-u),
	// which must read its files.
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s user=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = %s
`, name, host, pgPort, name, user, listen, filepath.Join(c.dir, "userlist.txt"), filepath.Join(c.dir, "pgbouncer.log"))
	for f, body := range map[string]string{"pgbouncer.ini": cfg, "userlist.txt": fmt.Sprintf("%q \"\"\n", user), "pgbouncer.log": ""} {
		if err := os.WriteFile(filepath.Join(c.dir, f), []byte(body), 0o666); err != nil {
			return err
		}
		_ = os.Chmod(filepath.Join(c.dir, f), 0o666)
	}
	args := []string{filepath.Join(c.dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres"}, args...)
	}
	c.pooler = exec.Command(*bouncer, args...)
	out, err := os.Create(filepath.Join(c.dir, "pgbouncer.out"))
	if err != nil {
		return err
	}
	c.pooler.Stdout, c.pooler.Stderr = out, out
	if err := c.pooler.Start(); err != nil {
		return fmt.Errorf("pgbouncer: %w", err)
	}
	pu := *u
	pu.Host = fmt.Sprintf("127.0.0.1:%d", listen)
	c.poolURL = pu.String()
	db, err := sql.Open("postgres", c.poolURL)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err = db.Ping(); err == nil {
			log.Printf("pgbouncer (transaction mode, 4 server connections) at %s", pu.Host)
			return nil
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(c.dir, "pgbouncer.out"))
			l, _ := os.ReadFile(filepath.Join(c.dir, "pgbouncer.log"))
			return fmt.Errorf("pgbouncer did not answer: %v\n%s%s", err, b, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
