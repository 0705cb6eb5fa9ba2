package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestFailuresPerKeyAreBounded: a key keeps its newest 64 failures,
// however many come within the window (each attempt trims its keys).
func TestFailuresPerKeyAreBounded(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		s := testenv.OpenStore(t, db)
		ctx := context.Background()
		start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		keys := []string{"pair:a\x1f192.0.2.1", "addr:192.0.2.1", "acct:a"}
		var last [][]time.Time
		for i := range 70 {
			at := start.Add(time.Duration(i) * time.Second)
			if err := s.BeginAttempt(ctx, keys, start.Add(-time.Hour), at, func(recent [][]time.Time) bool { last = recent; return true }); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.BeginAttempt(ctx, keys, start.Add(-time.Hour), start.Add(time.Hour/2), func(recent [][]time.Time) bool { last = recent; return false }); err != nil {
			t.Fatal(err)
		}
		for i, r := range last {
			if len(r) != 64 || !r[0].Equal(start.Add(6*time.Second)) || !r[63].Equal(start.Add(69*time.Second)) {
				t.Fatalf("key %s: %d failures from %v to %v; want the newest 64 (6 s to 69 s)", keys[i], len(r), r[0], r[len(r)-1])
			}
		}
	})
}

// TestFailureTableIsBounded: an attacker rotating addresses makes a new
// key with every attempt, all within the window; the table keeps at most
// its cap (plus one attempt's rows, deleted by the next), the newest rows.
func TestFailureTableIsBounded(t *testing.T) {
	defer store.SetMaxFailureRows(60)()
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		s := testenv.OpenStore(t, db)
		ctx := context.Background()
		start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		var last [][]time.Time
		for i := range 200 {
			addr := fmt.Sprintf("2001:db8:%x::/64", i)
			keys := []string{"pair:victim@example.com\x1f" + addr, "addr:" + addr, "acct:victim@example.com"}
			at := start.Add(time.Duration(i) * time.Millisecond)
			if err := s.BeginAttempt(ctx, keys, start.Add(-time.Hour), at, func(recent [][]time.Time) bool { last = recent; return true }); err != nil {
				t.Fatal(err)
			}
			if n := s.FailureRows(t); n > 60+3 {
				t.Fatalf("after %d attempts the table holds %d rows, want at most 63", i+1, n)
			}
		}
		// The account's own key lost its oldest failures to the cap, not
		// its newest: the last attempt saw the failures just before it.
		if acct := last[2]; len(acct) == 0 || !acct[len(acct)-1].Equal(start.Add(198*time.Millisecond)) {
			t.Fatalf("the account's failures before the last attempt: %v", acct)
		}
	})
}
