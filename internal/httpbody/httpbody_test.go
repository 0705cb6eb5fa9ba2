package httpbody_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"usersvc"
	"usersvc/internal/httpbody"
)

func TestReadRequest(t *testing.T) {
	const limit = 1 << 20 // 1 MiB, as documented for every write
	for _, tc := range []struct {
		name          string
		size          int
		contentLength int64 // -1: unknown (chunked)
		code          string
		msg           string
	}{
		{"empty", 0, 0, "", ""},
		{"at the limit", limit, limit, "", ""},
		{"at the limit, length unknown", limit, -1, "", ""},
		{"one byte over", limit + 1, limit + 1, usersvc.ETooLarge, "Request body is too large (limit 1048576 bytes)."},
		{"one byte over, length unknown", limit + 1, -1, usersvc.ETooLarge, "Request body is too large (limit 1048576 bytes)."},
		{"declared over, body short", 10, limit + 1, usersvc.ETooLarge, "Request body is too large (limit 1048576 bytes)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", tc.size)))
			r.ContentLength = tc.contentLength
			b, err := httpbody.ReadRequest(r)
			if tc.code == "" {
				if err != nil || len(b) != tc.size {
					t.Fatalf("got %d bytes, %v; want %d bytes", len(b), err, tc.size)
				}
				return
			}
			var e *usersvc.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Error() != tc.msg || b != nil {
				t.Fatalf("got %d bytes, %#v; want %s %q", len(b), err, tc.code, tc.msg)
			}
		})
	}
}

// A body over the limit is read one byte past it and no further.
func TestReadStopsPastLimit(t *testing.T) {
	r := &countingReader{r: strings.NewReader(strings.Repeat("x", 3<<20))}
	if _, err := httpbody.Read(r); usersvc.ErrorCode(err) != usersvc.ETooLarge {
		t.Fatalf("got %v, want too large", err)
	}
	if r.n != 1<<20+1 {
		t.Fatalf("read %d bytes, want %d", r.n, 1<<20+1)
	}
}

// A declared Content-Length over the limit is refused before any read.
func TestReadRequestDeclaredTooLargeReadsNothing(t *testing.T) {
	body := &countingReader{r: strings.NewReader("{}")}
	r := httptest.NewRequest("POST", "/", body)
	r.ContentLength = 2 << 20
	if _, err := httpbody.ReadRequest(r); usersvc.ErrorCode(err) != usersvc.ETooLarge {
		t.Fatalf("got %v, want too large", err)
	}
	if body.n != 0 {
		t.Fatalf("read %d bytes of a body declared too large", body.n)
	}
}

func TestReadFailure(t *testing.T) {
	_, err := httpbody.Read(iotest.ErrReader(errors.New("connection reset")))
	var e *usersvc.Error
	if !errors.As(err, &e) || e.Code != usersvc.EInvalid || e.Error() != "Could not read the request body." {
		t.Fatalf("got %#v", err)
	}
	if es := e.Localize("es"); es != "No se pudo leer el cuerpo de la petición." {
		t.Fatalf("Spanish: %q", es)
	}
}

func TestReadRequestNoBody(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Body = nil
	if b, err := httpbody.ReadRequest(r); b != nil || err != nil {
		t.Fatalf("got %q, %v", b, err)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
