package server

import (
	"crypto/subtle"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the service's Prometheus metrics, on a registry of their own.
type Metrics struct {
	Registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	operations *prometheus.CounterVec
	flushes    *prometheus.CounterVec
	flushUsers prometheus.Counter

	mu       sync.Mutex
	opNames  map[string]bool
	maxNames int
}

// NewMetrics registers the request, latency and GraphQL operation metrics,
// Go and process metrics, and the database pool's statistics when db is set.
func NewMetrics(db *sql.DB) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usersvc_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "usersvc_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usersvc_graphql_operations_total", Help: "GraphQL operations by operation name (\"anonymous\" when unnamed, \"other\" past 100 names).",
		}, []string{"operation"}),
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usersvc_usage_flushes_total", Help: "Usage-counter flushes by result (ok, error).",
		}, []string{"result"}),
		flushUsers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "usersvc_usage_flushed_users_total", Help: "Users whose counts a flush wrote.",
		}),
		opNames: map[string]bool{}, maxNames: 100,
	}
	reg.MustRegister(m.requests, m.latency, m.operations, m.flushes, m.flushUsers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		reg.MustRegister(collectors.NewDBStatsCollector(db, "usersvc"))
	}
	return m
}

func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// routeLabel turns the mux pattern a request matched into its route label:
// the path pattern alone (the method is a label of its own), "/" for the
// root, and "unmatched" for every request no route served (unknown paths,
// and REST's catch-all), so raw paths never become labels.
func routeLabel(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	switch pattern {
	case "", "/":
		return "unmatched"
	case "/{$}":
		return "/"
	}
	return pattern
}

// methodLabel keeps the method label to the methods HTTP defines: a client
// may send any token as a method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// UsageFlushed records one usage-counter flush (see usersvc.Meter.Flushed).
func (m *Metrics) UsageFlushed(users int, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.flushes.WithLabelValues(result).Inc()
	m.flushUsers.Add(float64(users))
}

// Operation counts one GraphQL operation. Names are client-chosen, so only
// the first 100 distinct well-formed names get a series of their own.
func (m *Metrics) Operation(name string) {
	if m == nil {
		return
	}
	label := name
	if label == "" {
		label = "anonymous"
	} else if !saneOperationName(name) {
		label = "other"
	} else {
		m.mu.Lock()
		if !m.opNames[name] {
			if len(m.opNames) >= m.maxNames {
				label = "other"
			} else {
				m.opNames[name] = true
			}
		}
		m.mu.Unlock()
	}
	m.operations.WithLabelValues(label).Inc()
}

func saneOperationName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Handler serves GET /metrics, without a token, and 404 for anything else:
// the handler of the internal metrics address (-metrics-addr).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return mux
}

// handler serves /metrics, requiring "Authorization: Bearer <token>" when
// token is set.
func (m *Metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics token required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// registerLive adds the live-update gauges: open WebSockets and open
// subscriptions. Registering twice (a second handler on the same metrics)
// keeps the first.
func (m *Metrics) registerLive(sockets func() int64, subscriptions func() int) {
	if m == nil {
		return
	}
	_ = m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "usersvc_websockets_open", Help: "WebSocket connections open (GraphQL subscriptions).",
	}, func() float64 { return float64(sockets()) }))
	_ = m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "usersvc_subscriptions_open", Help: "GraphQL subscriptions open in this process.",
	}, func() float64 { return float64(subscriptions()) }))
}
