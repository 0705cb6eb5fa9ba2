package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Serve runs the Env's handler on a real loopback TCP server (closed when
// t ends) and returns its base URL. Requests reach it through Client, so
// the server sees each client's own address as the TCP peer.
func (e *Env) Serve(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(e.Handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Client is an HTTP client whose connections leave from a loopback
// address of its own (127.0.0.2, 127.0.0.3, …), so that a server sees
// distinct client addresses.
func Client(t testing.TB, from string) *http.Client {
	t.Helper()
	ip := net.ParseIP(from)
	if ip == nil || !ip.IsLoopback() {
		t.Fatalf("%q is not a loopback address", from)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// DoOver sends one request over the network with c to base and decodes
// the answer like Do.
func DoOver(t testing.TB, c *http.Client, base, method, path, token, body string) *Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&r.JSON); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, b)
		}
	}
	return r
}
