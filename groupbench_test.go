package usersvc_test

import (
	"fmt"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// BenchmarkGroupMembership is one membership write on a group of 50: an
// add and a remove in turn, each one transaction with the member's history
// entry, on each database.
func BenchmarkGroupMembership(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		b.Run(db.Name, func(b *testing.B) {
			e := testenv.Start(b, db)
			ctx := e.As(b, e.AdminToken)
			var ids []string
			for i := range 50 {
				u, _ := e.NewUser(b, fmt.Sprint("U", i), fmt.Sprintf("u%d@example.com", i), "UTC", usersvc.RoleUser)
				ids = append(ids, u.ID)
			}
			g, err := e.Svc.CreateGroup(ctx, usersvc.GroupInput{DisplayName: "Drivers", Members: ids})
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				c := usersvc.GroupChange{AddMembers: []string{e.Alice.ID}}
				if i%2 == 1 {
					c = usersvc.GroupChange{RemoveMembers: []string{e.Alice.ID}}
				}
				if _, err := e.Svc.ModifyGroup(ctx, g.ID, c, nil); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
