package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
)

// jaegerConfig: health, query http, query grpc, OTLP grpc, OTLP http ports.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%d
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// Jaeger's query API (/api/traces), the parts read here.
type jTrace struct {
	TraceID   string              `json:"traceID"`
	Spans     []jSpan             `json:"spans"`
	Processes map[string]jProcess `json:"processes"`
}

type jSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []jKV `json:"tags"`
	Logs []struct {
		Fields []jKV `json:"fields"`
	} `json:"logs"`
}

type jProcess struct {
	ServiceName string `json:"serviceName"`
	Tags        []jKV  `json:"tags"`
}

type jKV struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

func (s jSpan) tag(k string) string {
	for _, kv := range s.Tags {
		if kv.Key == k {
			return fmt.Sprint(kv.Value)
		}
	}
	return ""
}

func (s jSpan) kind() string { return s.tag("span.kind") }

// allTags: the span's tags, its events' fields and its process's
// resource, with the span name as one more value to scan.
func (s jSpan) allTags(procs map[string]jProcess) []jKV {
	out := append([]jKV{{Key: "name", Value: s.OperationName}}, s.Tags...)
	for _, l := range s.Logs {
		out = append(out, l.Fields...)
	}
	p := procs[s.ProcessID]
	return append(append(out, jKV{Key: "service.name", Value: p.ServiceName}), p.Tags...)
}

func (t jTrace) root() *jSpan {
	for i, s := range t.Spans {
		if len(s.References) == 0 {
			return &t.Spans[i]
		}
	}
	return nil
}

func (t jTrace) names() []string {
	var out []string
	for _, s := range t.Spans {
		out = append(out, s.OperationName)
	}
	sort.Strings(out)
	return out
}

func (t jTrace) has(f func(jSpan) bool) bool { return slices.ContainsFunc(t.Spans, f) }

func fetchTraces(query, service string) ([]jTrace, error) {
	resp, err := http.Get(query + "/api/traces?service=" + service + "&limit=1000&lookback=1h")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("jaeger /api/traces: %d %s", resp.StatusCode, b)
	}
	var out struct {
		Data []jTrace `json:"data"`
	}
	return out.Data, json.NewDecoder(resp.Body).Decode(&out)
}
