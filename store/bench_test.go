package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// BenchmarkAuthenticate is the token check every request makes, metering
// included, on SQLite and (when it answers) PostgreSQL.
func BenchmarkAuthenticate(b *testing.B) {
	dbs := []testenv.DB{{Name: "sqlite", URL: "sqlite:" + filepath.Join(b.TempDir(), "bench.db")}}
	if base, _ := testenv.PostgresURL(); base != "" {
		dbs = append(dbs, testenv.DB{Name: "postgres", URL: testenv.NewSchema(b, base)})
	}
	for _, db := range dbs {
		b.Run(db.Name, func(b *testing.B) {
			e := testenv.Start(b, db)
			e.Svc.Now = time.Now
			header := "Bearer " + e.AliceToken
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p, err := e.Svc.Authenticate(ctx, header)
				if err != nil || p.User.ID != e.Alice.ID {
					b.Fatal(err)
				}
			}
		})
	}
	_ = usersvc.TokenPrefix
}
