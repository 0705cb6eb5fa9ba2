package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"usersvc"
	"usersvc/internal/httpauth"
)

// Subscriptions run over WebSocket (graphql-transport-ws, and the older
// graphql-ws protocol gqlgen also speaks). The HTTP upgrade carries no
// token: the connection_init payload does, and is checked (and counted
// as one request) like an Authorization header.

// Limits of one WebSocket connection.
const (
	// SubscriptionComplexityLimit is a subscription's complexity limit
	// (queries have ComplexityLimit, 10,000 by default): its selection
	// runs again for every change it follows.
	SubscriptionComplexityLimit = 1_000
	// MaxSubscriptionsPerConnection caps a connection's open subscriptions.
	MaxSubscriptionsPerConnection = 10
	// wsInitTimeout is how long a connection may take to send connection_init.
	wsInitTimeout = 5 * time.Second
	// wsPingInterval is the keepalive: a ping every interval; a client that
	// does not answer within two is dropped.
	wsPingInterval = 15 * time.Second
)

// Close codes of graphql-transport-ws, and WebSocket's own "try again
// later".
const (
	closeForbidden = 4403
	// closeTryAgain (1013, RFC 6455's registry: Try Again Later) closes a
	// socket whose connection_init could not be checked, or whose
	// subscription ended, because the database is unavailable or out of
	// time: the client should reconnect after a pause (graphql-ws's client
	// retries it), not take it for "signed out" as it would 4403.
	closeTryAgain = 1013
)

// retryLater reports whether err is the database's trouble, not the
// caller's (unavailable, or out of time): answered with closeTryAgain.
func retryLater(err error) bool {
	switch usersvc.ErrorCode(err) {
	case usersvc.EUnavailable, usersvc.ETimeout:
		return true
	}
	return false
}

// IsWebSocket reports whether r asks to upgrade to a WebSocket: a GET
// with Upgrade: websocket.
func IsWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), "websocket")
}

type connSubsKey struct{}

var errInitTimeout = errors.New("connection initialisation timeout")

// websocketTransport is gqlgen's WebSocket transport with the service's
// authentication, origin check, limits and keepalive.
func websocketTransport(svc *usersvc.Service, origins []string) graphql.Transport {
	return guardedTransport{svc: svc, Websocket: transport.Websocket{
		Implementation: guardedAccept{transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: origins, // the CORS origins; same-origin pages and non-browser clients (no Origin) too
		}}},
		InitTimeout:           2 * wsInitTimeout, // a backstop: the guard closes at wsInitTimeout (4408)
		PingPongInterval:      wsPingInterval,
		KeepAlivePingInterval: wsPingInterval,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if !initialised(ctx) {
				return ctx, nil, errInitTimeout // already closed with 4408
			}
			p, err := svc.Authenticate(ctx, httpauth.Credentials(payload.Authorization()))
			if err == nil {
				err = svc.CheckQuota(p)
			}
			code := closeForbidden
			if retryLater(err) {
				code = closeTryAgain
			}
			if sock := socketOf(ctx); err == nil && sock != nil {
				if err = sock.Init(p); err != nil {
					code = closeTooMany
				}
			}
			if err != nil {
				msg := usersvc.ErrorMessage(err, usersvc.LangFrom(ctx))
				ctx = transport.WithWebsocketCloseCode(ctx, code)
				return transport.AppendCloseReason(ctx, clip(msg, 120)), nil, err
			}
			ctx = usersvc.WithPrincipal(ctx, p)
			return context.WithValue(ctx, connSubsKey{}, new(atomic.Int32)), nil, nil
		},
	}}
}

// limitSubscriptions refuses a subscription past the connection's limit,
// past its socket's rate or the caller's daily quota (each subscribe
// counts as a request), and subscriptions outside a WebSocket connection.
func limitSubscriptions(present graphql.ErrorPresenterFunc) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return limitSubscription(ctx, next, present)
	}
}

func limitSubscription(ctx context.Context, next graphql.OperationHandler, present graphql.ErrorPresenterFunc) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	n, _ := ctx.Value(connSubsKey{}).(*atomic.Int32)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		if n != nil {
			// The socket's caller was checked at connection_init and is
			// re-checked before every event; a query or mutation sent on
			// it would run as that caller without a fresh check (or
			// counting): those go over HTTP.
			return graphql.OneShot(graphql.ErrorResponse(ctx, "Only subscriptions run over the WebSocket; send queries and mutations over HTTP."))
		}
		return next(ctx)
	}
	if n == nil {
		return graphql.OneShot(graphql.ErrorResponse(ctx, "Subscriptions need a WebSocket connection to /graphql (graphql-transport-ws)."))
	}
	if sock, p := socketOf(ctx), usersvc.PrincipalFrom(ctx); sock != nil && p != nil {
		if err := sock.Subscribe(ctx, p); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
		}
	}
	if n.Add(1) > MaxSubscriptionsPerConnection {
		n.Add(-1)
		return graphql.OneShot(graphql.ErrorResponse(ctx, "Too many subscriptions on this connection (at most %d).", MaxSubscriptionsPerConnection))
	}
	var responses graphql.ResponseHandler
	func() {
		defer func() {
			if p := recover(); p != nil {
				n.Add(-1) // a panic must not leak the connection's slot
				panic(p)
			}
		}()
		responses = next(ctx)
	}()
	var done atomic.Bool
	return func(ctx context.Context) *graphql.Response {
		r := responses(ctx)
		if r == nil && done.CompareAndSwap(false, true) {
			n.Add(-1)
		}
		return r
	}
}

// stream adapts a domain event stream to a gqlgen subscription: users are
// sent as they come; an error is sent with its code and ends it.
func stream(ctx context.Context, present graphql.ErrorPresenterFunc) func(<-chan usersvc.Event, error) (<-chan *usersvc.User, error) {
	return func(events <-chan usersvc.Event, err error) (<-chan *usersvc.User, error) {
		if err != nil {
			return nil, err
		}
		out := make(chan *usersvc.User)
		go func() {
			defer close(out)
			for ev := range events {
				if ev.Err != nil {
					transport.AddSubscriptionError(ctx, present(ctx, ev.Err))
					if retryLater(ev.Err) {
						// The error goes out first, then the socket closes
						// with closeTryAgain: every subscription on it
						// meets the same outage.
						closeAfterError(ctx, usersvc.ErrorMessage(ev.Err, usersvc.LangFrom(ctx)))
					}
					return
				}
				select {
				case out <- ev.User:
				case <-ctx.Done():
					return
				}
			}
		}()
		return out, nil
	}
}
