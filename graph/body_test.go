package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"usersvc/internal/testenv"
)

// stream is a request body of n bytes that counts how many were read: a
// prefix, then filler.
type stream struct {
	prefix string
	n      int64
	read   int64
}

func (s *stream) Read(p []byte) (int, error) {
	if s.read >= s.n {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n-s.read {
		p = p[:s.n-s.read]
	}
	for i := range p {
		if off := s.read + int64(i); off < int64(len(s.prefix)) {
			p[i] = s.prefix[off]
		} else {
			p[i] = 'a'
		}
	}
	s.read += int64(len(p))
	return len(p), nil
}

// send serves one request with body through h and decodes the answer.
func send(t *testing.T, h http.Handler, method, target, token string, body io.Reader, contentLength int64, headers ...string) *testenv.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.ContentLength = contentLength
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for _, hv := range headers {
		k, v, _ := strings.Cut(hv, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := &testenv.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if err := json.Unmarshal(res.Body, &res.JSON); err != nil {
		t.Fatalf("answer is not JSON: %v: %.300s", err, res.Body)
	}
	return res
}

// TestBodyLimit: /graphql bodies are capped at 1 MiB like REST's, on GET and
// POST: a declared length over it is refused unread, a longer stream is
// read one byte past the limit and no further.
func TestBodyLimit(t *testing.T) {
	const tenMiB = 10 << 20
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, method := range []string{"POST", "GET"} {
			for _, declared := range []bool{true, false} {
				name := method + "/streamed"
				if declared {
					name = method + "/declared"
				}
				t.Run(name, func(t *testing.T) {
					body := &stream{prefix: `{"query":"{ me { id } }","x":"`, n: tenMiB}
					cl := int64(-1)
					if declared {
						cl = tenMiB
					}
					r := send(t, e.Handler, method, "/graphql?query=%7Bme%7Bid%7D%7D", e.AliceToken, body, cl)
					if r.Status != 413 || errCode(r) != "TOO_LARGE" || errMessage(r) != "Request body is too large (limit 1048576 bytes)." {
						t.Fatalf("status %d code %q: %.300s", r.Status, errCode(r), r.Body)
					}
					if declared && body.read != 0 {
						t.Fatalf("read %d bytes of a body declared too large", body.read)
					}
					if body.read > 1<<20+1 {
						t.Fatalf("read %d bytes, more than the limit and one", body.read)
					}
					if len(r.Body) > 512 || bytes.Contains(r.Body, []byte("aaaa")) {
						t.Fatalf("answer echoes the body: %.300s", r.Body)
					}
				})
			}
		}
		t.Run("exactly the limit runs", func(t *testing.T) {
			q := `{"query":"{ me { id } }"}`
			body := q + strings.Repeat(" ", 1<<20-len(q))
			r := e.Do(t, "POST", "/graphql", e.AliceToken, body)
			if r.Status != 200 || errCode(r) != "" || !strings.Contains(string(r.Body), e.Alice.ID) {
				t.Fatalf("status %d: %.300s", r.Status, r.Body)
			}
		})
		t.Run("graphql-response+json", func(t *testing.T) {
			r := send(t, e.Handler, "POST", "/graphql", e.AliceToken, &stream{n: tenMiB}, tenMiB, "Accept: application/graphql-response+json")
			if r.Status != 413 || errCode(r) != "TOO_LARGE" || r.Header.Get("Content-Type") != "application/graphql-response+json" {
				t.Fatalf("status %d, %s: %.300s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
		})
	})
}

// TestRESTBodyLimit: the same limit on REST writes, without reading a body
// declared too large.
func TestRESTBodyLimit(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for _, tc := range []struct{ method, path string }{
			{"PUT", "/api/users/" + e.Alice.ID},
			{"POST", "/api/users"},
		} {
			for _, declared := range []bool{true, false} {
				body := &stream{prefix: `{"name":"`, n: 10 << 20}
				cl := int64(-1)
				if declared {
					cl = body.n
				}
				r := send(t, e.Handler, tc.method, tc.path, e.AdminToken, body, cl)
				if r.Status != 413 || r.JSON["error"] != "Request body is too large (limit 1048576 bytes)." {
					t.Fatalf("%s %s declared=%v: %d %.300s", tc.method, tc.path, declared, r.Status, r.Body)
				}
				if declared && body.read != 0 || body.read > 1<<20+1 {
					t.Fatalf("%s %s declared=%v: read %d bytes", tc.method, tc.path, declared, body.read)
				}
			}
		}
	})
}

// TestNoEcho: no answer quotes a request body back. Bodies that do not
// decode get one fixed message; parse and validation messages are short.
func TestNoEcho(t *testing.T) {
	const marker = "MARKERxMARKER"
	big := strings.Repeat("z", 4000)
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		bad := []string{
			`[{"query":"{ me { id } }","x":"` + marker + `"},{"query":"{ me { id } }"}]`,
			`{"query": 1, "x": "` + marker + `"}`,
			`not json ` + marker,
			`{"query":"{ me { id } }","variables":"` + marker + `"}`,
			`{"query":"{ me { id } }","extensions":["` + marker + `"]}`,
			`{"query":"{ me { id } }", "x": "` + marker,
		}
		for i, body := range bad {
			for _, accept := range []string{"application/json", "application/graphql-response+json"} {
				r := e.Do(t, "POST", "/graphql", e.AliceToken, body, "Accept: "+accept)
				if r.Status != 400 || errCode(r) != "INVALID" || errMessage(r) != `The request body must be one JSON object with a GraphQL "query".` ||
					bytes.Contains(r.Body, []byte("MARKER")) || r.Header.Get("Content-Type") != accept {
					t.Fatalf("body %d, %s: %d %s %s", i, accept, r.Status, r.Header.Get("Content-Type"), r.Body)
				}
			}
		}
		if r := e.Do(t, "GET", "/graphql?query=%7Bme%7Bid%7D%7D&x=%zz"+marker, e.AliceToken, ""); r.Status != 400 || errMessage(r) != "The query string is malformed." || bytes.Contains(r.Body, []byte("MARKER")) {
			t.Fatalf("bad query string: %d %s", r.Status, r.Body)
		}
		// Parse and validation errors name what they found, but never at length.
		for _, q := range []string{
			`{ me { id } } "` + big + `"`,
			`{ me { ` + big + ` } }`,
			`{ user(id: "x", ` + big + `: 1) { id } }`,
		} {
			for _, method := range []string{"POST", "GET"} {
				var r *testenv.Response
				if method == "POST" {
					r = e.GraphQL(t, e.AliceToken, q, nil)
				} else {
					r = e.Do(t, "GET", "/graphql?query="+strings.ReplaceAll(strings.ReplaceAll(q, " ", "+"), `"`, "%22"), e.AliceToken, "")
				}
				if errCode(r) == "" || len(errMessage(r)) > 256 || bytes.Contains(r.Body, []byte(big[:300])) {
					t.Fatalf("%s %.40s: %d %.400s", method, q, r.Status, r.Body)
				}
			}
		}
	})
}
