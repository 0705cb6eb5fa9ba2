// Package server composes the HTTP service: REST and GraphQL behind one
// middleware chain (request id, logging, security headers, language, CORS,
// authentication with usage metering), plus health, readiness and the
// GraphiQL playground.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/cors"

	"usersvc"
	"usersvc/api"
	"usersvc/graph"
	"usersvc/internal/httpauth"
	"usersvc/moving"
	"usersvc/playground"
	"usersvc/rest"
	"usersvc/scim"
)

// Config configures the handler.
type Config struct {
	// CORSOrigins lists the origins allowed to call the API from a browser.
	CORSOrigins []string
	// Introspection enables GraphQL schema introspection.
	Introspection bool
	Logger        *slog.Logger
	// Metrics, when set, is fed by every request.
	Metrics *Metrics
	// MetricsToken, when set, serves Metrics at /metrics on this handler to
	// callers presenting it as a bearer token; unset, /metrics is 404 here
	// (serve Metrics.Handler on an internal address instead).
	MetricsToken string
	// RequestTimeout bounds each request's work, database calls included
	// (default 15 s); past it the answer is 503. Long transfers
	// (rest.IsTransfer) have TransferIdleTimeout instead.
	RequestTimeout time.Duration
	// TransferIdleTimeout bounds how long an export, an import's upload or
	// an import's failed lines may move no byte (default
	// DefaultTransferIdle); they have no total bound (transfer.go).
	TransferIdleTimeout time.Duration
	// Draining, when set and true, makes /readyz answer 503 "draining" while
	// everything else is still served: a load balancer stops sending
	// requests before the server stops accepting them.
	Draining *atomic.Bool
	// Tracing makes a server span of every request (telemetry.Start
	// installs the provider; see tracing.go).
	Tracing bool
	// TraceResolvers adds a span per resolved GraphQL field (graph.Options).
	TraceResolvers bool
	// Closing, when closed, ends every open WebSocket (with a normal close,
	// which clients such as graphql-ws answer by reconnecting).
	Closing <-chan struct{}
	// Imports runs the import jobs POST /api/users/import starts
	// (moving.NewJobs); nil, their routes answer 503.
	Imports *moving.Jobs
}

// ReadyTimeout bounds /readyz's database check: past it the answer is 503.
const ReadyTimeout = 1500 * time.Millisecond

// Timeouts of the HTTP server: slow clients cannot hold connections.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// DefaultTimeouts are the production server timeouts.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 5 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second, Idle: 120 * time.Second}
}

// NewHTTPServer returns an http.Server for h with the given timeouts and a
// 64 KiB header limit.
func NewHTTPServer(addr string, h http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle,
		MaxHeaderBytes: 64 << 10,
	}
}

// New returns the service's whole HTTP handler.
func New(svc *usersvc.Service, cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	restHandler := rest.NewHandler(svc, cfg.Imports, logger)
	gqlHandler := graph.NewHandler(svc, graph.Options{Introspection: cfg.Introspection, Logger: logger, OnOperation: cfg.Metrics.Operation, Origins: cfg.CORSOrigins, Tracing: cfg.Tracing, TraceResolvers: cfg.TraceResolvers})
	restAuth := authenticate(svc, usersvc.SurfaceAPI, func(w http.ResponseWriter, r *http.Request, err error) {
		rest.WriteError(w, r, logger, err)
	}, nil)
	scimHandler := scim.NewHandler(svc, logger)
	scimAuth := authenticate(svc, usersvc.SurfaceSCIM, func(w http.ResponseWriter, r *http.Request, err error) {
		scim.WriteError(w, r, logger, err)
	}, nil)
	gqlAuth := authenticate(svc, usersvc.SurfaceAPI, func(w http.ResponseWriter, r *http.Request, err error) {
		usersvc.LogFailure(r.Context(), logger, err)
		graph.WriteHTTPError(w, r, err)
	}, graph.AnonymousOperation)

	sockets := new(atomic.Int64) // WebSockets open through this handler
	cfg.Metrics.registerLive(sockets.Load, svc.Subscriptions)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.Draining != nil && cfg.Draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		// ?database=skip: the process takes requests (it is not draining),
		// whatever the database; a balancer's backup servers are checked
		// so (docs/deploy.md, High availability): during a database outage
		// their writes wait for the new primary.
		switch r.URL.Query().Get("database") {
		case "skip":
			_, _ = w.Write([]byte("ok\n"))
			return
		case "":
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("database: only skip is known\n"))
			return
		}
		// Its own short bound: a load balancer's check must not wait on a
		// database that has stopped answering.
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			logger.WarnContext(r.Context(), "not ready", "request_id", usersvc.RequestID(r.Context()), "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	pg := playground.Handler()
	mux.Handle("GET /playground", pg)
	mux.Handle("GET /playground/", pg)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("GET /{$}", http.RedirectHandler("/playground", http.StatusFound))
	mux.Handle("/graphql", webSocket(gqlHandler, gqlAuth(gqlHandler), cfg.Closing, sockets))
	if cfg.Metrics != nil && cfg.MetricsToken != "" {
		mux.Handle("GET /metrics", cfg.Metrics.handler(cfg.MetricsToken))
	}
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(api.OpenAPI)
	})
	mux.Handle("POST /api/Auth/Token", restHandler) // signing in needs no token
	mux.Handle("/api/", restAuth(restHandler))
	mux.Handle(scim.Prefix+"/", scimAuth(scimHandler))

	c := cors.New(cors.Options{
		AllowedOrigins:   cfg.CORSOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", "Accept-Language", "If-Match", "If-None-Match", "X-Request-Id", "X-Current-Password"},
		ExposedHeaders:   []string{"ETag", "X-Request-Id", "Accept-Patch", "Location", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
		AllowCredentials: false, // bearer tokens, not cookies
		MaxAge:           600,
	})
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	idle := cfg.TransferIdleTimeout
	if idle <= 0 {
		idle = DefaultTransferIdle
	}
	var h http.Handler = mux
	h = deadline(timeout, idle, h)
	h = c.Handler(h)
	h = clientAddr(h)
	h = securityHeaders(h)
	route := func(r *http.Request) string {
		_, p := mux.Handler(r)
		switch p {
		case "/api/":
			p = restHandler.Pattern(r)
		case scim.Prefix + "/":
			p = scimHandler.Pattern(r)
		}
		return routeLabel(p)
	}
	h = requestLog(logger, cfg.Metrics, route, cfg.Tracing, h)
	h = recoverer(logger, h)
	h = requestID(cfg.Tracing, h)
	return h
}

// authenticate checks the bearer token, for surface, before the wrapped handler runs,
// puts the caller (with its usage counters) in the context, sets the
// RateLimit headers and enforces the daily quota. Failures are answered by
// onErr in the transport's own format. anonymous, when set, lets a request
// without an Authorization header through if it only signs in.
func authenticate(svc *usersvc.Service, surface usersvc.Surface, onErr func(http.ResponseWriter, *http.Request, error), anonymous func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var err error
			var p *usersvc.Principal
			if tokenInQuery(r) {
				err = usersvc.Errorf(usersvc.EUnauthenticated, "Tokens are accepted only in the Authorization header.")
			} else if r.Header.Get("Authorization") == "" && anonymous != nil && anonymous(r) {
				next.ServeHTTP(w, r)
				return
			} else {
				p, err = svc.AuthenticateOn(r.Context(), httpauth.Credentials(r.Header.Get("Authorization")), surface)
			}
			if err != nil {
				if usersvc.ErrorCode(err) == usersvc.EUnauthenticated {
					w.Header().Set("WWW-Authenticate", challenge(r))
				}
				onErr(w, r, err)
				return
			}
			setUserID(w, p.User.ID)
			h := w.Header()
			h.Set("RateLimit-Limit", strconv.FormatInt(p.Quota.Limit, 10))
			h.Set("RateLimit-Remaining", strconv.FormatInt(p.Quota.Remaining, 10))
			h.Set("RateLimit-Reset", strconv.FormatInt(p.Quota.Reset, 10))
			r = r.WithContext(usersvc.WithPrincipal(r.Context(), p))
			if err := svc.CheckQuota(p); err != nil {
				onErr(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// challenge is the WWW-Authenticate value of a 401 (RFC 6750 §3): a
// request that brought no Bearer credentials (no Authorization header, or
// another scheme) gets no error code; one whose token was refused (bad,
// unknown, expired, revoked, or sent in the URL) gets invalid_token.
func challenge(r *http.Request) string {
	scheme, _, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if strings.EqualFold(scheme, "Bearer") || tokenInQuery(r) {
		return `Bearer realm="usersvc", error="invalid_token"`
	}
	return `Bearer realm="usersvc"`
}

// deadline bounds the work of one request; storage calls see the deadline
// through the context and give up, and the answer is 503. A WebSocket
// lives as long as its client keeps it (its events are bounded one by one);
// a long transfer as long as it moves (idle, serveTransfer).
func deadline(d, idle time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if graph.IsWebSocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		if rest.IsTransfer(r) {
			serveTransfer(idle, next, w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// clientAddr records the client's address (the TCP peer: X-Forwarded-For is
// not trusted, since nothing here knows which proxies to believe), marks
// the request as one, which may sign in once, and negotiates its language:
// one copy of the request for all three.
func clientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx := usersvc.WithOneSignIn(usersvc.WithClientAddr(r.Context(), host))
		next.ServeHTTP(w, r.WithContext(language(ctx, w, r)))
	})
}

// tokenInQuery reports a token passed in the URL, which is refused: URLs end
// up in logs, histories and Referer headers.
func tokenInQuery(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false // the common case, without parsing an empty query
	}
	q := r.URL.Query()
	for _, k := range []string{"access_token", "token", "api_key", "apiKey"} {
		if q.Has(k) {
			return true
		}
	}
	return strings.Contains(r.URL.RawQuery, usersvc.TokenPrefix)
}

// language negotiates r's language from Accept-Language, says it in the
// answer's headers, and returns ctx with it.
func language(ctx context.Context, w http.ResponseWriter, r *http.Request) context.Context {
	lang := usersvc.NegotiateLang(r.Header.Get("Accept-Language"))
	w.Header().Set("Content-Language", lang)
	w.Header().Add("Vary", "Accept-Language")
	return usersvc.WithLang(ctx, lang)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/graphql" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// requestID takes a sane X-Request-Id from the client or makes one, and
// returns it on the answer. With tracing it also starts the request's
// server span, in the same copy of the request (requestLog ends it).
func requestID(tracing bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		r.Header.Set("X-Request-Id", id)
		ctx := usersvc.WithRequestID(r.Context(), id)
		if tracing {
			ctx = startServerSpan(ctx, r)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func recoverer(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(r.Context(), "panic", "panic", p, "request_id", r.Header.Get("X-Request-Id"))
				rest.WriteError(w, r, nil, usersvc.Errorf(usersvc.EInternal, "Internal server error."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
