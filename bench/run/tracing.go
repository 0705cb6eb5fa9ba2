package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Tracing's cost is measured on the own-user REST GET, exported over OTLP
// to otlpSink, in two ways: every request traced, and docs/deploy.md's
// recommended sampler (parentbased_traceidratio at recommendedRatio; the
// load sends no traceparent, so the ratio decides for every request).
const (
	tracedAll        = "REST GET, traced (every request sampled, OTLP export)"
	tracedRatio      = "REST GET, traced at the recommended ratio (parentbased_traceidratio " + recommendedRatio + ", OTLP export)"
	recommendedRatio = "0.01"
)

// tracingScenarios are the two traced GETs, exporting to one sink.
func tracingScenarios() (all, ratio scenario) {
	sink := "OTEL_EXPORTER_OTLP_ENDPOINT=" + otlpSink()
	return scenario{tracedAll, "usersvc", "get", 0, []string{sink, "OTEL_TRACES_SAMPLER=always_on"}, ""},
		scenario{tracedRatio, "usersvc", "get", 0, []string{sink, "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=" + recommendedRatio}, ""}
}

// printTracingCost prints tracing's cost for each binary measured, every
// request traced and at the recommended ratio: the traced GET's
// throughput over the same binary's untraced GET in each round (they run
// side by side, so the machine's drift between rounds cancels), their
// median against the targets (at most 15% and 3% of the untraced
// GET's throughput), and the median of the server CPU it adds.
func printTracingCost(rounds [][]result) {
	for _, suffix := range []string{"", " (before)", " (after)"} {
		for _, c := range []struct {
			what, name string
			target     float64
		}{
			{"every request traced", tracedAll, 0.85},
			{"traced at the recommended ratio " + recommendedRatio, tracedRatio, 0.97},
		} {
			var ratios, extra []float64
			var each []string
			for _, rs := range rounds {
				u, t := findResult(rs, "REST GET"+suffix), findResult(rs, c.name+suffix)
				if u == nil || t == nil || u.rps == 0 {
					continue
				}
				ratios, extra = append(ratios, t.rps/u.rps), append(extra, t.cpuPerReq-u.cpuPerReq)
				each = append(each, fmt.Sprintf("%.2f", t.rps/u.rps))
			}
			if len(ratios) > 0 {
				fmt.Printf("%s%s: traced over untraced GET %s; median %.2f (target >= %.2f), server CPU %+.1f µs/req (median)\n",
					c.what, suffix, strings.Join(each, ", "), median(ratios), c.target, median(extra))
			}
		}
	}
}

// otlpSink serves OTLP over HTTP on a free loopback port, reading every
// export and answering it with an empty (successful) response, and
// returns its URL: the traced scenario pays for recording, encoding and
// sending its spans, and not for a collector's work.
func otlpSink() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		}))
	}()
	return "http://" + l.Addr().String()
}
