package main

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"time"
)

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
	// A trace is a request or a usage flush that read or wrote: nothing
	// else makes one (an idle flush, a statement outside any request).
	// A trace whose root has not arrived yet is skipped.
	for _, t := range traces {
		if r := t.root(); r != nil && r.kind() != "server" && !isFlush(t) {
			return fmt.Errorf("trace %s is neither a request nor a usage flush that wrote: root %q, spans %v", t.TraceID, r.OperationName, t.names())
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

// flushTraces counts the meter's flushes that wrote (a trace rooted at
// usersvc.usage.flush with a statement in it).
func flushTraces(traces []jTrace) int {
	n := 0
	for _, t := range traces {
		if isFlush(t) {
			n++
		}
	}
	return n
}

// isFlush: t is rooted at usersvc.usage.flush and has a statement in it.
func isFlush(t jTrace) bool {
	r := t.root()
	return r != nil && r.OperationName == "usersvc.usage.flush" && t.has(func(s jSpan) bool { return s.tag("db.system.name") != "" })
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
