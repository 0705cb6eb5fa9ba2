package graph_test

import (
	"net/url"
	"testing"

	"usersvc/internal/testenv"
)

// BenchmarkUserQuery is make bench's "GraphQL user" request (a caller
// reading themselves) through the whole handler, in-process, on SQLite:
// what it measures is the server's own work per request, the token check
// coming from the cache.
func BenchmarkUserQuery(b *testing.B) {
	e := testenv.Start(b, testenv.BenchDBs(b)[0])
	body := `{"query":"query($id: ID!) { user(id: $id) { id name email country timeZone tags privileges role } }","variables":{"id":"` + e.Alice.ID + `"}}`
	e.Svc.DailyQuota = 1 << 40
	b.ReportAllocs()
	cpu := testenv.ProcessCPU(b)
	for b.Loop() {
		r := e.Do(b, "POST", "/graphql", e.AliceToken, body)
		if r.Status != 200 {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	b.ReportMetric(float64(testenv.ProcessCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkUserQueryGET is the same query as BenchmarkUserQuery sent as a
// GET (the query and variables in the URL), through the whole handler.
func BenchmarkUserQueryGET(b *testing.B) {
	e := testenv.Start(b, testenv.BenchDBs(b)[0])
	q := url.Values{
		"query":     {"query($id: ID!) { user(id: $id) { id name email country timeZone tags privileges role } }"},
		"variables": {`{"id":"` + e.Alice.ID + `"}`},
	}
	path := "/graphql?" + q.Encode()
	e.Svc.DailyQuota = 1 << 40
	b.ReportAllocs()
	cpu := testenv.ProcessCPU(b)
	for b.Loop() {
		r := e.Do(b, "GET", path, e.AliceToken, "")
		if r.Status != 200 {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	b.ReportMetric(float64(testenv.ProcessCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}
