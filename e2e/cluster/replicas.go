package main

// The cluster and its replicas: starting, restarting and stopping the
// usersvc processes, and running the CLI against the cluster's database.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"usersvc/e2e/internal/harness"
)

// cluster is the running set of processes.
type cluster struct {
	dir   string
	dbURL string
	// poolURL, in pooler mode, is the replicas' database URL (pgbouncer);
	// dbURL stays their direct USERSVC_LISTEN_URL.
	poolURL  string
	pooler   *exec.Cmd
	replicas []*replica
	proxy    *exec.Cmd
	front    string
}

type replica struct {
	name, addr string
	cmd        *exec.Cmd
	done       chan error
}

func (c *cluster) env(extra ...string) []string {
	return append(append(os.Environ(), "USERSVC_DATABASE_URL="+c.dbURL, "USERSVC_LOG_FORMAT=json"), extra...)
}

func (c *cluster) cli(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, *bin, args...)
	cmd.Env = c.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

// start runs a replica and waits until it is ready.
func (c *cluster) start(r *replica) error {
	logf, err := os.OpenFile(filepath.Join(c.dir, r.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(*bin, "serve")
	cmd.Env = c.env("USERSVC_ADDR="+r.addr, "USERSVC_DRAIN_DELAY="+drain.String())
	if *procs > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", *procs))
	}
	if c.poolURL != "" {
		cmd.Env = append(cmd.Env, "USERSVC_DATABASE_URL="+c.poolURL, "USERSVC_PG_NO_PREPARE=true", "USERSVC_LISTEN_URL="+c.dbURL)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	r.cmd, r.done = cmd, make(chan error, 1)
	go func() { r.done <- cmd.Wait(); logf.Close() }()
	if err := harness.WaitHTTP("http://"+r.addr+"/readyz", 30*time.Second); err != nil {
		return fmt.Errorf("%s did not get ready: %w (log: %s)", r.name, err, filepath.Join(c.dir, r.name+".log"))
	}
	return nil
}

// restart stops a replica gracefully (SIGTERM) and starts it again.
func (c *cluster) restart(r *replica) error {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		if err != nil {
			return fmt.Errorf("%s exited with %v", r.name, err)
		}
	case <-time.After(45 * time.Second):
		_ = r.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within 45 s", r.name)
	}
	return c.start(r)
}

func (c *cluster) stopAll() {
	if c.proxy != nil && c.proxy.Process != nil {
		_ = c.proxy.Process.Kill()
		_ = c.proxy.Wait()
	}
	if c.pooler != nil && c.pooler.Process != nil {
		defer func() { _ = c.pooler.Process.Kill(); _ = c.pooler.Wait() }() // after the replicas
	}
	for _, r := range c.replicas {
		if r.cmd == nil || r.cmd.Process == nil {
			continue
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			_ = r.cmd.Process.Kill()
		}
	}
}
