// Command trace checks the service's traces in a real Jaeger: it starts
// Jaeger v2 (built from the Go module proxy by tools/jaeger, never part of
// the product's go.mod) on 127.0.0.1 with in-memory storage, starts
// usersvc pointed at its OTLP receiver with every request sampled, sends
// 20 REST and 20 GraphQL requests, and reads the traces back through
// Jaeger's query API. It fails unless every request arrived as one trace
// named by its route template, with the GraphQL operation, the token
// check and database statements as spans, and nothing secret (token,
// password, hash, email, Authorization, query string) anywhere in a span,
// event or resource. Then it stops Jaeger and sends 500 more requests,
// which must all succeed.
//
//	make trace     (builds bin/jaeger and bin/usersvc, then runs this)
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"usersvc/e2e/internal/harness"
)

var (
	jaegerBin = flag.String("jaeger", "bin/jaeger", "the Jaeger v2 binary (make trace builds it from tools/jaeger)")
	svcBin    = flag.String("bin", "bin/usersvc", "the usersvc binary")
	after     = flag.Int("after", 500, "requests sent after Jaeger is stopped; every one must succeed")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "trace: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("trace: PASS")
}

// The secrets the run uses; none may appear in any span.
const (
	userEmail    = "tracing.secret.user@example.com"
	userPassword = "Trace-Secret-Passphrase-8841"
	querySecret  = "query-string-secret-5521"
)

func run() error {
	work, err := os.MkdirTemp("", "usersvc-trace-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ports, err := harness.FreePorts(6)
	if err != nil {
		return err
	}
	otlpHTTP, queryHTTP, queryGRPC, health, svcPort, otlpGRPC := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]

	// Jaeger v2: an OpenTelemetry Collector with Jaeger's storage and
	// query extensions, every endpoint on 127.0.0.1.
	config := fmt.Sprintf(jaegerConfig, health, queryHTTP, queryGRPC, otlpGRPC, otlpHTTP)
	cfgPath := filepath.Join(work, "jaeger.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		return err
	}
	jaeger, jaegerLog, err := start(work, "jaeger", exec.Command(*jaegerBin, "--config", "file:"+cfgPath))
	if err != nil {
		return err
	}
	defer stop(jaeger)
	query := fmt.Sprintf("http://127.0.0.1:%d", queryHTTP)
	if err := harness.WaitHTTP(query+"/api/services", 60*time.Second); err != nil {
		return fmt.Errorf("jaeger query API: %w\n%s", err, tail(jaegerLog))
	}
	fmt.Printf("trace: Jaeger up (OTLP http 127.0.0.1:%d, query %s)\n", otlpHTTP, query)

	cmd := exec.Command(*svcBin, "serve")
	cmd.Env = append(os.Environ(),
		"USERSVC_DATABASE_URL="+filepath.Join(work, "usersvc.db"),
		fmt.Sprintf("USERSVC_ADDR=127.0.0.1:%d", svcPort),
		fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", otlpHTTP),
		"OTEL_SERVICE_NAME=usersvc-trace-check",
		"OTEL_TRACES_SAMPLER=always_on",
		"OTEL_BSP_SCHEDULE_DELAY=200", // export every 200 ms, so the check need not wait 5 s
	)
	svc, svcLog, err := start(work, "usersvc", cmd)
	if err != nil {
		return err
	}
	defer stop(svc)
	base := fmt.Sprintf("http://127.0.0.1:%d", svcPort)
	if err := harness.WaitHTTP(base+"/readyz", 30*time.Second); err != nil {
		return fmt.Errorf("usersvc: %w\n%s", err, tail(svcLog))
	}
	admin, err := harness.BootstrapToken(svcLog)
	if err != nil {
		return err
	}
	c := &client{base: base}
	began := time.Now()

	// 20 REST requests, each its own trace. The first two make a user
	// and sign them in, so the run holds a password, an email and a
	// second token to look for.
	var created struct {
		ID string `json:"id"`
	}
	if err := c.do("POST", "/api/users", admin, "application/json",
		`{"name":"Trace User","email":"`+userEmail+`","password":"`+userPassword+`","country":"ES","timeZone":"Europe/Madrid"}`, 201, &created); err != nil {
		return err
	}
	var signedIn struct {
		Token string `json:"token"`
	}
	if err := c.do("POST", "/api/Auth/Token", "", "application/json",
		`{"userName":"`+userEmail+`","password":"`+userPassword+`"}`, 200, &signedIn); err != nil {
		return err
	}
	if created.ID == "" || signedIn.Token == "" {
		return fmt.Errorf("create or sign-in answered without an id or a token")
	}
	userTok, id := signedIn.Token, created.ID
	rest := []struct{ method, path, token, ctype, body string }{
		{"GET", "/api/users/" + id, userTok, "", ""},
		{"GET", "/api/users/" + id + "?note=" + querySecret, userTok, "", ""},
		{"PATCH", "/api/users/" + id, userTok, "application/json-patch+json", `[{"op":"replace","path":"/description","value":"traced"}]`},
		{"GET", "/api/users?search=" + userEmail, admin, "", ""},
		{"GET", "/api/users/" + id + "/history", userTok, "", ""},
		{"GET", "/api/users/usr-does-not-exist", admin, "", ""},
	}
	restExpect := map[string]int{"POST /api/users": 1, "POST /api/Auth/Token": 1}
	for i := 0; count(restExpect) < 20; i++ {
		r := rest[i%len(rest)]
		want := 200
		if strings.Contains(r.path, "does-not-exist") {
			want = 404
		}
		if err := c.do(r.method, r.path, r.token, r.ctype, r.body, want, nil); err != nil {
			return err
		}
		route := r.path
		switch {
		case strings.HasSuffix(r.path, "/history"):
			route = "/api/users/{userId}/history"
		case strings.HasPrefix(r.path, "/api/users/"):
			route = "/api/users/{userId}"
		case strings.HasPrefix(r.path, "/api/users?"):
			route = "/api/users"
		}
		restExpect[r.method+" "+route]++
	}
	// 20 GraphQL operations: named queries and mutations.
	gql := []string{
		`{"query":"query Me($id: ID!) { user(id: $id) { id name email } }","variables":{"id":"` + id + `"}}`,
		`{"query":"mutation Describe { patchUser(id: \"` + id + `\", patch: [{op: replace, path: \"/description\", value: \"g\"}]) { id } }"}`,
		`{"query":"query Page { users(first: 5) { totalCount edges { node { id } } } }"}`,
		`{"query":"query { user(id: \"` + id + `\") { name } }"}`,
		// Secrets written into the document itself: the span's document
		// must carry them as ?.
		`{"query":"mutation SignIn { login(email: \"` + userEmail + `\", password: \"` + userPassword + `\") { expires } }"}`,
	}
	for i := 0; i < 20; i++ {
		tok := userTok
		if i%len(gql) == 2 {
			tok = admin
		}
		var out struct {
			Errors []json.RawMessage `json:"errors"`
		}
		if err := c.do("POST", "/graphql", tok, "application/json", gql[i%len(gql)], 200, &out); err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("GraphQL %s: errors %s", gql[i%len(gql)], out.Errors)
		}
	}
	restExpect["POST /graphql"] = 20
	took := time.Since(began)
	secrets := []string{admin, userTok, userPassword, userEmail, querySecret, "Bearer", "$2a$", "$2b$", "@example.com"}

	// Read the traces back (the exporter sends every 200 ms; allow 30 s).
	var traces []jTrace
	deadline := time.Now().Add(30 * time.Second)
	for {
		traces, err = fetchTraces(query, "usersvc-trace-check")
		if err == nil && count(rootsByName(traces)) >= 41 && flushTraces(traces) > 0 { // 41: and the start-up wait's GET /readyz
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after 30 s Jaeger holds %d request traces (%v), want 41, and %d usage flushes, want some (err %v)",
				count(rootsByName(traces)), rootsByName(traces), flushTraces(traces), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := check(traces, restExpect, secrets, id, took); err != nil {
		return err
	}

	// Jaeger goes away: requests go on, none fails.
	stop(jaeger)
	fmt.Printf("trace: Jaeger stopped; sending %d more requests\n", *after)
	var slowest time.Duration
	for i := 0; i < *after; i++ {
		t0 := time.Now()
		var err error
		if i%2 == 0 {
			err = c.do("GET", "/api/users/"+id, userTok, "", "", 200, nil)
		} else {
			err = c.do("POST", "/graphql", userTok, "application/json", gql[0], 200, nil)
		}
		if err != nil {
			return fmt.Errorf("with Jaeger stopped, request %d: %w", i+1, err)
		}
		slowest = max(slowest, time.Since(t0))
	}
	fmt.Printf("trace: %d requests with Jaeger stopped, 0 failed (slowest %v)\n", *after, slowest.Round(time.Millisecond))
	return nil
}

// check holds the traces to the requests sent; took is how long the 40
// requests took, which bounds how often a cached token check may expire.
func check(traces []jTrace, want map[string]int, secrets []string, id string, took time.Duration) error {
	got := rootsByName(traces)
	delete(got, "GET /readyz") // the start-up wait's probes (traced like any request)
	if !maps.Equal(got, want) {
		return fmt.Errorf("request traces by route template:\n got  %v\n want %v", got, want)
	}
	var dbSpans, gqlSpans, authSpans, bcryptSpans int
	for _, t := range traces {
		for _, s := range t.Spans {
			if strings.Contains(s.OperationName, id) {
				return fmt.Errorf("span %q names a raw id", s.OperationName)
			}
			for _, kv := range s.allTags(t.Processes) {
				k := strings.ToLower(kv.Key)
				if strings.Contains(k, "authorization") || strings.Contains(k, "cookie") || k == "url.query" || k == "url.full" || k == "http.url" {
					return fmt.Errorf("span %q carries %s", s.OperationName, kv.Key)
				}
				v := fmt.Sprint(kv.Value)
				for _, sec := range secrets {
					if strings.Contains(v, sec) {
						return fmt.Errorf("span %q, %s=%q holds a secret (%.12s…)", s.OperationName, kv.Key, v, sec)
					}
				}
			}
			switch {
			case s.tag("db.system.name") != "":
				dbSpans++
				if q := s.tag("db.query.text"); q == "" {
					return fmt.Errorf("database span %q has no db.query.text", s.OperationName)
				}
			case s.tag("graphql.operation.type") != "":
				gqlSpans++
				if s.OperationName == "mutation SignIn" && s.tag("graphql.document") != `mutation SignIn { login ( email : ? password : ? ) { expires } }` {
					return fmt.Errorf("the sign-in's document is recorded as %q", s.tag("graphql.document"))
				}
			case s.OperationName == "usersvc.authenticate":
				authSpans++
			case strings.HasPrefix(s.OperationName, "usersvc.password."):
				bcryptSpans++
			}
		}
	}
	// Every request trace shows its token check, every GraphQL one its
	// operation, and writes their statements.
	for _, t := range traces {
		root := t.root()
		if root == nil || root.kind() != "server" || root.OperationName == "GET /readyz" {
			continue
		}
		names := t.names()
		if root.OperationName == "POST /graphql" && !t.has(func(s jSpan) bool { return s.tag("graphql.operation.type") != "" }) {
			return fmt.Errorf("trace %s (POST /graphql) has no GraphQL operation span: %v", t.TraceID, names)
		}
		if (root.OperationName == "PATCH /api/users/{userId}" || root.OperationName == "POST /api/users") &&
			!t.has(func(s jSpan) bool { return s.tag("db.system.name") != "" }) {
			return fmt.Errorf("trace %s (%s) has no database span: %v", t.TraceID, root.OperationName, names)
		}
	}
	// The meter's flush is a trace of its own, with its statements.
	flushes := flushTraces(traces)
	if flushes == 0 {
		return fmt.Errorf("no usersvc.usage.flush trace with database spans")
	}
	// The token check is a span when it reads the database: each token's
	// first use (the admin's create, the user's first GET), the first
	// after each change of the user (the 5 sign-ins set lastLogin), and,
	// as this server follows no change log (SQLite), at most once a
	// second a token when its cached check expires; never the cached
	// checks between.
	maxAuth := 2 + 5 + 2*int(math.Ceil(took.Seconds()))
	if authSpans < 2 || authSpans > maxAuth {
		return fmt.Errorf("%d usersvc.authenticate spans, want the first checks of 2 tokens, those after the user's 5 sign-ins and at most one a token a second of the %s the 40 requests took: at most %d", authSpans, took.Round(time.Millisecond), maxAuth)
	}
	if gqlSpans != 20 {
		return fmt.Errorf("%d GraphQL operation spans, want 20", gqlSpans)
	}
	if bcryptSpans < 2 {
		return fmt.Errorf("%d password spans, want the create's hash and the sign-in's verify", bcryptSpans)
	}
	fmt.Printf("trace: %d traces in Jaeger: 40 requests by route template %v, %d usage flushes; %d database, %d GraphQL, %d token-check (at most %d in %s), %d password spans; no secret in any span\n",
		len(traces), got, flushes, dbSpans, gqlSpans, authSpans, maxAuth, took.Round(time.Millisecond), bcryptSpans)
	return nil
}

// jaegerConfig: health, query http, query grpc, OTLP grpc, OTLP http ports.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%d
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// Jaeger's query API (/api/traces), the parts read here.
type jTrace struct {
	TraceID   string              `json:"traceID"`
	Spans     []jSpan             `json:"spans"`
	Processes map[string]jProcess `json:"processes"`
}

type jSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []jKV `json:"tags"`
	Logs []struct {
		Fields []jKV `json:"fields"`
	} `json:"logs"`
}

type jProcess struct {
	ServiceName string `json:"serviceName"`
	Tags        []jKV  `json:"tags"`
}

type jKV struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

func (s jSpan) tag(k string) string {
	for _, kv := range s.Tags {
		if kv.Key == k {
			return fmt.Sprint(kv.Value)
		}
	}
	return ""
}

func (s jSpan) kind() string { return s.tag("span.kind") }

// allTags: the span's tags, its events' fields and its process's
// resource, with the span name as one more value to scan.
func (s jSpan) allTags(procs map[string]jProcess) []jKV {
	out := append([]jKV{{Key: "name", Value: s.OperationName}}, s.Tags...)
	for _, l := range s.Logs {
		out = append(out, l.Fields...)
	}
	p := procs[s.ProcessID]
	return append(append(out, jKV{Key: "service.name", Value: p.ServiceName}), p.Tags...)
}

func (t jTrace) root() *jSpan {
	for i, s := range t.Spans {
		if len(s.References) == 0 {
			return &t.Spans[i]
		}
	}
	return nil
}

func (t jTrace) names() []string {
	var out []string
	for _, s := range t.Spans {
		out = append(out, s.OperationName)
	}
	sort.Strings(out)
	return out
}

func (t jTrace) has(f func(jSpan) bool) bool { return slices.ContainsFunc(t.Spans, f) }

// flushTraces counts the meter's flushes that wrote (a trace rooted at
// usersvc.usage.flush with a statement in it).
func flushTraces(traces []jTrace) int {
	n := 0
	for _, t := range traces {
		if r := t.root(); r != nil && r.OperationName == "usersvc.usage.flush" && t.has(func(s jSpan) bool { return s.tag("db.system.name") != "" }) {
			n++
		}
	}
	return n
}

// rootsByName counts the traces whose root is a server span, by name.
func rootsByName(traces []jTrace) map[string]int {
	out := map[string]int{}
	for _, t := range traces {
		if r := t.root(); r != nil && r.kind() == "server" {
			out[r.OperationName]++
		}
	}
	return out
}

func fetchTraces(query, service string) ([]jTrace, error) {
	resp, err := http.Get(query + "/api/traces?service=" + service + "&limit=1000&lookback=1h")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("jaeger /api/traces: %d %s", resp.StatusCode, b)
	}
	var out struct {
		Data []jTrace `json:"data"`
	}
	return out.Data, json.NewDecoder(resp.Body).Decode(&out)
}

type client struct{ base string }

func (c *client) do(method, path, token, ctype, body string, want int, out any) error {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func start(dir, name string, cmd *exec.Cmd) (*exec.Cmd, string, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", name, err)
	}
	return cmd, logPath, nil
}

// stop ends a process (SIGTERM, then SIGKILL after 10 s); a second call
// does nothing.
func stop(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func count(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}
