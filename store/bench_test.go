package store_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// BenchmarkAuthenticate is the token check every request makes, metering
// included, on SQLite and (when it answers) PostgreSQL.
func BenchmarkAuthenticate(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		b.Run(db.Name, func(b *testing.B) {
			e := testenv.Start(b, db)
			e.Svc.Now = time.Now
			creds := usersvc.Bearer(e.AliceToken)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p, err := e.Svc.Authenticate(ctx, creds)
				if err != nil || p.User.ID != e.Alice.ID {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUser is one read of a user by id outside a transaction (GET of
// another user, the token check's owner read), on both databases.
func BenchmarkUser(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db) // once: -count runs the sub-benchmark again
		b.Run(db.Name, func(b *testing.B) {
			ctx := context.Background()
			ids := []string{e.Admin.ID, e.Alice.ID, e.Bob.ID}
			b.ReportAllocs()
			defer reportCPU(b)()
			i := 0
			for b.Loop() {
				i++
				u, err := e.Store.User(ctx, ids[i%3], false)
				if err != nil || u.ID != ids[i%3] {
					b.Fatal(u, err)
				}
			}
		})
	}
}

// BenchmarkTokenByHash is the token read of a token check that misses the
// cache, on both databases.
func BenchmarkTokenByHash(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db) // once: -count runs the sub-benchmark again
		b.Run(db.Name, func(b *testing.B) {
			ctx := context.Background()
			hash := usersvc.HashToken(e.AliceToken)
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				tok, err := e.Store.TokenByHash(ctx, hash)
				if err != nil || tok.UserID != e.Alice.ID {
					b.Fatal(tok, err)
				}
			}
		})
	}
}

// reportCPU reports this process's CPU time per operation (user and
// system, all goroutines) from now until the returned function runs: on a
// shared machine it varies far less than the wall time, which mostly
// waits for the database.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPatch is a PATCH with one replace through the service, by the
// user themselves (the principal as a token check built it) and by an
// admin on another user, on both databases. statements/op counts what
// the store sent (Options.OnQuery; on SQLite BEGIN and COMMIT count too).
func BenchmarkPatch(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db)
		var n atomic.Int64
		st, err := store.Open(context.Background(), db.URL, store.Options{OnQuery: func() { n.Add(1) }})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		svc := testenv.NewService(st, e.Clock)
		for _, tc := range []struct {
			name, token, id string
		}{
			{"own", e.AliceToken, e.Alice.ID},
			{"other", e.AdminToken, e.Bob.ID},
		} {
			b.Run(db.Name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				n.Store(0)
				i := 0
				for b.Loop() {
					i++
					// As a request does: the token check (cached after the first).
					p, err := svc.Authenticate(context.Background(), usersvc.Bearer(tc.token))
					if err != nil {
						b.Fatal(err)
					}
					ctx := usersvc.WithPrincipal(context.Background(), p)
					patch := []any{map[string]any{"op": "replace", "path": "/description", "value": "d" + strconv.Itoa(i)}}
					if _, err := svc.PatchUser(ctx, tc.id, patch, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n.Load())/float64(b.N), "statements/op")
			})
		}
	}
}
