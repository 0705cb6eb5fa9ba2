package graph_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/server"
)

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestAnonymousQueriesStaySmall: 2,000 distinct anonymous sign-in
// mutations with 500 KB literals, through the whole handler with tracing
// on (so all three query-keyed caches see them), leave the heap less than
// 200 MiB bigger (the caches used to keep 1,000 of each: 1.99 GiB). The
// caches do not involve the database: SQLite only. About 30 s on two
// cores; skipped with -short and under the race detector (over 10 min).
func TestAnonymousQueriesStaySmall(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("sends 1 GB of queries; run without -short and -race")
	}
	e := testenv.Start(t, testenv.DB{Name: "sqlite", URL: "sqlite:" + filepath.Join(t.TempDir(), "test.db")})
	h := server.New(e.Svc, server.Config{Tracing: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	filler := strings.Repeat("x", 500_000)
	send := func(i int) *testenv.Response {
		q := fmt.Sprintf(`mutation { login(email: "nobody@example.com", password: "%d%s") { token } }`, i, filler)
		b, err := json.Marshal(map[string]any{"query": q})
		if err != nil {
			t.Fatal(err)
		}
		return testenv.Do(t, h, "POST", "/graphql", "", string(b), "Content-Type: application/json")
	}
	if r := send(-1); !strings.Contains(string(r.Body), `"code":"UNAUTHENTICATED"`) {
		t.Fatalf("the sign-in did not run: %d %s", r.Status, r.Body)
	}
	before := heapAfterGC()
	for i := range 2000 {
		send(i)
	}
	after := heapAfterGC()
	runtime.KeepAlive(h) // its caches are what is measured
	grew := int64(after) - int64(before)
	t.Logf("heap grew by %d MiB", grew>>20)
	if grew >= 200<<20 {
		t.Fatalf("2,000 anonymous queries left the heap %d MiB bigger", grew>>20)
	}
}
