package main

// The usersvc processes, the command line against the formation, and the
// users the run needs.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"usersvc/e2e/internal/harness"
)

type replica struct {
	name, addr string
	cmd        *exec.Cmd
	done       chan error
}

type replicas struct {
	dir  string
	env  []string
	list []*replica
}

func (rs *replicas) cli(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, *bin, args...)
	cmd.Env = append(os.Environ(), rs.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("usersvc %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// bootstrap migrates the formation's database and returns an admin's
// token.
func (rs *replicas) bootstrap() (string, error) {
	if _, err := rs.cli("migrate"); err != nil {
		return "", err
	}
	id, err := rs.cli("user", "create", "--name", "Admin", "--email", "admin@failover.test", "--country", "ES", "--time-zone", "UTC", "--role", "admin")
	if err != nil {
		return "", err
	}
	return rs.token(id)
}

// token is a new operator token for the user id.
func (rs *replicas) token(id string) (string, error) {
	return rs.cli("token", "create", "--user", id, "--label", "failover", "--ttl", "0")
}

// start runs a replica (the default USERSVC_FAILOVER_WAIT) and waits until
// it is ready.
func (rs *replicas) start(name, addr string) error {
	logf, err := os.Create(filepath.Join(rs.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(*bin, "serve")
	cmd.Env = append(append(os.Environ(), rs.env...), "USERSVC_ADDR="+addr, "USERSVC_DRAIN_DELAY=3s")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	r := &replica{name: name, addr: addr, cmd: cmd, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait(); logf.Close() }()
	rs.list = append(rs.list, r)
	if err := harness.WaitHTTP("http://"+addr+"/readyz", 30*time.Second); err != nil {
		b, _ := os.ReadFile(filepath.Join(rs.dir, name+".log"))
		return fmt.Errorf("%s did not get ready: %w\n%s", name, err, b)
	}
	return nil
}

func (rs *replicas) addrs() []string {
	var out []string
	for _, r := range rs.list {
		out = append(out, r.addr)
	}
	return out
}

// stopAll stops every replica (SIGTERM: each writes its last usage counts).
func (rs *replicas) stopAll() {
	for _, r := range rs.list {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, r := range rs.list {
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			_ = r.cmd.Process.Kill()
		}
	}
}

// newUser creates a user (as the admin) and returns its id.
func newUser(cl *client, adminToken, name string) (string, error) {
	body, _ := json.Marshal(map[string]any{"name": name, "email": strings.ReplaceAll(strings.ToLower(name), " ", "-") + "@failover.test", "country": "ES", "timeZone": "UTC"})
	a := cl.do("POST", "/api/users", adminToken, "application/json", string(body))
	if a.err != nil || a.status != 201 {
		return "", fmt.Errorf("creating %s: %d %v %.200s", name, a.status, a.err, a.body)
	}
	id, _ := a.json["id"].(string)
	return id, nil
}

// setUsers creates the users the writes tag and the users that read
// themselves (with tokens of their own).
func setUsers(l *load, rs *replicas) error {
	for i := range *users {
		id, err := newUser(l.cl, l.admin, fmt.Sprintf("Tagged %d", i))
		if err != nil {
			return err
		}
		l.users = append(l.users, &loadUser{id: id})
	}
	for i := range 4 {
		id, err := newUser(l.cl, l.admin, fmt.Sprintf("Reader %d", i))
		if err != nil {
			return err
		}
		tok, err := rs.token(id)
		if err != nil {
			return err
		}
		l.meters = append(l.meters, &loadUser{id: id, token: tok})
	}
	return nil
}

// revocable is a session from an API key, known to both replicas, whose
// key is revoked after the events.
type revocable struct {
	user, keyID, session, admin string
}

func newRevocable(cl *client, rs *replicas, adminToken string) (*revocable, error) {
	id, err := newUser(cl, adminToken, "Revoked")
	if err != nil {
		return nil, err
	}
	a := cl.do("POST", "/api/users/"+id+"/apiKeys", adminToken, "application/json", `{"label":"failover"}`)
	if a.err != nil || a.status != 201 {
		return nil, fmt.Errorf("API key: %d %v %.200s", a.status, a.err, a.body)
	}
	key, _ := a.json["key"].(string)
	rec, _ := a.json["apiKey"].(map[string]any)
	r := &revocable{user: id, keyID: fmt.Sprint(rec["id"]), admin: adminToken}
	a = cl.do("POST", "/api/Auth/Token", "", "application/json", `{"userName":"revoked@failover.test","apiKey":"`+key+`"}`)
	if a.err != nil || a.status != 200 {
		return nil, fmt.Errorf("sign-in with the API key: %d %v %.200s", a.status, a.err, a.body)
	}
	r.session, _ = a.json["token"].(string)
	for _, addr := range rs.addrs() { // each replica caches the session
		if a := direct(addr).do("GET", "/api/users/"+id, r.session, "", ""); a.status != 200 {
			return nil, fmt.Errorf("the session on %s: %d %.200s", addr, a.status, a.body)
		}
	}
	return r, nil
}

func direct(addr string) *client {
	return &client{base: "http://" + addr, http: &http.Client{Timeout: 5 * time.Second}}
}

// check revokes the key through the first replica and returns, per
// replica, how long after the revocation's answer it refused the session
// (polling every 25 ms, for at most 5 s).
func (r *revocable) check(rs *replicas) ([]time.Duration, error) {
	addrs := rs.addrs()
	a := direct(addrs[0]).do("DELETE", "/api/users/"+r.user+"/apiKeys/"+r.keyID, r.admin, "", "")
	if a.err != nil || a.status != 200 {
		return nil, fmt.Errorf("revoking the key: %d %v %.200s", a.status, a.err, a.body)
	}
	at := time.Now()
	var out []time.Duration
	for _, addr := range addrs {
		c := direct(addr)
		for {
			a := c.do("GET", "/api/users/"+r.user, r.session, "", "")
			if a.status == 401 || a.status == 403 {
				out = append(out, time.Since(at))
				break
			}
			if time.Since(at) > 5*time.Second {
				return out, fmt.Errorf("%s still takes the revoked session after 5 s (%d)", addr, a.status)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	return out, nil
}
