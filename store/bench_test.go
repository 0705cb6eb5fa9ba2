package store_test

import (
	"context"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// BenchmarkAuthenticate is the token check every request makes, metering
// included, on SQLite and (when it answers) PostgreSQL.
func BenchmarkAuthenticate(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
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
}
