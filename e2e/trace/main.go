// Command trace checks the service's traces in a real Jaeger: it starts
// Jaeger v2 (built from the Go module proxy by tools/jaeger, never part of
// the product's go.mod) on 127.0.0.1 with in-memory storage, starts
// usersvc pointed at its OTLP receiver with every request sampled, sends
// 20 REST and 20 GraphQL requests, and reads the traces back through
// Jaeger's query API. It fails unless every request arrived as one trace
// named by its route template, with the GraphQL operation, the token
// check and database statements as spans, and nothing secret (token,
// password, hash, email, Authorization, query string) anywhere in a span,
// event or resource; and that no trace is anything but a request or a
// usage flush that read or wrote (an idle flush, a statement outside any
// request, makes none). Then it stops Jaeger and sends 500 more requests,
// which must all succeed.
//
//	make trace     (builds bin/jaeger and bin/usersvc, then runs this)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	// The start-up log says tracing is on and where it exports.
	if b, _ := os.ReadFile(svcLog); !strings.Contains(string(b), fmt.Sprintf(`msg="tracing on" endpoint=http://127.0.0.1:%d protocol=http/protobuf sampler=always_on`, otlpHTTP)) {
		return fmt.Errorf("usersvc's start-up log does not say that tracing is on and where it exports:\n%s", tail(svcLog))
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
