package main

// The load through the balancer: writes that each add a distinct tag (so
// every acknowledged one can be read back), reads by users with their own
// tokens (so their apiUsage can be checked), every answer recorded.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type client struct {
	base string
	http *http.Client
}

// answer is one HTTP exchange's outcome.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
	err    error
}

func (cl *client) do(method, path, token, ctype, body string) answer {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if a.body, a.err = io.ReadAll(resp.Body); a.err != nil {
		return a
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.UseNumber()
	_ = dec.Decode(&a.json)
	return a
}

// envelopeProblem says what is wrong with a failed answer, "" when it is
// our JSON envelope for a database outage: 503, Retry-After, JSON with
// success false and an error.
func envelopeProblem(a answer) string {
	switch {
	case a.err != nil:
		return "no answer: " + a.err.Error()
	case a.status != 503:
		return fmt.Sprintf("status %d: %.200s", a.status, a.body)
	case a.header.Get("Retry-After") == "":
		return fmt.Sprintf("503 without Retry-After: %.200s", a.body)
	case !strings.HasPrefix(a.header.Get("Content-Type"), "application/json"):
		return fmt.Sprintf("503 as %s: %.200s", a.header.Get("Content-Type"), a.body)
	case a.json["success"] != false || a.json["error"] == nil:
		return fmt.Sprintf("503 not our envelope: %.200s", a.body)
	}
	return ""
}

// fromReplica reports whether a replica (not the balancer) wrote the
// answer: the service sets X-Request-Id on every answer, HAProxy's
// errorfile has none.
func fromReplica(a answer) bool {
	return a.err == nil && a.header.Get("X-Request-Id") != ""
}

// metered reports whether a replica counted the request in the caller's
// usage: its answer carries the caller's apiUsage (a replica that could
// not tell who called, the database being out, counted nothing).
func metered(a answer) bool {
	_, ok := a.json["apiUsage"]
	return a.err == nil && ok
}

type loadUser struct {
	id, token string
	mu        sync.Mutex
	tags      []string // acknowledged
	// counted: requests a replica answered with this user's token;
	// unknown: requests whose answer never came (counted or not).
	counted, unknown int64
}

// load is the running load and what it recorded.
type load struct {
	cl     *client
	admin  string
	users  []*loadUser // tags are added to these
	meters []*loadUser // these read themselves
	seq    atomic.Int64

	mu        sync.Mutex
	acks      []time.Time // acknowledged writes' answers
	writes    int
	reads     int
	failed    int                    // failed requests, all kinds
	failedW   int                    // failed writes
	proxyW    int                    // failed writes HAProxy answered (no replica ready or live)
	full      int                    // writes not sent: the user picked had all its tags
	byReplica int                    // failures a replica answered (the rest: HAProxy, every replica out)
	failTimes map[string][]time.Time // by kind ("PATCH", "GET")
	bad       []string
	badCount  int
	endedWith map[int]int // failures by status
}

func (l *load) fail(what string, a answer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed++
	l.endedWith[a.status]++
	kind, _, _ := strings.Cut(what, " ")
	switch {
	case fromReplica(a):
		l.byReplica++
	case kind == "PATCH":
		l.proxyW++
	}
	l.failTimes[kind] = append(l.failTimes[kind], time.Now())
	if p := envelopeProblem(a); p != "" {
		l.badCount++
		if len(l.bad) < 10 {
			l.bad = append(l.bad, what+": "+p)
		}
	}
}

// writer adds distinct tags (admin PATCHes) to random users until ctx ends.
func (l *load) writer(ctx context.Context) {
	for ctx.Err() == nil {
		u := l.users[randInt(len(l.users))]
		u.mu.Lock()
		full := len(u.tags) >= 95
		u.mu.Unlock()
		if full {
			l.mu.Lock()
			l.full++
			l.mu.Unlock()
			time.Sleep(30 * time.Millisecond)
			continue
		}
		k := fmt.Sprintf("t%d", l.seq.Add(1))
		a := l.cl.do("PATCH", "/api/users/"+u.id, l.admin, "application/json-patch+json", fmt.Sprintf(`[{"op":"add","path":"/tags/%s","value":"v"}]`, k))
		l.mu.Lock()
		l.writes++
		l.mu.Unlock()
		if a.err != nil || a.status != 200 {
			l.mu.Lock()
			l.failedW++
			l.mu.Unlock()
			l.fail("PATCH "+u.id, a)
		} else {
			now := time.Now()
			u.mu.Lock()
			u.tags = append(u.tags, k)
			u.mu.Unlock()
			l.mu.Lock()
			l.acks = append(l.acks, now)
			l.mu.Unlock()
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// reader reads the metered users with their own tokens until ctx ends.
func (l *load) reader(ctx context.Context) {
	for ctx.Err() == nil {
		u := l.meters[randInt(len(l.meters))]
		a := l.cl.do("GET", "/api/users/"+u.id, u.token, "", "")
		u.mu.Lock()
		switch {
		case a.err != nil:
			u.unknown++
		case metered(a):
			u.counted++
		}
		u.mu.Unlock()
		l.mu.Lock()
		l.reads++
		l.mu.Unlock()
		if a.err != nil || a.status != 200 {
			l.fail("GET "+u.id, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failuresWithin counts the failures of kind between from and to.
func (l *load) failuresWithin(kind string, from, to time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, t := range l.failTimes[kind] {
		if !t.Before(from) && !t.After(to) {
			n++
		}
	}
	return n
}

func (l *load) ackTimes() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := slices.Clone(l.acks)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return ts
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}
