package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"usersvc"
	"usersvc/internal/testenv"
)

// wsClient speaks graphql-transport-ws to a real server over TCP.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a socket to srv's /graphql; origin, when set, is sent.
func dialWS(t *testing.T, srv *httptest.Server, origin string) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h,
	})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn, ctx: ctx}, resp, nil
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("send %s: %v", m.Type, err)
	}
}

// next reads the next message other than a ping/pong; err is the read
// error (a close, with its code).
func (c *wsClient) next() (wsMsg, error) {
	for {
		_, b, err := c.conn.Read(c.ctx)
		if err != nil {
			return wsMsg{}, err
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("not JSON: %s", b)
		}
		if m.Type == "ping" {
			c.send(wsMsg{Type: "pong"})
			continue
		}
		if m.Type == "pong" || m.Type == "ka" {
			continue
		}
		return m, nil
	}
}

func (c *wsClient) must() wsMsg {
	c.t.Helper()
	m, err := c.next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// init sends connection_init with the token and expects the ack.
func (c *wsClient) init(token string) {
	c.t.Helper()
	c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(fmt.Sprintf(`{"Authorization":"Bearer %s"}`, token))})
	if m := c.must(); m.Type != "connection_ack" {
		c.t.Fatalf("after init: %s %s", m.Type, m.Payload)
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"query": query})
	c.send(wsMsg{ID: id, Type: "subscribe", Payload: b})
}

// event reads the next message and returns the user in data.field, or
// the error code when it is an error message.
func (c *wsClient) event(field string) (user map[string]any, code string) {
	c.t.Helper()
	m := c.must()
	switch m.Type {
	case "next":
		var p struct {
			Data   map[string]map[string]any `json:"data"`
			Errors []struct {
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			c.t.Fatal(err)
		}
		if len(p.Errors) > 0 {
			code, _ := p.Errors[0].Extensions["code"].(string)
			return nil, code
		}
		return p.Data[field], ""
	case "error":
		var errs []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		}
		if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 {
			c.t.Fatalf("error payload: %s", m.Payload)
		}
		code, _ := errs[0].Extensions["code"].(string)
		return nil, code
	}
	c.t.Fatalf("unexpected %s %s", m.Type, m.Payload)
	return nil, ""
}

func patchName(t *testing.T, h http.Handler, token, id, name string) {
	t.Helper()
	r := testenv.Do(t, h, "PATCH", "/api/users/"+id, token, `[{"op":"replace","path":"/name","value":"`+name+`"}]`, "Content-Type: application/json-patch+json")
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
}

func TestSubscriptions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		srv := httptest.NewServer(e.Handler)
		defer srv.Close()

		t.Run("own user, default id", func(t *testing.T) {
			c, _, err := dialWS(t, srv, "")
			if err != nil {
				t.Fatal(err)
			}
			c.init(e.AliceToken)
			c.subscribe("1", `subscription { userChanged { id name } }`)
			waitSubscribed(t, e.Svc, 1)
			patchName(t, e.Handler, e.AliceToken, e.Alice.ID, "Alice Live")
			u, code := c.event("userChanged")
			if code != "" || u["name"] != "Alice Live" || u["id"] != e.Alice.ID {
				t.Fatalf("event: %v %s", u, code)
			}
		})

		t.Run("another user: NOT_FOUND for a non-admin, events for an admin", func(t *testing.T) {
			c, _, err := dialWS(t, srv, "")
			if err != nil {
				t.Fatal(err)
			}
			c.init(e.AliceToken)
			c.subscribe("1", fmt.Sprintf(`subscription { userChanged(id: %q) { id } }`, e.Bob.ID))
			if _, code := c.event("userChanged"); code != "NOT_FOUND" {
				t.Fatalf("alice following bob: %q", code)
			}
			a := mustDial(t, srv)
			a.init(e.AdminToken)
			waitSubscribed(t, e.Svc, 0) // the previous subtests' sockets are closed
			before := 0
			a.subscribe("1", fmt.Sprintf(`subscription { userChanged(id: %q) { id name } }`, e.Bob.ID))
			waitSubscribed(t, e.Svc, before+1)
			patchName(t, e.Handler, e.AdminToken, e.Bob.ID, "Bob Live")
			if u, code := a.event("userChanged"); u["name"] != "Bob Live" {
				t.Fatalf("admin following bob: %v %s", u, code)
			}
		})

		t.Run("usersChanged: admins only, created users included", func(t *testing.T) {
			c := mustDial(t, srv)
			c.init(e.BobToken)
			c.subscribe("1", `subscription { usersChanged { id } }`)
			if _, code := c.event("usersChanged"); code != "FORBIDDEN" {
				t.Fatalf("bob: %q", code)
			}
			a := mustDial(t, srv)
			a.init(e.AdminToken)
			waitSubscribed(t, e.Svc, 0) // the previous subtests' sockets are closed
			before := 0
			a.subscribe("1", `subscription { usersChanged { id email } }`)
			waitSubscribed(t, e.Svc, before+1)
			r := testenv.Do(t, e.Handler, "POST", "/api/users", e.AdminToken, `{"name":"Carol","email":"carol@example.com","country":"ES","timeZone":"UTC"}`)
			if r.Status != 201 && r.Status != 200 {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			if u, code := a.event("usersChanged"); u["email"] != "carol@example.com" {
				t.Fatalf("created user: %v %s", u, code)
			}
			patchName(t, e.Handler, e.AliceToken, e.Alice.ID, "Alice Again")
			if u, code := a.event("usersChanged"); u["id"] != e.Alice.ID {
				t.Fatalf("alice's change: %v %s", u, code)
			}
		})

		t.Run("access that ends ends the subscription", func(t *testing.T) {
			victim, token := e.NewUser(t, "Dan", "dan@example.com", "UTC", usersvc.RoleUser)
			c := mustDial(t, srv)
			c.init(token)
			waitSubscribed(t, e.Svc, 0) // the previous subtests' sockets are closed
			before := 0
			c.subscribe("1", `subscription { userChanged { id } }`)
			waitSubscribed(t, e.Svc, before+1)
			r := testenv.Do(t, e.Handler, "PATCH", "/api/users/"+victim.ID, e.AdminToken, `[{"op":"replace","path":"/disabled","value":true}]`, "Content-Type: application/json-patch+json")
			if r.Status != 200 {
				t.Fatalf("disable: %d", r.Status)
			}
			if _, code := c.event("userChanged"); code != "FORBIDDEN" {
				t.Fatalf("after the disable: %q", code)
			}
			waitSubscribed(t, e.Svc, before)
		})

		t.Run("per-connection limit", func(t *testing.T) {
			c := mustDial(t, srv)
			c.init(e.AdminToken)
			waitSubscribed(t, e.Svc, 0) // the previous subtests' sockets are closed
			before := 0
			for i := 1; i <= 10; i++ {
				c.subscribe(fmt.Sprint(i), `subscription { userChanged { id } }`)
			}
			waitSubscribed(t, e.Svc, before+10)
			c.subscribe("11", `subscription { userChanged { id } }`)
			m := c.must()
			if m.ID != "11" || (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), "Too many subscriptions") {
				t.Fatalf("11th: %s %s %s", m.ID, m.Type, m.Payload)
			}
		})
	})
}

// TestSubscriptionHandshake: what a socket without a usable token, or from
// a foreign origin, gets.
func TestSubscriptionHandshake(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		srv := httptest.NewServer(e.Handler)
		defer srv.Close()
		for _, tc := range []struct{ name, payload string }{
			{"no token", `{}`},
			{"bad token", `{"Authorization":"Bearer usv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
			{"not bearer", `{"Authorization":"Basic YTpi"}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, _, err := dialWS(t, srv, "")
				if err != nil {
					t.Fatal(err)
				}
				c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(tc.payload)})
				_, err = c.next()
				if got := websocket.CloseStatus(err); got != 4403 {
					t.Fatalf("close status %d (%v), want 4403", got, err)
				}
			})
		}
		t.Run("foreign origin", func(t *testing.T) {
			_, resp, err := dialWS(t, srv, "https://evil.example.net")
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("err %v, resp %v", err, resp)
			}
		})
		t.Run("allowed origin", func(t *testing.T) {
			c, _, err := dialWS(t, srv, "https://app.example.com")
			if err != nil {
				t.Fatal(err)
			}
			c.init(e.AliceToken)
		})
		t.Run("queries and mutations over the socket are refused", func(t *testing.T) {
			c := mustDial(t, srv)
			c.init(e.AdminToken)
			for i, q := range []string{`{ me { id } }`, `mutation { deleteUser(id: "` + e.Bob.ID + `") { id } }`} {
				id := fmt.Sprint(i + 1)
				c.subscribe(id, q)
				m := c.must()
				for m.Type == "complete" { // the previous operation's end
					m = c.must()
				}
				if m.ID != id || !strings.Contains(string(m.Payload), "Only subscriptions run over the WebSocket") {
					t.Fatalf("%s over the socket: %s %s", q, m.Type, m.Payload)
				}
			}
			if r := e.Do(t, "GET", "/api/users/"+e.Bob.ID, e.AdminToken, ""); r.Status != 200 || r.JSON["deletedAt"] != nil {
				t.Fatalf("bob after the refused mutation: %d %s", r.Status, r.Body)
			}
		})
		t.Run("subscription over POST", func(t *testing.T) {
			r := e.GraphQL(t, e.AliceToken, `subscription { userChanged { id } }`, nil)
			if r.Status == 200 && !strings.Contains(string(r.Body), "error") {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	})
}

// TestSubscriptionAcrossProcesses: a change through process 1 reaches a
// subscriber on process 2; revoking the subscriber on process 1 cuts it off.
func TestSubscriptionAcrossProcesses(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("processes share a PostgreSQL database; SQLite is single-process")
		}
		e := testenv.Start(t, db)
		p2 := testenv.NewService(testenv.OpenStore(t, db), e.Clock)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p2.WatchChanges(ctx, time.Hour) }()
		defer func() { cancel(); <-done }()
		srv2 := httptest.NewServer(testenv.NewHandler(p2))
		defer srv2.Close()

		c, _, err := dialWS(t, srv2, "")
		if err != nil {
			t.Fatal(err)
		}
		c.init(e.AliceToken)
		c.subscribe("1", `subscription { userChanged { id name } }`)
		waitSubscribed(t, p2, 1)
		patchName(t, e.Handler, e.AliceToken, e.Alice.ID, "From Process One")
		// When the listener came up after the subscription, the subscription
		// was re-sent the user as it was (a resync); the change follows.
		for i := 0; ; i++ {
			u, code := c.event("userChanged")
			if u["name"] == "From Process One" {
				break
			}
			if i == 2 || code != "" {
				t.Fatalf("event on process 2: %v %s", u, code)
			}
		}
		r := testenv.Do(t, e.Handler, "PATCH", "/api/users/"+e.Alice.ID, e.AdminToken, `[{"op":"add","path":"/expires","value":"2020-01-01T00:00:00Z"}]`, "Content-Type: application/json-patch+json")
		if r.Status != 200 {
			t.Fatalf("expire alice: %d %s", r.Status, r.Body)
		}
		// An event already on its way (the change itself, a resync) may come
		// first; then the end.
		for i := 0; ; i++ {
			_, code := c.event("userChanged")
			if code == "FORBIDDEN" {
				break
			}
			if i == 2 || code != "" {
				t.Fatalf("after alice expired through process 1: %q", code)
			}
		}
	})
}

func mustDial(t *testing.T, srv *httptest.Server) *wsClient {
	t.Helper()
	c, _, err := dialWS(t, srv, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitSubscribed waits (bounded) until svc has n subscriptions open.
func waitSubscribed(t *testing.T, svc *usersvc.Service, n int) {
	t.Helper()
	for i := 0; i < 500 && svc.Subscriptions() != n; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if got := svc.Subscriptions(); got != n {
		t.Fatalf("%d subscriptions open, want %d", got, n)
	}
}
