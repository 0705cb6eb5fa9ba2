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
	bin, why := serverBin()
	if bin == "" {
		t.Skipf("PostgreSQL primary/standby tests skipped: %s", why)
	}
	r := &Replicated{bin: bin}
	var owner *user.User
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("PostgreSQL primary/standby tests skipped: running as root and there is no postgres user to run initdb as (%v)", err)
		}
		owner, r.runAs = u, []string{"runuser", "-u", "postgres", "--"}
	}
	dir, err := os.MkdirTemp("", "usersvc-standby-")
	if err != nil {
		t.Fatal(err)
	}
	r.dir = dir
	t.Cleanup(r.stop)
	if owner != nil {
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ports := freePorts(t, 2)
	primary, standby := filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	r.run(t, "initdb", "-D", primary, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
	r.conf(t, primary, ports[0])
	r.run(t, "pg_ctl", "-D", primary, "-l", filepath.Join(dir, "primary.log"), "-w", "-t", "60", "start")
	r.run(t, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-U", "postgres", "-D", standby, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	r.conf(t, standby, ports[1], standbyConf...)
	r.run(t, "pg_ctl", "-D", standby, "-l", filepath.Join(dir, "standby.log"), "-w", "-t", "60", "start")
	r.PrimaryURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[0])
	r.StandbyURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[1])
	return r
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

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// run runs one of the server programs as the cluster's owner.
func (r *Replicated) run(t testing.TB, prog string, args ...string) {
	t.Helper()
	argv := append(append(append([]string{}, r.runAs...), filepath.Join(r.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", prog, err, out, r.logs())
	}
}

// conf sets a data folder's port and listen address, small and unsafe
// settings for a throwaway cluster, and extra.
func (r *Replicated) conf(t testing.TB, data string, port int, extra ...string) {
	t.Helper()
	lines := append([]string{
		"port = " + strconv.Itoa(port), "listen_addresses = '127.0.0.1'", "unix_socket_directories = '" + r.dir + "'",
		"fsync = off", "shared_buffers = 16MB", "max_connections = 60", "hot_standby_feedback = off",
	}, extra...)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
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

// stop stops both servers at once and removes the folder.
func (r *Replicated) stop() {
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
	p, err := sql.Open("postgres", r.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := sql.Open("postgres", r.StandbyURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var at string
	if err := p.QueryRow("SELECT pg_current_wal_flush_lsn()::text").Scan(&at); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var ok bool
		if err := s.QueryRow("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", at).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not replay up to %s in 30 s", at)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StopStandby stops the standby at once (it does not come back).
func (r *Replicated) StopStandby(t testing.TB) {
	t.Helper()
	r.run(t, "pg_ctl", "-D", filepath.Join(r.dir, "standby"), "-m", "immediate", "-w", "stop")
}
