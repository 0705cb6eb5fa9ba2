package server

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultTransferIdle is how long a long transfer (rest.IsTransfer: the
// export, an import's upload, an import's failed lines) may go without
// moving a byte before it is cut.
const DefaultTransferIdle = 60 * time.Second

// serveTransfer runs a long transfer under an idle bound instead of the
// request deadline and the server's read and write timeouts, which would
// cut a big export or upload half-way however fast it moves: every byte
// read from the body or written to the answer pushes the connection's read
// and write deadlines, and the request's context, idle further away. A
// transfer that stalls that long (a client that stops reading or sending,
// a database that stops answering) fails with a timeout.
func serveTransfer(idle time.Duration, next http.Handler, w http.ResponseWriter, r *http.Request) {
	ctx := newIdleContext(r.Context(), idle)
	defer ctx.end(context.Canceled)
	p := &progress{rc: http.NewResponseController(w), ctx: ctx, idle: idle}
	p.moved()
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &progressBody{ReadCloser: r.Body, p: p}
	}
	next.ServeHTTP(&progressWriter{ResponseWriter: w, p: p}, r.WithContext(ctx))
}

// progress pushes a transfer's deadlines on as bytes move.
type progress struct {
	rc   *http.ResponseController
	ctx  *idleContext
	idle time.Duration
}

func (p *progress) moved() {
	until := time.Now().Add(p.idle)
	// Both ways: while an export is written the server still reads the
	// connection (to notice a client that leaves), and a read deadline
	// that passes there cancels the request.
	_ = p.rc.SetReadDeadline(until)
	_ = p.rc.SetWriteDeadline(until)
	p.ctx.touch()
}

type progressBody struct {
	io.ReadCloser
	p *progress
}

func (b *progressBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if n > 0 {
		b.p.moved()
	}
	return n, err
}

type progressWriter struct {
	http.ResponseWriter
	p *progress
}

func (w *progressWriter) Write(buf []byte) (int, error) {
	w.p.moved() // before: the write itself may wait up to idle
	return w.ResponseWriter.Write(buf)
}

func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idleContext is done when its parent is, or when touch has not been
// called for idle; then its Err is context.DeadlineExceeded, so storage
// calls made with it answer a timeout (503), as past a request deadline.
// Its deadline is its parent's (none, for a request).
type idleContext struct {
	context.Context
	idle  time.Duration
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
	timer *time.Timer
	stop  func() bool
}

func newIdleContext(parent context.Context, idle time.Duration) *idleContext {
	c := &idleContext{Context: parent, idle: idle, done: make(chan struct{})}
	// Both callbacks may run before these assignments return (a parent
	// already done: a client that closed its socket at once), and end
	// reads the two under mu: it waits for them here.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = time.AfterFunc(idle, func() { c.end(context.DeadlineExceeded) })
	c.stop = context.AfterFunc(parent, func() { c.end(parent.Err()) })
	return c
}

func (c *idleContext) touch() { c.timer.Reset(c.idle) }

func (c *idleContext) end(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		timer, stop := c.timer, c.stop
		c.mu.Unlock()
		close(c.done)
		timer.Stop()
		stop()
	})
}

func (c *idleContext) Done() <-chan struct{} { return c.done }

func (c *idleContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
