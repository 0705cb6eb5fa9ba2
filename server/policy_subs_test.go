package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"usersvc"
	"usersvc/internal/testenv"
)

// subOutcome opens a graphql-transport-ws socket with token, subscribes
// with query, and reports the first answer: "ok" for an event after an
// admin changes the target, the error code, or "close <code>".
func subOutcome(t *testing.T, m *matrixEnv, srv *httptest.Server, tg *target, token, query string) string {
	t.Helper()
	waitSubscriptions(t, m.Svc, 0) // earlier sockets have closed
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	type msg struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	next := func() (msg, error) {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return msg{}, err
			}
			var m msg
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("not JSON: %s", b)
			}
			switch m.Type {
			case "ping":
				send(map[string]string{"type": "pong"})
			case "pong", "ka":
			default:
				return m, nil
			}
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}})
	ack, err := next()
	if err != nil {
		return fmt.Sprintf("close %d", websocket.CloseStatus(err))
	}
	if ack.Type != "connection_ack" {
		t.Fatalf("after connection_init: %s %s", ack.Type, ack.Payload)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": map[string]any{"id": tg.user.ID}}})
	// Either the subscription is refused at once, or it waits for a
	// change: make one as soon as it is open.
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		for i := 0; i < 500 && m.Svc.Subscriptions() == 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	type answer struct {
		m   msg
		err error
	}
	answers := make(chan answer, 1)
	go func() { a, err := next(); answers <- answer{a, err} }()
	var a answer
	select {
	case a = <-answers:
	case <-opened:
		if m.Svc.Subscriptions() > 0 {
			r := m.Do(t, "PATCH", "/api/users/"+tg.user.ID, m.AdminToken, `[{"op":"replace","path":"/name","value":"Changed"}]`,
				"Content-Type: application/json-patch+json")
			if r.Status != 200 {
				t.Fatalf("the change: %d %s", r.Status, r.Body)
			}
		}
		a = <-answers // bounded by the socket's context
	}
	if a.err != nil {
		return fmt.Sprintf("close %d", websocket.CloseStatus(a.err))
	}
	switch a.m.Type {
	case "next":
		var p struct {
			Data   map[string]map[string]any `json:"data"`
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(a.m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Errors) > 0 {
			code, _ := p.Errors[0].Extensions["code"].(string)
			return code
		}
		for _, u := range p.Data {
			if u["id"] != tg.user.ID {
				t.Fatalf("event about %v, want the target", u["id"])
			}
		}
		return "ok"
	case "error":
		var errs []struct {
			Extensions map[string]any `json:"extensions"`
		}
		if err := json.Unmarshal(a.m.Payload, &errs); err != nil || len(errs) == 0 {
			t.Fatalf("error payload: %s", a.m.Payload)
		}
		code, _ := errs[0].Extensions["code"].(string)
		return code
	}
	t.Fatalf("unexpected %s %s", a.m.Type, a.m.Payload)
	return ""
}

// waitSubscriptions waits (bounded) until svc has n subscriptions open.
func waitSubscriptions(t *testing.T, svc *usersvc.Service, n int) {
	t.Helper()
	for i := 0; i < 500 && svc.Subscriptions() != n; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if got := svc.Subscriptions(); got != n {
		t.Fatalf("%d subscriptions open, want %d", got, n)
	}
}

// Subscriptions are refused over plain HTTP, whoever asks: they need the socket.
func TestSubscriptionsOverHTTPRefused(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		m := newMatrixEnv(t, db)
		for _, row := range subMatrix {
			for _, token := range []string{m.AliceToken, m.AdminToken} {
				r := m.GraphQL(t, token, row.query, map[string]any{"id": m.Alice.ID})
				if gqlOutcome(r) == "ok" {
					t.Fatalf("%s over POST: %d %s", row.field, r.Status, r.Body)
				}
			}
		}
	})
}
