package scim_test

import (
	"fmt"
	"net/url"
	"testing"

	"usersvc/internal/testenv"
)

// The SCIM adapter through the whole handler (httptest), each beside the
// REST request bench/run compares it with, on SQLite and (when it
// answers) PostgreSQL, with a few hundred provisioned users stored.
// cpu-ns/op is the process's CPU per request (testenv.ProcessCPU).

// benchUsers provisions n users through SCIM and returns their ids and
// userNames.
func benchUsers(b *testing.B, e *testenv.Env, n int) (ids, names []string) {
	for i := range n {
		name := fmt.Sprintf("bench.user%d", i)
		r := e.Do(b, "POST", users, e.AdminToken, userBody(name, ""))
		if r.Status != 201 {
			b.Fatalf("POST: %d %s", r.Status, r.Body)
		}
		ids, names = append(ids, r.JSON["id"].(string)), append(names, name)
	}
	return ids, names
}

// benchEach runs req(i) for each iteration on every database, and wants
// status back.
func benchEach(b *testing.B, status int, req func(e *testenv.Env, ids, names []string, i int) *testenv.Response) {
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db) // once: -count runs the sub-benchmark again
		e.Svc.DailyQuota = 1 << 40
		ids, names := benchUsers(b, e, 200)
		b.Run(db.Name, func(b *testing.B) {
			b.ReportAllocs()
			start, i := testenv.ProcessCPU(b), 0
			for b.Loop() {
				i++
				if r := req(e, ids, names, i); r.Status != status {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
			b.ReportMetric(float64((testenv.ProcessCPU(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkFilterUserName is Entra's and Okta's lookup, userName eq.
func BenchmarkFilterUserName(b *testing.B) {
	benchEach(b, 200, func(e *testenv.Env, _, names []string, i int) *testenv.Response {
		return e.Do(b, "GET", users+"?filter="+url.QueryEscape(`userName eq "`+names[i%len(names)]+`"`), e.AdminToken, "")
	})
}

// BenchmarkRESTGetOther is the REST read it is compared with.
func BenchmarkRESTGetOther(b *testing.B) {
	benchEach(b, 200, func(e *testenv.Env, ids, _ []string, i int) *testenv.Response {
		return e.Do(b, "GET", "/api/users/"+ids[i%len(ids)], e.AdminToken, "")
	})
}

// BenchmarkPatchActive is Okta's deactivation, alternating false and
// true so that every request changes its user.
func BenchmarkPatchActive(b *testing.B) {
	benchEach(b, 204, func(e *testenv.Env, ids, _ []string, i int) *testenv.Response {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%t}}]}`, (i/len(ids))%2 == 1)
		return e.Do(b, "PATCH", users+"/"+ids[i%len(ids)], e.AdminToken, body, "Content-Type: application/scim+json")
	})
}

// BenchmarkRESTPatchDisabled is the REST write it is compared with.
func BenchmarkRESTPatchDisabled(b *testing.B) {
	benchEach(b, 200, func(e *testenv.Env, ids, _ []string, i int) *testenv.Response {
		body := fmt.Sprintf(`[{"op":"replace","path":"/disabled","value":%t}]`, (i/len(ids))%2 == 0)
		return e.Do(b, "PATCH", "/api/users/"+ids[i%len(ids)], e.AdminToken, body, "Content-Type: application/json-patch+json")
	})
}

// BenchmarkPage is a page of 100 with totalResults.
func BenchmarkPage(b *testing.B) {
	benchEach(b, 200, func(e *testenv.Env, _, _ []string, _ int) *testenv.Response {
		return e.Do(b, "GET", users+"?startIndex=1&count=100", e.AdminToken, "")
	})
}

// BenchmarkRESTPage is the REST page of 100 it is compared with.
func BenchmarkRESTPage(b *testing.B) {
	benchEach(b, 200, func(e *testenv.Env, _, _ []string, _ int) *testenv.Response {
		return e.Do(b, "GET", "/api/users?limit=100", e.AdminToken, "")
	})
}
