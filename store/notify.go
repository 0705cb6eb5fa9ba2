package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"
)

// notifyChannel carries "this user or their tokens changed" between processes.
const notifyChannel = "usersvc_user_changed"

// NotifyUserChanged sends the notice on PostgreSQL (delivered when the
// transaction commits); SQLite serves one process and needs none.
func (s *Store) NotifyUserChanged(ctx context.Context, userID string) (err error) {
	defer internal(&err)
	if s.dialect != dialect.Postgres {
		return nil
	}
	rows, err := s.c().QueryContext(ctx, "SELECT pg_notify($1, $2)", notifyChannel, s.instance+":"+userID)
	if err != nil {
		return err
	}
	return rows.Close()
}

// heartbeatEvery is how often a listener sends itself a heartbeat notice;
// the token cache needs one heard within a second (usersvc.authCache).
const heartbeatEvery = 200 * time.Millisecond

// ListenUserChanges follows other processes' notices on PostgreSQL with a
// lib/pq Listener (it reconnects by itself; live reports whether notices
// can be missed). It also sends itself a heartbeat notice every 200 ms
// through the pool and reports each one that comes back through heard:
// notices arrive in commit order, so everything committed before the
// heartbeat was sent has arrived. On SQLite it returns at once.
func (s *Store) ListenUserChanges(ctx context.Context, changed func(string), live func(bool), heard func(time.Time)) error {
	if s.dialect != dialect.Postgres {
		return nil
	}
	live(false)
	// Every read of the listener's connection is bounded (listenerIdle) and
	// the server is pinged more often than that, so a server that stops
	// answering drops the connection and the listener reconnects instead
	// of waiting for notices that cannot come.
	l := pq.NewDialListener(dialer{idle: listenerIdle}, s.url, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			live(false)
		}
	})
	defer l.Close()
	if err := l.Listen(notifyChannel); err != nil {
		return fmt.Errorf("listening for user changes: %w", err)
	}
	live(true)
	beats := newHeartbeats()
	hbCtx, stopBeats := context.WithCancel(ctx)
	beating := make(chan struct{})
	go func() { defer close(beating); s.sendHeartbeats(hbCtx, beats) }()
	defer func() { stopBeats(); <-beating }() // joined: nothing outlives the listener
	ping := time.NewTicker(listenerPing)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			go func() { _ = l.Ping() }() // a dead connection fails its reads; the listener reconnects
		case n := <-l.Notify:
			if n == nil { // reconnected: anything sent meanwhile is lost
				live(true)
				continue
			}
			from, rest, _ := strings.Cut(n.Extra, ":")
			if kind, seq, ok := strings.Cut(rest, ":"); ok && kind == "hb" {
				if from == s.instance {
					if sent, ok := beats.sent(seq); ok {
						heard(sent)
					}
				}
				continue
			}
			if from != s.instance { // this process already updated its cache
				changed(rest)
			}
		}
	}
}

// heartbeats remembers when recent heartbeats were sent.
type heartbeats struct {
	mu   sync.Mutex
	next uint64
	at   map[uint64]time.Time
}

func newHeartbeats() *heartbeats { return &heartbeats{at: map[uint64]time.Time{}} }

// add records a heartbeat about to be sent and returns its payload part.
func (h *heartbeats) add(now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	h.at[h.next] = now
	delete(h.at, h.next-64) // a heartbeat 64 beats old is of no use
	return strconv.FormatUint(h.next, 10)
}

func (h *heartbeats) sent(seq string) (time.Time, bool) {
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.at[n]
	return t, ok
}

// sendHeartbeats notifies this process's own listener every heartbeatEvery
// until ctx ends. A heartbeat that fails or is slow is simply not heard.
// It has a connection of its own, so a busy pool does not delay it.
func (s *Store) sendHeartbeats(ctx context.Context, beats *heartbeats) {
	conn, err := newConnector(s.url) // bounded like every other connection (conn.go)
	if err != nil {
		return // never heard: the cache is bypassed, which is safe
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		seq := beats.add(time.Now()) // before sending: the notice commits after this time
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, _ = db.ExecContext(c, "SELECT pg_notify($1, $2)", notifyChannel, s.instance+":hb:"+seq)
		cancel()
	}
}
