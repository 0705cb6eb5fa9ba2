// Command docs runs the shell examples of README.md and docs/api.md, in
// order, against a fresh server, so the documentation cannot drift from
// the code without CI noticing.
//
// It starts `usersvc serve` on a new SQLite database and a free loopback
// port (localhost:8080 in the examples is rewritten to it), then reads
// every fenced sh block of the files in order, joining lines continued by
// a backslash:
//
//   - `make run` and `make test` are what the runner itself stands for, and
//     are skipped;
//
//   - `NAME=placeholder   # words (.json.path)` sets NAME from the previous
//     answer's JSON at that path (`TOKEN=…  # the printed token` is the
//     admin token the first start printed);
//
//   - `curl …` runs in bash with those variables in its environment, and
//     must answer the status that a comment line right after it gives
//     (`# → 201 …`), or 200 when there is none;
//
//   - any other comment is prose; any other line fails the run, since it
//     would be an example nobody runs.
//
//     go run ./e2e/docs -bin bin/usersvc
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"usersvc/e2e/internal/harness"
)

var (
	bin   = flag.String("bin", "bin/usersvc", "the usersvc binary")
	files = flag.String("files", "README.md,docs/api.md", "comma-separated Markdown files whose sh blocks run, in order")
)

func main() {
	flag.Parse()
	n, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "docs: FAIL:", err)
		os.Exit(1)
	}
	fmt.Printf("docs: PASS: %d shell examples of %s ran as written\n", n, *files)
}

// step is one logical line of a sh block.
type step struct {
	file string
	line int
	text string
	want int // curl: the status the docs promise
}

var (
	assignRE = regexp.MustCompile(`^([A-Z_][A-Z0-9_]*)=\S+\s*#.*$`)
	pathRE   = regexp.MustCompile(`\((\.[A-Za-z0-9_.]+)\)\s*$`)
	wantRE   = regexp.MustCompile(`^#\s*→\s*(\d{3})\b`)
)

func run() (int, error) {
	var steps []step
	for _, f := range strings.Split(*files, ",") {
		s, err := parse(f)
		if err != nil {
			return 0, err
		}
		steps = append(steps, s...)
	}
	work, err := os.MkdirTemp("", "usersvc-docs-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	ports, err := harness.FreePorts(1)
	if err != nil {
		return 0, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	logPath := filepath.Join(work, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	srv := exec.Command(*bin, "serve")
	srv.Env = append(os.Environ(), "USERSVC_DATABASE_URL="+filepath.Join(work, "usersvc.db"), "USERSVC_ADDR="+addr)
	srv.Stdout, srv.Stderr = logf, logf
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	if err := harness.WaitHTTP("http://"+addr+"/readyz", 30*time.Second); err != nil {
		b, _ := os.ReadFile(logPath)
		return 0, fmt.Errorf("%w\n%s", err, b)
	}
	printed, err := harness.BootstrapToken(logPath)
	if err != nil {
		return 0, err
	}
	vars := map[string]string{}
	var last []byte
	ran := 0
	for _, s := range steps {
		where := fmt.Sprintf("%s:%d", s.file, s.line)
		switch {
		case s.text == "make run" || s.text == "make test":
			continue
		case assignRE.MatchString(s.text):
			name := assignRE.FindStringSubmatch(s.text)[1]
			if strings.Contains(s.text, "printed token") {
				vars[name] = printed
				continue
			}
			m := pathRE.FindStringSubmatch(s.text)
			if m == nil {
				return ran, fmt.Errorf("%s: %s: say where the value comes from, as (.path) in the answer", where, s.text)
			}
			v, err := lookup(last, m[1])
			if err != nil {
				return ran, fmt.Errorf("%s: %s: %w (answer %s)", where, name, err, last)
			}
			vars[name] = v
		case strings.HasPrefix(s.text, "curl "):
			body, status, err := curl(s.text, addr, vars, work)
			if err != nil {
				return ran, fmt.Errorf("%s: %w", where, err)
			}
			if status != s.want {
				return ran, fmt.Errorf("%s: %s\nanswered %d, the docs say %d: %s", where, s.text, status, s.want, body)
			}
			last = body
			ran++
		default:
			return ran, fmt.Errorf("%s: %q is not a line the runner knows (curl, NAME=… # (.path), make run/test)", where, s.text)
		}
	}
	if ran == 0 {
		return 0, fmt.Errorf("no curl example found in %s", *files)
	}
	return ran, nil
}

// parse returns the logical lines of the file's sh blocks, with the
// status each curl line expects.
func parse(path string) ([]step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []step
	in, n := false, 0
	var cont *step
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in = true
			continue
		case in && strings.TrimSpace(line) == "```":
			in = false
			continue
		case !in:
			continue
		}
		if cont != nil {
			cont.text += " " + strings.TrimSpace(strings.TrimSuffix(line, "\\"))
			if !strings.HasSuffix(line, "\\") {
				out = append(out, *cont)
				cont = nil
			}
			continue
		}
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "#") {
			if m := wantRE.FindStringSubmatch(t); m != nil && len(out) > 0 && strings.HasPrefix(out[len(out)-1].text, "curl ") {
				out[len(out)-1].want, _ = strconv.Atoi(m[1])
			}
			continue
		}
		if !strings.HasPrefix(t, "curl ") && !assignRE.MatchString(t) {
			// "make run   # comment": the comment is prose.
			t = strings.TrimSpace(strings.SplitN(t, "#", 2)[0])
		}
		s := step{file: path, line: n, text: strings.TrimSuffix(t, "\\"), want: 200}
		if strings.HasSuffix(t, "\\") {
			s.text = strings.TrimSpace(s.text)
			cont = &s
			continue
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// curl runs one example in bash, pointed at the runner's server.
func curl(cmd, addr string, vars map[string]string, dir string) ([]byte, int, error) {
	cmd = strings.ReplaceAll(cmd, "localhost:8080", addr)
	out := filepath.Join(dir, "answer")
	_ = os.Remove(out)
	c := exec.Command("bash", "-c", cmd+" -o "+out+" -w '%{http_code}'")
	c.Env = os.Environ()
	for k, v := range vars {
		c.Env = append(c.Env, k+"="+v)
	}
	code, err := c.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", cmd, err)
	}
	status, err := strconv.Atoi(strings.TrimSpace(string(code)))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: status %q", cmd, code)
	}
	body, _ := os.ReadFile(out)
	return body, status, nil
}

// lookup reads a string or number at a jq-like path (.a.b) of a JSON
// answer.
func lookup(answer []byte, path string) (string, error) {
	var v any
	if err := json.Unmarshal(answer, &v); err != nil {
		return "", fmt.Errorf("the previous answer is not JSON")
	}
	for _, k := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("no %s in the previous answer", path)
		}
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("no string or number at %s in the previous answer", path)
}
