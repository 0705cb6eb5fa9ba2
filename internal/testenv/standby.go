package testenv

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Replicated is a throwaway PostgreSQL cluster of its own: a primary and
// one streaming standby on free loopback ports, under a temporary folder
// removed when the test ends (the shared server on 5432 is never
// touched). It needs PostgreSQL's server programs (initdb, pg_ctl,
// pg_basebackup: on the PATH or under /usr/lib/postgresql/*/bin); as root
// they run as the postgres user.
type Replicated struct {
	// PrimaryURL and StandbyURL reach the database postgres on each.
	PrimaryURL, StandbyURL string
	dir                    string
	bin                    string
	runAs                  []string // the prefix that runs a program as postgres
}

// StartReplicated starts a primary and its standby, stopped and removed
// when t ends; standbyConf lines are added to the standby's
// postgresql.conf (such as "max_standby_streaming_delay = 0"). Without
// the server programs, or as root without a postgres user, t is skipped
// saying why (with CI=true too: CI's machine has them).
func StartReplicated(t testing.TB, standbyConf ...string) *Replicated {
	t.Helper()
	r, skip, err := NewReplicated(nil, standbyConf)
	if skip != "" {
		t.Skipf("PostgreSQL primary/standby tests skipped: %s", skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// NewReplicated is StartReplicated outside a test (make bench): conf
// lines go to both servers' postgresql.conf, standbyConf to the
// standby's; Stop stops both and removes their folder. skip says why it
// cannot run here (no server programs, or no postgres user to run them
// as root).
func NewReplicated(conf, standbyConf []string) (_ *Replicated, skip string, err error) {
	bin, why := serverBin()
	if bin == "" {
		return nil, why, nil
	}
	r := &Replicated{bin: bin}
	var owner *user.User
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Sprintf("running as root and there is no postgres user to run initdb as (%v)", err), nil
		}
		owner, r.runAs = u, []string{"runuser", "-u", "postgres", "--"}
	}
	if r.dir, err = os.MkdirTemp("", "usersvc-standby-"); err != nil {
		return nil, "", err
	}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()
	if owner != nil {
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(r.dir, uid, gid); err != nil {
			return nil, "", err
		}
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, "", err
	}
	primary, standby := filepath.Join(r.dir, "primary"), filepath.Join(r.dir, "standby")
	for _, step := range []func() error{
		func() error {
			return r.run("initdb", "-D", primary, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
		},
		func() error { return r.conf(primary, ports[0], conf) },
		func() error {
			return r.run("pg_ctl", "-D", primary, "-l", filepath.Join(r.dir, "primary.log"), "-w", "-t", "60", "start")
		},
		func() error {
			return r.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-U", "postgres", "-D", standby, "-R", "-X", "stream", "-c", "fast", "--no-sync")
		},
		func() error { return r.conf(standby, ports[1], append(slices.Clone(conf), standbyConf...)) },
		func() error {
			return r.run("pg_ctl", "-D", standby, "-l", filepath.Join(r.dir, "standby.log"), "-w", "-t", "60", "start")
		},
	} {
		if err := step(); err != nil {
			return nil, "", err
		}
	}
	r.PrimaryURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[0])
	r.StandbyURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[1])
	return r, "", nil
}

// serverBin finds the folder of initdb, pg_ctl and pg_basebackup.
func serverBin() (string, string) {
	dirs := []string{}
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(found))) // the newest first
	for _, d := range append(dirs, found...) {
		ok := true
		for _, p := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
			if _, err := os.Stat(filepath.Join(d, p)); err != nil {
				ok = false
			}
		}
		if ok {
			return d, ""
		}
	}
	return "", "initdb, pg_ctl and pg_basebackup were found neither on the PATH nor under /usr/lib/postgresql/*/bin (install the PostgreSQL server package)"
}

// freePorts finds n loopback ports free now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// run runs one of the server programs as the cluster's owner.
func (r *Replicated) run(prog string, args ...string) error {
	argv := append(append(append([]string{}, r.runAs...), filepath.Join(r.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s%s", prog, err, out, r.logs())
	}
	return nil
}

// conf sets a data folder's port and listen address, small and unsafe
// settings for a throwaway cluster (later lines win), and extra.
func (r *Replicated) conf(data string, port int, extra []string) error {
	lines := append([]string{
		"port = " + strconv.Itoa(port), "listen_addresses = '127.0.0.1'", "unix_socket_directories = '" + r.dir + "'",
		"fsync = off", "shared_buffers = 16MB", "max_connections = 60", "hot_standby_feedback = off",
	}, extra...)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("\n" + strings.Join(lines, "\n") + "\n")
	return err
}

func (r *Replicated) logs() string {
	var b strings.Builder
	for _, name := range []string{"primary.log", "standby.log"} {
		if data, err := os.ReadFile(filepath.Join(r.dir, name)); err == nil {
			fmt.Fprintf(&b, "--- %s\n%s", name, data)
		}
	}
	return b.String()
}

// Stop stops both servers at once and removes their folder.
func (r *Replicated) Stop() {
	for _, data := range []string{"standby", "primary"} {
		if _, err := os.Stat(filepath.Join(r.dir, data, "postmaster.pid")); err == nil {
			argv := append(append([]string{}, r.runAs...), filepath.Join(r.bin, "pg_ctl"), "-D", filepath.Join(r.dir, data), "-m", "immediate", "-w", "stop")
			_ = exec.Command(argv[0], argv[1:]...).Run()
		}
	}
	_ = os.RemoveAll(r.dir)
}

// Schema makes a schema of t's own on the primary (dropped when t ends)
// and returns the primary's and the standby's URLs that use it.
func (r *Replicated) Schema(t testing.TB) (primary, standby string) {
	t.Helper()
	primary = NewSchema(t, r.PrimaryURL)
	u, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := url.Parse(r.StandbyURL)
	s.RawQuery = u.RawQuery
	return primary, s.String()
}

// exec runs one statement on the standby (standby true) or the primary.
func (r *Replicated) exec(t testing.TB, standby bool, q string) {
	t.Helper()
	u := r.PrimaryURL
	if standby {
		u = r.StandbyURL
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// PauseReplay stops the standby replaying the WAL it receives (it keeps
// answering, as of what it had replayed); ResumeReplay starts it again.
func (r *Replicated) PauseReplay(t testing.TB) { r.exec(t, true, "SELECT pg_wal_replay_pause()") }

// ResumeReplay: see PauseReplay.
func (r *Replicated) ResumeReplay(t testing.TB) { r.exec(t, true, "SELECT pg_wal_replay_resume()") }

// CatchUp waits (up to 30 s) until the standby has replayed everything
// the primary has flushed.
func (r *Replicated) CatchUp(t testing.TB) {
	t.Helper()
	if err := r.WaitReplayed(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// WaitReplayed is CatchUp outside a test: it waits up to timeout.
func (r *Replicated) WaitReplayed(timeout time.Duration) error {
	p, err := sql.Open("postgres", r.PrimaryURL)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := sql.Open("postgres", r.StandbyURL)
	if err != nil {
		return err
	}
	defer s.Close()
	var at string
	if err := p.QueryRow("SELECT pg_current_wal_flush_lsn()::text").Scan(&at); err != nil {
		return err
	}
	for deadline := time.Now().Add(timeout); ; {
		var ok bool
		if err := s.QueryRow("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", at).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the standby did not replay up to %s in %s", at, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StopStandby stops the standby at once (it does not come back).
func (r *Replicated) StopStandby(t testing.TB) {
	t.Helper()
	if err := r.run("pg_ctl", "-D", filepath.Join(r.dir, "standby"), "-m", "immediate", "-w", "stop"); err != nil {
		t.Fatal(err)
	}
}

// PrimaryPID is the primary's postmaster's process id (0 if unknown):
// make bench tells the primary's CPU from the standby's with it.
func (r *Replicated) PrimaryPID() int {
	b, err := os.ReadFile(filepath.Join(r.dir, "primary", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}
