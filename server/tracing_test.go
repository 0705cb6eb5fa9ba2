package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"usersvc/internal/testenv"
	"usersvc/server"
	"usersvc/store"
)

// TestTraces: with tracing on, a REST GET, a PATCH, a GraphQL query and a
// sign-in each make a server span named by its route template with the
// domain's and the database's spans under it; an incoming traceparent is
// the parent; a 404 leaves the status unset and a database failure sets
// it to error; and no span, attribute or event holds a secret.
func TestTraces(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		rec, _ := testenv.RecordSpans(t)
		st, err := store.Open(context.Background(), db.URL, store.Options{Tracing: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		svc := testenv.NewService(st, e.Clock)
		h := server.New(svc, server.Config{Tracing: true, Introspection: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		// all keeps every span of the test for the secret scan at its end
		// (rec is reset before each step).
		var all []sdktrace.ReadOnlySpan
		reset := func() { all = append(all, rec.Ended()...); rec.Reset() }
		if r := testenv.Do(t, h, "PATCH", "/api/users/"+e.Alice.ID, e.AdminToken, `[{"op":"add","path":"/password","value":"alice passphrase"}]`,
			"Content-Type: application/json-patch+json"); r.Status != 200 {
			t.Fatalf("set a password: %d %s", r.Status, r.Body)
		}
		reset()

		const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		type call struct {
			name, method, path, token, body string
			headers                         []string
			status                          int
			span                            string
			children                        []string
			absent                          []string
		}
		calls := []call{
			{"REST GET", "GET", "/api/users/" + e.Alice.ID, e.AliceToken, "", []string{"traceparent: 00-" + traceID + "-" + parentID + "-01"}, 200,
				"GET /api/users/{userId}", []string{"usersvc.authenticate", "SELECT"}, nil},
			{"PATCH", "PATCH", "/api/users/" + e.Alice.ID, e.AliceToken, `[{"op":"replace","path":"/description","value":"traced"}]`, []string{"Content-Type: application/json-patch+json"}, 200,
				// The token is cached now: its check reads nothing and makes no span.
				"PATCH /api/users/{userId}", nil, []string{"usersvc.authenticate"}},
			{"GraphQL query", "POST", "/graphql", e.AliceToken, `{"query":"query Me { me { id email } }"}`, nil, 200,
				"POST /graphql", []string{"query Me"}, []string{"usersvc.authenticate"}},
			{"sign-in", "POST", "/api/Auth/Token", "", `{"userName":"alice@example.com","password":"alice passphrase"}`, nil, 200,
				"POST /api/Auth/Token", []string{"usersvc.signin.throttle", "usersvc.password.verify", "SELECT"}, nil},
			{"not found", "GET", "/api/users/usr-nobody", e.AdminToken, "", nil, 404, "GET /api/users/{userId}", nil, nil},
		}
		var secrets []string
		for _, c := range calls {
			var r *testenv.Response
			var spans []sdktrace.ReadOnlySpan
			// A call that expects no token-check span relies on the token
			// being cached, and without a change-log follower an entry
			// lives 1 s of real time: the cache is filled by a GET just
			// before the call, and the pair runs again (at most three
			// times) if the call still checked the token against the
			// database, which only a stall of a second between the two can
			// explain. A cache that never serves fails all three.
			for attempt := 1; ; attempt++ {
				if len(c.absent) > 0 {
					if w := testenv.Do(t, h, "GET", "/api/users/"+e.Alice.ID, c.token, ""); w.Status != 200 {
						t.Fatalf("%s: warming the token cache: %d %s", c.name, w.Status, w.Body)
					}
				}
				reset()
				r = testenv.Do(t, h, c.method, c.path, c.token, c.body, c.headers...)
				spans = rec.Ended()
				if attempt == 3 || !slices.ContainsFunc(spans, func(s sdktrace.ReadOnlySpan) bool { return slices.Contains(c.absent, s.Name()) }) {
					break
				}
			}
			if r.Status != c.status {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
			}
			if tok, ok := r.JSON["token"].(string); ok {
				secrets = append(secrets, tok)
			}
			var root sdktrace.ReadOnlySpan
			for _, s := range spans {
				if s.Name() == c.span && s.SpanKind().String() == "server" {
					root = s
				}
			}
			if root == nil {
				t.Fatalf("%s: no server span %q among %v", c.name, c.span, names(spans))
			}
			for _, want := range c.children {
				found := false
				for _, s := range spans {
					if s.Name() == want && s.SpanContext().TraceID() == root.SpanContext().TraceID() {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no %q span in the request's trace: %v", c.name, want, names(spans))
				}
			}
			for _, not := range c.absent {
				for _, s := range spans {
					if s.Name() == not {
						t.Errorf("%s: a %q span: %v", c.name, not, names(spans))
					}
				}
			}
			switch c.name {
			case "GraphQL query":
				doc := "(none)"
				for _, s := range spans {
					for _, a := range s.Attributes() {
						if s.Name() == "query Me" && a.Key == "graphql.document" {
							doc = a.Value.AsString()
						}
					}
				}
				if doc != "query Me { me { id email } }" {
					t.Errorf("graphql.document %q", doc)
				}
			case "REST GET":
				if root.SpanContext().TraceID().String() != traceID || root.Parent().SpanID().String() != parentID {
					t.Errorf("traceparent: trace %s parent %s", root.SpanContext().TraceID(), root.Parent().SpanID())
				}
				db := 0
				for _, s := range spans {
					for _, a := range s.Attributes() {
						if a.Key == "db.query.text" && s.SpanContext().TraceID().String() == traceID {
							db++
							if q := a.Value.AsString(); !strings.Contains(q, "$1") && !strings.Contains(q, "?") {
								t.Errorf("a statement without placeholders: %s", q)
							}
						}
					}
				}
				if db == 0 {
					t.Errorf("no database span in the GET's trace: %v", names(spans))
				}
			case "not found":
				if root.Status().Code != codes.Unset {
					t.Errorf("404: span status %v, want unset", root.Status())
				}
			}
		}

		// The meter's flush is a trace of its own, even when called under a
		// request's span, with its statements under it.
		reset()
		reqCtx, reqSpan := otel.Tracer("test").Start(context.Background(), "a request")
		if err := svc.Flush(reqCtx); err != nil {
			t.Fatal(err)
		}
		reqSpan.End()
		var flush sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.Name() == "usersvc.usage.flush" {
				flush = s
			}
		}
		if flush == nil || flush.Parent().IsValid() || flush.SpanContext().TraceID() == reqSpan.SpanContext().TraceID() {
			t.Fatalf("the flush's span: %v (spans %v)", flush, names(rec.Ended()))
		}
		under := 0
		for _, s := range rec.Ended() {
			if s.Parent().SpanID() == flush.SpanContext().SpanID() {
				under++
			}
		}
		if under == 0 {
			t.Errorf("no statement under the flush's span: %v", names(rec.Ended()))
		}

		// A GraphQL error that answers the caller (a user not found)
		// leaves the operation's span status unset.
		reset()
		opStatus := func(name string) codes.Code {
			for _, s := range rec.Ended() {
				if s.Name() == name {
					return s.Status().Code
				}
			}
			t.Fatalf("no span %q: %v", name, names(rec.Ended()))
			return 0
		}
		testenv.Do(t, h, "POST", "/graphql", e.AdminToken, `{"query":"query Missing { user(id: \"usr-nobody\") { id } }"}`)
		if c := opStatus("query Missing"); c != codes.Unset {
			t.Errorf("GraphQL not found: operation span status %v, want unset", c)
		}

		// A database failure sets the server span's status to error, and
		// the GraphQL operation's.
		reset()
		st.Close()
		if r := testenv.Do(t, h, "GET", "/api/users/"+e.Bob.ID, e.AdminToken, ""); r.Status < 500 {
			t.Fatalf("with the database closed: %d", r.Status)
		}
		failed := false
		for _, s := range rec.Ended() {
			if s.Name() == "GET /api/users/{userId}" && s.Status().Code == codes.Error {
				failed = true
			}
		}
		if !failed {
			t.Errorf("a database failure left the server span's status unset: %v", names(rec.Ended()))
		}
		testenv.Do(t, h, "POST", "/graphql", e.AdminToken, `{"query":"query Down { user(id: \"`+e.Bob.ID+`\") { id } }"}`)
		if c := opStatus("query Down"); c != codes.Error {
			t.Errorf("GraphQL with the database closed: operation span status %v, want error", c)
		}

		// No secret anywhere: tokens, the password, emails, credentials headers.
		secrets = append(secrets, e.AdminToken, e.AliceToken, "alice passphrase", "alice@example.com", "admin@example.com", "Bearer", "authorization", "$2a$")
		reset()
		if len(all) < 20 {
			t.Fatalf("the secret scan has %d spans: %v", len(all), names(all))
		}
		for _, s := range all {
			text := s.Name()
			for _, a := range s.Attributes() {
				text += " " + string(a.Key) + "=" + a.Value.Emit()
			}
			for _, ev := range s.Events() {
				text += " " + ev.Name
				for _, a := range ev.Attributes {
					text += " " + string(a.Key) + "=" + a.Value.Emit()
				}
			}
			for _, sec := range secrets {
				if strings.Contains(strings.ToLower(text), strings.ToLower(sec)) {
					t.Errorf("span %q holds a secret (%.12s…): %s", s.Name(), sec, text)
				}
			}
		}
	})
}

func names(spans []sdktrace.ReadOnlySpan) string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	b, _ := json.Marshal(out)
	return fmt.Sprint(string(b))
}
