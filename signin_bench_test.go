package usersvc_test

import (
	"context"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// BenchmarkSignIn is one successful password sign-in in the domain
// (throttle, lookup, one bcrypt check under the hash bound, the session's
// save), at the tests' bcrypt cost (4: the hash is not what is measured;
// make bench measures cost 12 over HTTP), on SQLite and (when it answers)
// PostgreSQL. Run it alone: go test -run '^$' -bench SignIn .
func BenchmarkSignIn(b *testing.B) {
	const pw = "correct horse battery"
	for _, db := range testenv.BenchDBs(b) {
		e := testenv.Start(b, db)
		e.Svc.DailyQuota = 1 << 40
		p := pw
		if _, err := e.Svc.CreateUser(usersvc.SystemContext(context.Background()), usersvc.NewUserInput{Name: "B", Email: "bench@example.com", Country: "ES", TimeZone: "UTC", Password: &p}.Document()); err != nil {
			b.Fatal(err)
		}
		b.Run(db.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Svc.Login(usersvc.WithClientAddr(context.Background(), "192.0.2.9"), "bench@example.com", pw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
