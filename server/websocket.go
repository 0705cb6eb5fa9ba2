package server

import (
	"context"
	"net/http"
	"sync/atomic"

	"usersvc/graph"
)

// webSocket serves /graphql upgrades without the HTTP authentication (the
// connection_init payload carries the token; graph checks it) and lets the
// socket take over the connection with deadlines of its own (the request's
// responseWriter hijacks it, counting it in open, the sockets open now: a
// metric). When closing is closed (the server shuts down) every socket
// ends: http.Server.Shutdown does not wait for, or close, connections taken
// over.
func webSocket(ws, plain http.Handler, closing <-chan struct{}, open *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !graph.IsWebSocket(r) {
			plain.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		if closing != nil {
			go func() {
				select {
				case <-closing:
					cancel()
				case <-ctx.Done():
				}
			}()
		}
		rw := writerOf(w)
		if rw == nil { // not under requestLog
			rw = &responseWriter{ResponseWriter: w}
			w = rw
		}
		rw.sockets = open
		ws.ServeHTTP(w, r.WithContext(ctx))
	})
}
