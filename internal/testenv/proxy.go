package testenv

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a loopback TCP proxy in front of a database for outage tests:
// Freeze stops forwarding in both directions while every socket stays open
// (a frozen or partitioned server), Cut closes the listener and every
// connection (connections are refused), Resume undoes either; LoseAnswer
// loses the answer to one statement.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	frozen bool
	thaw   chan struct{}
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
	// lose, when set, is the text of a statement whose answer is lost
	// (LoseAnswer).
	lose []byte
}

// pair is one proxied connection; lost is set once the statement whose
// answer is to be lost went through it.
type pair struct{ lost atomic.Bool }

// NewProxy starts a proxy to target (host:port); it stops when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String(), thaw: make(chan struct{}), conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.unfreeze() // let held data go, so nothing waits on the proxy (never listening again: the port may be another's by now)
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// ProxyURL returns dbURL (a postgres:// URL) with its host replaced by the
// proxy's address.
func (p *Proxy) ProxyURL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		p.t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				continue
			}
			p.wg.Add(2)
			pr := &pair{}
			go p.pipe(c, up, pr, true)
			go p.pipe(up, c, pr, false)
		}
	}()
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil { // cut meanwhile
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

// pipe copies src to dst, holding every chunk while the proxy is frozen.
// From the client, a chunk holding the statement LoseAnswer names is
// passed on and marks the pair; from the server, the next chunk of a
// marked pair is dropped and both connections closed.
func (p *Proxy) pipe(src, dst net.Conn, pr *pair, fromClient bool) {
	defer p.wg.Done()
	defer src.Close()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen, thaw := p.frozen, p.thaw
			p.mu.Unlock()
			if frozen {
				<-thaw
			}
			if fromClient {
				p.mu.Lock()
				if p.lose != nil && bytes.Contains(buf[:n], p.lose) {
					p.lose = nil
					pr.lost.Store(true)
				}
				p.mu.Unlock()
			} else if pr.lost.Load() {
				return // the deferred closes hang up on both
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// LoseAnswer makes the proxy pass on the next statement containing text
// (sent as text: a store with NoPrepare) and lose its answer: the client's
// connection is closed when the server answers, as when a primary dies
// after a commit and before its answer left.
func (p *Proxy) LoseAnswer(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose = []byte(text)
}

// Freeze stops forwarding; connections stay open and new ones are accepted.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// Cut closes the listener and every connection: new connections are refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen { // held data meets closed connections and is dropped
		p.frozen = false
		close(p.thaw)
		p.thaw = make(chan struct{})
	}
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// Resume forwards again after Freeze, and listens again after Cut.
func (p *Proxy) Resume() {
	if cut := p.unfreeze(); cut {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			p.t.Fatalf("proxy: listening again on %s: %v", p.addr, err)
		}
		p.serve(ln)
	}
}

// unfreeze lets held data go and reports whether the proxy is cut (not
// listening).
func (p *Proxy) unfreeze() (cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
		p.thaw = make(chan struct{})
	}
	return p.ln == nil
}

// PostgresAddr returns the host:port of a postgres:// URL (port 5432 when
// it names none); a URL without a TCP host skips the test.
func PostgresAddr(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() == "" {
		t.Skip("the PostgreSQL URL names no TCP host to put a proxy in front of")
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}
