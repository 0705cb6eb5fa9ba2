package main

// A subscription kept across replica restarts.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// subscriber follows a user over graphql-transport-ws through the balancer
// and, like the graphql-ws client, reconnects and subscribes again when its
// socket ends.
type subscriber struct {
	base string
	user *loadUser
	// inits counts connections acknowledged (each counts one request);
	// eventsSinceConnect, events on the current connection; afterReconnect,
	// events on any connection but the first.
	inits, events, eventsSinceConnect, afterReconnect atomic.Int64
	// subsSent counts subscribe messages written, subsAnswered those an
	// event answered (each subscribe counts one request too).
	subsSent, subsAnswered atomic.Int64
}

func (s *subscriber) run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := s.once(ctx)
		if ctx.Err() != nil {
			break
		}
		log.Printf("subscription socket ended (%v); reconnecting", err)
		time.Sleep(200 * time.Millisecond)
	}
	if *mode == "pooler" { // nothing restarts: events arrived on one socket
		if s.events.Load() == 0 {
			return errors.New("no event arrived")
		}
		return nil
	}
	if s.inits.Load() < 2 {
		return fmt.Errorf("the subscription's replica was never restarted under it (%d connection)", s.inits.Load())
	}
	if s.afterReconnect.Load() == 0 {
		return errors.New("no event arrived after the subscription reconnected")
	}
	return nil
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
	if err := send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + s.user.token + `"}}`); err != nil {
		return err
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "connection_ack":
			s.inits.Add(1)
			s.eventsSinceConnect.Store(0)
			if err := send(`{"id":"1","type":"subscribe","payload":{"query":"subscription { userChanged { id version: modification } }"}}`); err != nil {
				return err
			}
			s.subsSent.Add(1)
		case "ping":
			_ = send(`{"type":"pong"}`)
		case "next":
			s.events.Add(1)
			if s.eventsSinceConnect.Add(1) == 1 {
				s.subsAnswered.Add(1)
			}
			if s.inits.Load() > 1 {
				s.afterReconnect.Add(1)
			}
		case "error", "complete":
			return fmt.Errorf("%s: %s", m.Type, m.Payload)
		}
	}
}
