package haproxy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"usersvc"
	"usersvc/deploy/haproxy"
	"usersvc/rest"
)

// restUnavailable is what the service itself answers a client when the
// database is unavailable and the caller is not known.
func restUnavailable(t *testing.T) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	rest.WriteError(rec, httptest.NewRequest(http.MethodGet, "/api/users/me", nil), slog.New(slog.NewTextHandler(io.Discard, nil)), usersvc.Unavailable(errors.New("connection refused")))
	return rec
}

// checkAnswer holds an answer to the errorfile's promises: 503, our
// envelope for "unavailable" byte for byte, Retry-After, JSON.
func checkAnswer(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	want := restUnavailable(t)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "5" || got != want.Header().Get("Retry-After") {
		t.Fatalf("Retry-After %q, want \"5\" (the service's is %q)", got, want.Header().Get("Retry-After"))
	}
	if got := resp.Header.Get("Content-Type"); got != want.Header().Get("Content-Type") {
		t.Fatalf("Content-Type %q, want the service's %q", got, want.Header().Get("Content-Type"))
	}
	if !bytes.Equal(body, want.Body.Bytes()) {
		t.Fatalf("body %q,\nwant the service's %q", body, want.Body.Bytes())
	}
	if want := `{"success":false,"error":"The database is unavailable; try again shortly."}` + "\n"; string(body) != want {
		t.Fatalf("body %q, want %q", body, want)
	}
}

// TestErrorfileIsOurEnvelope: 503.http is a well-formed HTTP response
// whose body is what rest writes for "unavailable", with Retry-After and
// an exact Content-Length.
func TestErrorfileIsOurEnvelope(t *testing.T) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(haproxy.Error503)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Fatalf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
	}
	head := haproxy.Error503[:bytes.Index(haproxy.Error503, []byte("\r\n\r\n"))]
	if bytes.Count(head, []byte("\n")) != bytes.Count(head, []byte("\r\n")) {
		t.Fatal("header lines must end in CRLF")
	}
	checkAnswer(t, resp, body)
}

// freePort is a 127.0.0.1 address free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
