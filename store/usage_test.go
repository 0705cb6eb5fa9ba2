package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestAddUsages: one call adds every delta to its user's all-time and day
// counts (a user's deltas on two days both add to the all-time count) and
// answers each delta's counts after; a second call adds to those.
func TestAddUsages(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		s := testenv.OpenStore(t, db)
		ctx := context.Background()
		got, err := s.AddUsages(ctx, "f-first", []usersvc.UsageDelta{
			{UserID: "usr-a", Day: "2026-06-01", N: 3},
			{UserID: "usr-b", Day: "2026-06-01", N: 5},
			{UserID: "usr-a", Day: "2026-06-02", N: 2},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []usersvc.Usage{{Total: 5, Daily: 3}, {Total: 5, Daily: 5}, {Total: 5, Daily: 2}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("first: %v, want %v", got, want)
		}
		got, err = s.AddUsages(ctx, "f-second", []usersvc.UsageDelta{{UserID: "usr-a", Day: "2026-06-01", N: 1}})
		if err != nil || fmt.Sprint(got) != fmt.Sprint([]usersvc.Usage{{Total: 6, Daily: 4}}) {
			t.Fatalf("second: %v %v, want [{6 4}]", got, err)
		}
		if u, err := s.UsageCounts(ctx, "usr-a", "2026-06-02"); err != nil || u != (usersvc.Usage{Total: 6, Daily: 2}) {
			t.Fatalf("stored: %v %v, want {6 2}", u, err)
		}
		many, err := s.UsageCountsOf(ctx, []usersvc.UsageKey{{UserID: "usr-b", Day: "2026-06-01"}, {UserID: "usr-a", Day: "2026-06-02"}, {UserID: "usr-none", Day: "2026-06-01"}, {UserID: "usr-a", Day: "2026-06-01"}})
		if want := []usersvc.Usage{{Total: 5, Daily: 5}, {Total: 6, Daily: 2}, {}, {Total: 6, Daily: 4}}; err != nil || fmt.Sprint(many) != fmt.Sprint(want) {
			t.Fatalf("UsageCountsOf: %v %v, want %v", many, err, want)
		}
		for _, bad := range []usersvc.UsageDelta{{UserID: "usr-a", Day: "2026-06-01", N: 0}, {UserID: "usr-a", Day: "total", N: 1}} {
			if _, err := s.AddUsages(ctx, "f-bad", []usersvc.UsageDelta{bad}); usersvc.ErrorCode(err) != usersvc.EInternal {
				t.Errorf("%+v: %v, want refused", bad, err)
			}
		}
	})
}

// TestAddUsagesManyAtOnce: two processes flush 3,000 users each, over the
// same users in opposite orders, four times at once: no deadlock, no lost
// count (each user ends at 2 x 4 x their n).
func TestAddUsagesManyAtOnce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		stores := []usersvc.Store{testenv.OpenStore(t, db), testenv.OpenStore(t, db)}
		const users = 3000
		deltas := make([]usersvc.UsageDelta, users)
		for i := range deltas {
			deltas[i] = usersvc.UsageDelta{UserID: fmt.Sprintf("usr-%05d", i), Day: "2026-06-01", N: int64(i%7 + 1)}
		}
		reversed := make([]usersvc.UsageDelta, users)
		for i, d := range deltas {
			reversed[users-1-i] = d
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for p, s := range stores {
			in := deltas
			if p == 1 {
				in = reversed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range 4 {
					if _, err := s.AddUsages(context.Background(), fmt.Sprintf("f-%d-%d", p, r), in); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1, 2999, 1234} {
			u, err := stores[0].UsageCounts(context.Background(), deltas[i].UserID, "2026-06-01")
			want := 8 * deltas[i].N
			if err != nil || u.Total != want || u.Daily != want {
				t.Fatalf("%s: %v %v, want %d", deltas[i].UserID, u, err, want)
			}
		}
	})
}

// BenchmarkFlush3000Users is one meter flush's write at 3,000 active users
// (3 statements of 1,000 users, as Meter.Flush batches them).
func BenchmarkFlush3000Users(b *testing.B) {
	for _, db := range testenv.BenchDBs(b) {
		b.Run(db.Name, func(b *testing.B) {
			s := testenv.OpenStore(b, db)
			deltas := make([]usersvc.UsageDelta, 3000)
			for i := range deltas {
				deltas[i] = usersvc.UsageDelta{UserID: fmt.Sprintf("usr-%05d", i), Day: "2026-06-01", N: 3}
			}
			n := 0
			for b.Loop() {
				for batch := range slices.Chunk(deltas, 1000) {
					n++
					if _, err := s.AddUsages(context.Background(), fmt.Sprintf("bench-%d", n), batch); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
