package main

// A subscription through the balancer that, like the graphql-ws client,
// connects and subscribes again whenever its socket ends (the service
// closes subscriptions with 1013 while the database is out).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

type subscriber struct {
	base, token string

	mu     sync.Mutex
	inits  int             // connections acknowledged
	closes []string        // why each socket ended
	names  map[string]bool // names the events carried
}

func (s *subscriber) run(ctx context.Context) {
	s.names = map[string]bool{}
	for ctx.Err() == nil {
		err := s.once(ctx)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.closes = append(s.closes, err.Error())
		s.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *subscriber) saw(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.names[name]
}

func (s *subscriber) once(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(s.base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	send := func(v string) error { return conn.Write(ctx, websocket.MessageText, []byte(v)) }
	if err := send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + s.token + `"}}`); err != nil {
		return err
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		var m struct {
			Type    string `json:"type"`
			Payload struct {
				Data struct {
					UserChanged struct {
						Name string `json:"name"`
					} `json:"userChanged"`
				} `json:"data"`
			} `json:"payload"`
		}
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "connection_ack":
			s.mu.Lock()
			s.inits++
			s.mu.Unlock()
			if err := send(`{"id":"1","type":"subscribe","payload":{"query":"subscription { userChanged { id name } }"}}`); err != nil {
				return err
			}
		case "ping":
			_ = send(`{"type":"pong"}`)
		case "next":
			s.mu.Lock()
			s.names[m.Payload.Data.UserChanged.Name] = true
			s.mu.Unlock()
		case "error", "complete":
			return fmt.Errorf("%s: %s", m.Type, b)
		}
	}
}

// check renames the subscriber's user through cl until an event shows the
// subscription live (at most 15 s), then renames it five more times: each
// change made after the subscription (re)connected must arrive (within
// 5 s). It returns how many of the five did not.
func (s *subscriber) check(cl *client, userID, adminToken string) (missed int, err error) {
	rename := func(name string) error {
		a := cl.do("PATCH", "/api/users/"+userID, adminToken, "application/merge-patch+json", `{"name":"`+name+`"}`)
		if a.err != nil || a.status != 200 {
			return fmt.Errorf("renaming the subscriber's user: %d %v %.200s", a.status, a.err, a.body)
		}
		return nil
	}
	live := false
	for i := 0; i < 30 && !live; i++ {
		name := fmt.Sprintf("Sync %d", i)
		if err := rename(name); err != nil {
			return 0, err
		}
		for range 5 {
			if live = s.saw(name); live {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !live {
		return 0, fmt.Errorf("the subscription received nothing for 15 s after the events")
	}
	// One at a time: an event carries the user as it is when the
	// subscription reads it, so changes close together may share one.
	for i := range 5 {
		name := fmt.Sprintf("Mark %d", i)
		if err := rename(name); err != nil {
			return 0, err
		}
		deadline := time.Now().Add(3 * time.Second)
		for !s.saw(name) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !s.saw(name) {
			missed++
		}
	}
	return missed, nil
}
