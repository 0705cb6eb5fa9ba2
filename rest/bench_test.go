package rest_test

import (
	"fmt"
	"testing"

	"usersvc/internal/testenv"
)

// BenchmarkPatchEndpoint is a PATCH with one replace through the whole
// handler, on SQLite and (when it answers) PostgreSQL.
func BenchmarkPatchEndpoint(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		b.Run(db.Name, func(b *testing.B) {
			e := testenv.Start(b, db)
			i := 0
			b.ReportAllocs()
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
