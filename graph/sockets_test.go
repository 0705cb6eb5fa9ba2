package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"usersvc"
	"usersvc/internal/testenv"
)

// dialFrom opens a socket to srv from the loopback address local.
func dialFrom(t *testing.T, srv string, local string) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: client,
	})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: t, conn: conn, ctx: ctx}, resp, nil
}

// waitCounts waits (bounded) until the service counts user open sockets
// for userID and pending ones for addr.
func waitCounts(t *testing.T, svc *usersvc.Service, userID, addr string, user, pending int) {
	t.Helper()
	for i := 0; ; i++ {
		u, p := svc.SocketCounts(userID, addr)
		if u == user && p == pending {
			return
		}
		if i == 500 {
			t.Fatalf("sockets of %s: %d, pending from %s: %d; want %d, %d", userID, u, addr, p, user, pending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSocketLimits: a user holds at most MaxSocketsPerUser initialised
// sockets (the next closes with 4429 and RATE_LIMITED's message; one
// closed makes room), and an address at most MaxPendingSocketsPerAddress
// uninitialised ones (the next upgrade is 429; another address is not
// affected).
func TestSocketLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		srv, _ := guardedServer(t, e)
		var open []*wsClient
		for range usersvc.MaxSocketsPerUser {
			c, _, err := dialFrom(t, srv.URL, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			c.init(e.AliceToken)
			open = append(open, c)
		}
		waitCounts(t, e.Svc, e.Alice.ID, "127.0.0.1", usersvc.MaxSocketsPerUser, 0)
		extra, _, err := dialFrom(t, srv.URL, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		extra.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + e.AliceToken + `"}`)})
		if got := closeCode(t, extra); got != 4429 {
			t.Fatalf("socket %d of one user: close %d, want 4429", usersvc.MaxSocketsPerUser+1, got)
		}
		open[0].conn.Close(websocket.StatusNormalClosure, "")
		waitCounts(t, e.Svc, e.Alice.ID, "127.0.0.1", usersvc.MaxSocketsPerUser-1, 0)
		again, _, err := dialFrom(t, srv.URL, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		again.init(e.AliceToken)
		// Bob is not limited by Alice's sockets.
		bob, _, err := dialFrom(t, srv.URL, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		bob.init(e.BobToken)

		// Pending sockets per address.
		for range usersvc.MaxPendingSocketsPerAddress {
			if _, _, err := dialFrom(t, srv.URL, "127.0.0.2"); err != nil {
				t.Fatal(err)
			}
		}
		waitCounts(t, e.Svc, e.Alice.ID, "127.0.0.2", usersvc.MaxSocketsPerUser, usersvc.MaxPendingSocketsPerAddress)
		_, resp, err := dialFrom(t, srv.URL, "127.0.0.2")
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("pending socket %d from one address: %v %v, want HTTP 429", usersvc.MaxPendingSocketsPerAddress+1, resp, err)
		}
		if c, _, err := dialFrom(t, srv.URL, "127.0.0.3"); err != nil {
			t.Fatalf("another address: %v", err)
		} else {
			c.send(wsMsg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer bad"}`)}) // 4403, and the socket goes
			if got := closeCode(t, c); got != 4403 {
				t.Fatalf("bad token: close %d", got)
			}
		}
		waitCounts(t, e.Svc, e.Alice.ID, "127.0.0.3", usersvc.MaxSocketsPerUser, 0)
	})
}

// TestSubscribesAreCounted: every subscribe message counts as one request
// of the socket's caller (connection_init counted one), and past the
// socket's burst subscribes are refused with RATE_LIMITED.
func TestSubscribesAreCounted(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		srv, _ := guardedServer(t, e)
		before := usage(t, e)
		c := mustDial(t, srv)
		c.init(e.AliceToken)
		for _, id := range []string{"1", "2", "3"} {
			c.subscribe(id, `subscription { userChanged { id } }`)
		}
		waitSubscribed(t, e.Svc, 3)
		if got := usage(t, e) - before; got != 1+3+1 { // init, three subscribes, the GET that reads it
			t.Fatalf("requests counted: %d, want 5", got)
		}

		// A burst past the bucket: each subscribe is completed at once.
		limited := 0
		for i := range usersvc.SubscribeBurst + 10 {
			id := "b" + string(rune('a'+i))
			c.subscribe(id, `subscription { userChanged { id } }`)
			c.send(wsMsg{ID: id, Type: "complete"})
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && limited == 0 {
			ctx, cancel := context.WithDeadline(c.ctx, deadline)
			_, b, err := c.conn.Read(ctx)
			cancel()
			if err != nil {
				break
			}
			if strings.Contains(string(b), `"RATE_LIMITED"`) {
				limited++
			}
		}
		if limited == 0 {
			t.Fatalf("%d subscribes at once: none refused", usersvc.SubscribeBurst+10)
		}
	})
}

// usage is Alice's apiUsage as a GET of herself reports it (that GET
// counted).
func usage(t *testing.T, e *testenv.Env) int64 {
	t.Helper()
	r := e.Do(t, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, "")
	n, err := strconv.ParseInt(fmt.Sprint(r.JSON["apiUsage"]), 10, 64)
	if err != nil {
		t.Fatalf("no apiUsage: %d %s", r.Status, r.Body)
	}
	return n
}
