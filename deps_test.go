package usersvc_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDomainUsesTheTracingAPIOnly: the root package (the rules) reaches
// OpenTelemetry through its API alone. Nothing it builds on (tests aside)
// is net/http, the OpenTelemetry SDK or an exporter, or gRPC: those belong
// to the adapters and to telemetry, which cmd/usersvc wires in.
func TestDomainUsesTheTracingAPIOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps .: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || deps[len(deps)-1] != "usersvc" {
		t.Fatalf("go list -deps . did not list the root package last: %q", deps)
	}
	forbidden := []string{"net/http", "go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters", "google.golang.org/grpc"}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("the root package depends on %s (forbidden: %s)", d, f)
			}
		}
	}
}
