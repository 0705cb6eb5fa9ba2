package server_test

import (
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/playground"
	"usersvc/server"
)

// TestMetricRouteLabels: the route label is the route's path pattern, the
// same way for every route, /graphql included; the method is its own label
// and never inside route; every request no route serves is "unmatched";
// odd methods are "other". The whole label set is written out here.
func TestMetricRouteLabels(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		m := server.NewMetrics(nil)
		h := server.New(e.Svc, server.Config{Metrics: m, MetricsToken: "s3cret", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		alice := "/api/users/" + e.Alice.ID
		for _, rq := range []struct{ method, path, body string }{
			{"GET", "/", ""},
			{"GET", "/healthz", ""},
			{"GET", "/readyz", ""},
			{"GET", "/playground", ""},
			{"GET", "/playground/graphiql.js", ""},
			{"GET", "/api/openapi.json", ""},
			{"GET", alice, ""},
			{"GET", "/api/users/usr-nobody", ""},
			{"PATCH", alice, `{"description":"d"}`},
			{"POST", alice, ""}, // 405 from the REST catch-all for one user
			{"GET", "/api/users", ""},
			{"GET", alice + "/history", ""},
			{"POST", "/api/Auth/Token", `{"userName":"x@example.com","password":"nope nope"}`},
			{"GET", "/graphql?query=%7Bme%7Bid%7D%7D", ""},
			{"POST", "/graphql", `{"query":"{ me { id } }"}`},
			{"GET", "/api/nothing/here", ""},
			{"GET", "/no/such/path", ""},
			{"GET", "/wp-admin.php", ""},
			{"BREW", "/healthz", ""},
		} {
			hdrs := []string{}
			if rq.method == "PATCH" {
				hdrs = append(hdrs, "Content-Type: application/merge-patch+json")
			}
			testenv.Do(t, h, rq.method, rq.path, e.AdminToken, rq.body, hdrs...)
		}
		r := testenv.Do(t, h, "GET", "/metrics", "s3cret", "")
		var got []string
		for _, line := range strings.Split(string(r.Body), "\n") {
			if rest, ok := strings.CutPrefix(line, "usersvc_http_requests_total{"); ok {
				got = append(got, rest[:strings.LastIndex(rest, "} ")])
			}
		}
		sort.Strings(got)
		asset := "404"
		if playground.Available() {
			asset = "200"
		}
		want := []string{
			`method="GET",route="/",status="302"`,
			`method="GET",route="/api/openapi.json",status="200"`,
			`method="GET",route="/api/users",status="200"`,
			`method="GET",route="/api/users/{userId}",status="200"`,
			`method="GET",route="/api/users/{userId}",status="404"`,
			`method="GET",route="/api/users/{userId}/history",status="200"`,
			`method="GET",route="/graphql",status="200"`,
			`method="GET",route="/healthz",status="200"`,
			`method="GET",route="/playground",status="200"`,
			`method="GET",route="/playground/",status="` + asset + `"`,
			`method="GET",route="/readyz",status="200"`,
			`method="GET",route="unmatched",status="404"`,
			`method="PATCH",route="/api/users/{userId}",status="200"`,
			`method="POST",route="/api/Auth/Token",status="401"`,
			`method="POST",route="/api/users/{userId}",status="405"`,
			`method="POST",route="/graphql",status="200"`,
			`method="other",route="unmatched",status="405"`,
		}
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("labels:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
