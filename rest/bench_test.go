package rest_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// BenchmarkPatchEndpoint is a PATCH with one replace through the whole
// handler, on SQLite and (when it answers) PostgreSQL.
func BenchmarkPatchEndpoint(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db) // once: -count runs the sub-benchmark again
		e.Svc.DailyQuota = 1 << 40
		i := 0
		b.Run(db.Name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			defer func() {
				b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
			}()
			for b.Loop() {
				i++
				r := e.Do(b, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken, fmt.Sprintf(`[{"op":"replace","path":"/description","value":"d%d"}]`, i), "Content-Type: application/json-patch+json")
				if r.Status != 200 {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
		})
	}
}

// BenchmarkGetOtherUser is an admin reading another user through the
// whole handler: one database read per request (the token check is
// cached), on SQLite and (when it answers) PostgreSQL. cpu-µs/op is this
// process's CPU time per request, which varies far less than the wall
// time on a shared machine.
func BenchmarkGetOtherUser(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db) // once: -count runs the sub-benchmark again
		e.Svc.DailyQuota = 1 << 40
		b.Run(db.Name, func(b *testing.B) {
			ids := []string{e.Alice.ID, e.Bob.ID}
			i := 0
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				i++
				r := e.Do(b, "GET", "/api/users/"+ids[i%2], e.AdminToken, "")
				if r.Status != 200 {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is this process's CPU time (user and system, all goroutines).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
