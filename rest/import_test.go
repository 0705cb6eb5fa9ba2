package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
)

const ndjson = "Content-Type: application/x-ndjson"

// waitJob polls a job until it is no longer running (bounded: 10 s).
func waitJob(t *testing.T, e *testenv.Env, location string) *testenv.Response {
	t.Helper()
	for range 500 {
		r := e.Do(t, "GET", location, e.AdminToken, "")
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", location, r.Status, r.Body)
		}
		if r.JSON["status"] != "running" {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s still running after 10 s", location)
	return nil
}

// TestImportJob: an import over HTTP is a job: 202 and Location, status
// with counters, the failed lines as NDJSON (never the hash), the same job
// for the same Idempotency-Key, and the importing admin in each imported
// user's history.
func TestImportJob(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		body := strings.Join([]string{
			`{"id":"5001","name":"Ana","email":"ana@example.com","country":"ES","timeZone":"UTC","passwordHash":"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"}`,
			`{"id":"5002","name":"Ben","email":"ben@example.com","country":"ES","timeZone":"UTC","passwordHash":"$1$broken"}`,
			`{"id":"5003","name":"Cy","email":"cy@example.com","country":"ES","timeZone":"UTC"}`,
		}, "\n")
		r := e.Do(t, "POST", "/api/users/import", e.AdminToken, body, ndjson, "Idempotency-Key: first")
		loc := r.Header.Get("Location")
		if r.Status != 202 || !strings.HasPrefix(loc, "/api/users/import/imp-") || r.JSON["status"] != "running" || r.JSON["success"] != true {
			t.Fatalf("start: %d %v %s", r.Status, r.Header, r.Body)
		}
		done := waitJob(t, e, loc)
		if done.JSON["status"] != "completed" || done.Int(t, "lines") != 3 || done.Int(t, "created") != 2 || done.Int(t, "failed") != 1 || done.JSON["finished"] == nil {
			t.Fatalf("job: %s", done.Body)
		}
		errs := e.Do(t, "GET", loc+"/errors", e.AdminToken, "")
		if errs.Status != 200 || errs.Header.Get("Content-Type") != "application/x-ndjson" ||
			strings.TrimSpace(string(errs.Body)) != `{"line":2,"field":"passwordHash","code":"invalid","message":"malformed md5-crypt hash (want $1$SALT$HASH)"}` {
			t.Fatalf("errors: %d %v %s", errs.Status, errs.Header, errs.Body)
		}
		if done.Int(t, "bytes") != int64(len(body)) {
			t.Fatalf("the job's bytes: %d, want the body's %d", done.Int(t, "bytes"), len(body))
		}
		// The same key and request: the same job, nothing imported again.
		again := e.Do(t, "POST", "/api/users/import", e.AdminToken, body, ndjson, "Idempotency-Key: first")
		if again.Status != 202 || again.Header.Get("Location") != loc || again.JSON["status"] != "completed" || again.Int(t, "created") != 2 {
			t.Fatalf("same key: %d %v %s", again.Status, again.Header, again.Body)
		}
		// The same key with another body, mode or dryRun: 422, nothing read
		// into a job, nothing imported.
		other := `{"name":"Di","email":"di@example.com","country":"ES","timeZone":"UTC"}`
		for _, tc := range []struct{ name, query, body string }{
			{"another body", "", other}, {"another mode", "?mode=upsert", body}, {"a dry run", "?dryRun=true", body}, {"create said aloud", "?mode=create&dryRun=false", body + "\n"},
		} {
			r := e.Do(t, "POST", "/api/users/import"+tc.query, e.AdminToken, tc.body, ndjson, "Idempotency-Key: first")
			if r.Status != 422 || r.JSON["field"] != "Idempotency-Key" ||
				r.JSON["error"] != "This Idempotency-Key was used for another request (another body, mode or dryRun); use a new key for a new import." {
				t.Errorf("same key, %s: %d %s; want 422", tc.name, r.Status, r.Body)
			}
		}
		if r := e.Do(t, "POST", "/api/users/import?mode=create&dryRun=false", e.AdminToken, body, ndjson, "Idempotency-Key: first"); r.Status != 202 || r.Header.Get("Location") != loc {
			t.Fatalf("the same request with its defaults spelled out: %d %s", r.Status, r.Body)
		}
		if r := e.Do(t, "GET", "/api/users?email=di@example.com", e.AdminToken, ""); strings.Contains(string(r.Body), "di@example.com") {
			t.Fatalf("a refused request imported its body: %s", r.Body)
		}
		// The legacy id works, and the admin is in its history.
		if r := e.Do(t, "GET", "/api/users/5001/history", e.AdminToken, ""); r.Status != 200 || !strings.Contains(string(r.Body), `"actor":"`+e.Admin.ID+`","action":"import"`) {
			t.Fatalf("history of 5001: %d %s", r.Status, r.Body)
		}
		// Ana signs in with the imported md5-crypt hash.
		if r := e.Do(t, "POST", "/api/Auth/Token", "", `{"userName":"ana@example.com","password":"Hello world!"}`); r.Status != 200 {
			t.Fatalf("sign-in with the imported hash: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name, method, path, token, body string
			headers                         []string
			status                          int
		}{
			{"not an admin", "POST", "/api/users/import", e.AliceToken, body, []string{ndjson}, 403},
			{"JSON body", "POST", "/api/users/import", e.AdminToken, body, nil, 415},
			{"bad mode", "POST", "/api/users/import?mode=merge", e.AdminToken, body, []string{ndjson}, 400},
			{"bad dryRun", "POST", "/api/users/import?dryRun=maybe", e.AdminToken, body, []string{ndjson}, 400},
			{"another admin's view of a job: Alice", "GET", loc, e.AliceToken, "", nil, 403},
			{"unknown job", "GET", "/api/users/import/imp-nope", e.AdminToken, "", nil, 404},
			{"unknown job's errors", "GET", "/api/users/import/imp-nope/errors", e.AdminToken, "", nil, 404},
			{"not a job route", "GET", "/api/users/" + e.Bob.ID + "/nothing", e.AdminToken, "", nil, 404},
			{"export, not an admin", "GET", "/api/users/export", e.AliceToken, "", nil, 403},
		} {
			if r := e.Do(t, tc.method, tc.path, tc.token, tc.body, tc.headers...); r.Status != tc.status || r.JSON["success"] != false {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}
		// Cancelling a finished job changes nothing.
		if r := e.Do(t, "DELETE", loc, e.AdminToken, ""); r.Status != 200 || r.JSON["status"] != "completed" {
			t.Fatalf("cancel a finished job: %d %s", r.Status, r.Body)
		}
		// Another admin sees the job, its errors, and may cancel it.
		_, ada := e.NewUser(t, "Ada", "ada@example.com", "UTC", usersvc.RoleAdmin)
		for _, tc := range []struct{ method, path string }{{"GET", loc}, {"GET", loc + "/errors"}, {"DELETE", loc}} {
			if r := e.Do(t, tc.method, tc.path, ada, ""); r.Status != 200 {
				t.Errorf("another admin: %s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
			}
		}
	})
}

// TestImportJobCancel: a cancel half-way stops the job; what it committed
// stays, and its counters say exactly what.
func TestImportJobCancel(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var b strings.Builder
		for i := range 20_000 {
			fmt.Fprintf(&b, `{"id":"c%d","name":"N","email":"c%d@example.com","country":"ES","timeZone":"UTC"}`+"\n", i, i)
		}
		r := e.Do(t, "POST", "/api/users/import", e.AdminToken, b.String(), ndjson)
		loc := r.Header.Get("Location")
		if r.Status != 202 {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		if c := e.Do(t, "DELETE", loc, e.AdminToken, ""); c.Status != 200 {
			t.Fatalf("cancel: %d %s", c.Status, c.Body)
		}
		done := waitJob(t, e, loc)
		created := done.Int(t, "created")
		if done.JSON["status"] != "cancelled" || created >= 20_000 {
			t.Fatalf("after the cancel: %s", done.Body)
		}
		var out bytes.Buffer
		if _, err := moving.Export(usersvc.SystemContext(context.Background()), e.Svc, &out, false); err != nil {
			t.Fatal(err)
		}
		if n := int64(strings.Count(out.String(), `"email":"c`)); n != created {
			t.Fatalf("%d users were imported, the job says %d", n, created)
		}
	})
}

// TestExportOverHTTP: GET /api/users/export streams every user as NDJSON
// (hashes only when asked).
func TestExportOverHTTP(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		if r := e.Do(t, "PATCH", path(e.Bob), e.AdminToken, `[{"op":"add","path":"/password","value":"bob's passphrase"}]`, jsonPatch); r.Status != 200 {
			t.Fatal(r.Status)
		}
		for _, tc := range []struct {
			query  string
			hashes bool
		}{{"", false}, {"?withPasswordHashes=true", true}} {
			r := e.Do(t, "GET", "/api/users/export"+tc.query, e.AdminToken, "")
			lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
			if r.Status != 200 || r.Header.Get("Content-Type") != "application/x-ndjson" || len(lines) != 3 {
				t.Fatalf("export%s: %d %v %s", tc.query, r.Status, r.Header, r.Body)
			}
			for _, l := range lines {
				var v map[string]any
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatal(err)
				}
				_, has := v["passwordHash"]
				if want := tc.hashes && v["id"] == e.Bob.ID; has != want {
					t.Fatalf("export%s: %s has passwordHash %v, want %v", tc.query, v["id"], has, want)
				}
			}
		}
	})
}

// TestImportJobsNotRunHere: a handler built without import jobs
// (server.Config.Imports unset) answers their routes 503 with a clear
// message and imports nothing; a user's sub-route still answers 404, and
// the export (no job) still works.
func TestImportJobsNotRunHere(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		h := testenv.NewHandler(e.Svc)
		for _, tc := range []struct{ method, path, body string }{
			{"POST", "/api/users/import", `{"name":"N","email":"n@example.com","country":"ES","timeZone":"UTC"}`},
			{"GET", "/api/users/import/imp-x", ""},
			{"DELETE", "/api/users/import/imp-x", ""},
			{"GET", "/api/users/import/imp-x/errors", ""},
		} {
			r := testenv.Do(t, h, tc.method, tc.path, e.AdminToken, tc.body, ndjson)
			if r.Status != 503 || r.JSON["error"] != "Import jobs do not run in this server; use usersvc import." {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
			}
		}
		if n := len(strings.Split(strings.TrimSpace(string(testenv.Do(t, h, "GET", "/api/users/export", e.AdminToken, "").Body)), "\n")); n != 3 {
			t.Fatalf("export: %d users, want the 3", n)
		}
		if r := testenv.Do(t, h, "GET", "/api/users/"+e.Bob.ID+"/nothing", e.AdminToken, ""); r.Status != 404 {
			t.Fatalf("GET a user's unknown sub-route: %d", r.Status)
		}
	})
}
