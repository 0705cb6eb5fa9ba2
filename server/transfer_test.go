package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/moving"
	"usersvc/rest"
	"usersvc/server"
)

// Small bounds, so that the tests outlast them in a second or two: the
// request deadline and the server's read and write timeouts that used to
// cut long transfers, and the idle bound that replaces them there.
const (
	testDeadline = 200 * time.Millisecond
	testRW       = 300 * time.Millisecond
	testIdle     = 2 * time.Second
)

// smallBuffers keeps each accepted connection's send buffer small, so that
// an answer cannot sit whole in the kernel's buffers while the client is
// still reading: the server writes at the client's pace.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(32 << 10)
	}
	return c, err
}

// serveSmall serves h over loopback TCP with small socket buffers and the
// given idle bound, the test deadline and the test read/write timeouts.
func serveSmall(t *testing.T, e *testenv.Env, idle time.Duration) (string, *http.Client) {
	t.Helper()
	h := server.New(e.Svc, server.Config{RequestTimeout: testDeadline, TransferIdleTimeout: idle, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Imports: e.Jobs})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewHTTPServer("", h, server.Timeouts{ReadHeader: time.Second, Read: testRW, Write: testRW, Idle: 5 * time.Second})
	go func() { _ = srv.Serve(smallBuffers{ln}) }()
	t.Cleanup(func() { srv.Close() })
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(32 << 10)
		}
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return "http://" + ln.Addr().String(), &http.Client{Transport: tr}
}

// seed imports n users (u00000…) besides the Env's three.
func seed(t *testing.T, svc *usersvc.Service, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"u%05d","name":"User %d","email":"u%05d@example.com","country":"ES","timeZone":"Europe/Madrid"}`+"\n", i, i, i)
	}
	c, err := moving.Import(usersvc.SystemContext(context.Background()), svc, strings.NewReader(b.String()), moving.Options{})
	if err != nil || c.Created != int64(n) {
		t.Fatalf("seed: %v %+v", err, c)
	}
}

func get(t *testing.T, c *http.Client, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestExportSlowReader: a client reading an export slowly, pausing between
// small reads for far longer in all than the request deadline and the
// write timeout, gets every line and a clean end (it used to get a clean
// end after part of them, the last line cut).
func TestExportSlowReader(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const users = 1500 // two pages of the export's reads
		seed(t, e.Svc, users)
		base, c := serveSmall(t, e, testIdle)
		res := get(t, c, base+"/api/users/export", e.AdminToken)
		if res.StatusCode != 200 {
			t.Fatalf("export: %d", res.StatusCode)
		}
		const pause = 20 * time.Millisecond
		var body bytes.Buffer
		buf := make([]byte, 8<<10)
		reads := 0
		for {
			n, err := res.Body.Read(buf)
			body.Write(buf[:n])
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", body.Len(), err)
			}
			if reads++; reads > 10_000 {
				t.Fatal("the export does not end")
			}
			time.Sleep(pause)
		}
		if slept := time.Duration(reads) * pause; slept < 2*(testDeadline+testRW) {
			t.Fatalf("the client paused %v in all: not past the old bounds, so this proves nothing", slept)
		}
		lines := strings.Split(strings.TrimSuffix(body.String(), "\n"), "\n")
		if len(lines) != users+3 {
			t.Fatalf("%d lines, want %d", len(lines), users+3)
		}
		for i, l := range lines {
			var v struct{ ID string }
			if err := json.Unmarshal([]byte(l), &v); err != nil || v.ID == "" {
				t.Fatalf("line %d: %v: %.80s", i+1, err, l)
			}
		}
	})
}

// failingStore fails every read of users after the first page.
type failingStore struct{ usersvc.Store }

func (s failingStore) UsersAfter(ctx context.Context, after string, limit int) ([]*usersvc.User, error) {
	if after != "" {
		return nil, errors.New("the disk is on fire")
	}
	return s.Store.UsersAfter(ctx, after, limit)
}

// TestExportFailsVisibly: an export whose database read fails after the
// first page was sent is cut, and the client sees an error, not a clean
// end of a shorter export.
func TestExportFailsVisibly(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		seed(t, e.Svc, 1000)
		svc := usersvc.NewService(failingStore{e.Store})
		svc.Now = e.Clock.Now
		svc.BcryptCost = bcrypt.MinCost
		var logs testenv.SyncBuffer
		srv := server.NewHTTPServer("", server.New(svc, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}), server.DefaultTimeouts())
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
		res := get(t, http.DefaultClient, "http://"+ln.Addr().String()+"/api/users/export", e.AdminToken)
		body, err := io.ReadAll(res.Body)
		if res.StatusCode != 200 || len(body) == 0 {
			t.Fatalf("export: %d, %d bytes", res.StatusCode, len(body))
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("reading an export that failed after %d bytes: %v, want an unexpected EOF", len(body), err)
		}
		if !strings.Contains(logs.String(), "the disk is on fire") || !strings.Contains(logs.String(), "msg=request") {
			t.Fatalf("the cause or the request line is not logged:\n%s", logs.String())
		}
	})
}

// TestImportSlowUpload: an upload that takes longer than the request
// deadline and the read timeout, but never pauses for the idle bound,
// arrives whole and is imported.
func TestImportSlowUpload(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		base, c := serveSmall(t, e, testIdle)
		const lines, pause = 40, 25 * time.Millisecond // 1 s in all
		pr, pw := io.Pipe()
		go func() {
			for i := range lines {
				fmt.Fprintf(pw, `{"id":"s%02d","name":"Slow %d","email":"s%02d@example.com","country":"ES","timeZone":"UTC"}`+"\n", i, i, i)
				time.Sleep(pause)
			}
			pw.Close()
		}()
		req, err := http.NewRequest("POST", base+"/api/users/import", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.AdminToken)
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 202 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		loc := res.Header.Get("Location")
		for range 500 {
			r := testenv.DoOver(t, c, base, "GET", loc, e.AdminToken, "")
			if r.JSON["status"] == "running" {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if r.JSON["status"] != "completed" || r.Int(t, "created") != lines {
				t.Fatalf("job: %s", r.Body)
			}
			return
		}
		t.Fatal("the job still runs after 10 s")
	})
}

// TestImportStalledUpload: an upload that stops sending for longer than
// the idle bound is refused, and nothing is imported.
func TestImportStalledUpload(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		base, c := serveSmall(t, e, testRW)
		pr, pw := io.Pipe()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			fmt.Fprintln(pw, `{"id":"st1","name":"Stalled","email":"st1@example.com","country":"ES","timeZone":"UTC"}`)
			select { // then nothing, until the test ends (at most 10 s)
			case <-stop:
			case <-time.After(10 * time.Second):
			}
			pw.CloseWithError(errors.New("the client gave up"))
		}()
		req, err := http.NewRequest("POST", base+"/api/users/import", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.AdminToken)
		req.Header.Set("Content-Type", "application/x-ndjson")
		if res, err := c.Do(req); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode < 400 {
				t.Fatalf("a stalled upload: %d %s", res.StatusCode, b)
			}
		}
		if r := e.Do(t, "GET", "/api/users/st1", e.AdminToken, ""); r.Status != 404 {
			t.Fatalf("the stalled upload's user: %d %s", r.Status, r.Body)
		}
	})
}

// TestIsTransfer: the routes that run under the idle bound, and no other.
func TestIsTransfer(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/api/users/export", true},
		{"POST", "/api/users/import", true},
		{"GET", "/api/users/import/imp-abc/errors", true},
		{"GET", "/api/users/import/imp-abc", false},
		{"DELETE", "/api/users/import/imp-abc", false},
		{"GET", "/api/users/import//errors", false},
		{"GET", "/api/users/import/a/b/errors", false},
		{"POST", "/api/users/export", false},
		{"GET", "/api/users/usr-1", false},
		{"POST", "/api/users", false},
	} {
		r, _ := http.NewRequest(tc.method, "http://x"+tc.path, nil)
		if got := rest.IsTransfer(r); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
