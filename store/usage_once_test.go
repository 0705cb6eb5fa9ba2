package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestAddUsagesOnce: a flush id applies once: the same id again adds
// nothing and answers the stored counts; an empty id is refused and adds
// nothing.
func TestAddUsagesOnce(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		s := testenv.OpenStore(t, db)
		ctx := context.Background()
		in := []usersvc.UsageDelta{{UserID: "usr-a", Day: "2026-06-01", N: 3}, {UserID: "usr-a", Day: "2026-06-02", N: 2}}
		for _, call := range []string{"first", "again"} {
			got, err := s.AddUsages(ctx, "flush-1", in)
			if want := []usersvc.Usage{{Total: 5, Daily: 3}, {Total: 5, Daily: 2}}; err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: %v %v, want %v", call, got, err, want)
			}
		}
		if _, err := s.AddUsages(ctx, "", in); usersvc.ErrorCode(err) != usersvc.EInternal {
			t.Fatalf("empty id: %v, want refused", err)
		}
		if u, err := s.UsageCounts(ctx, "usr-a", "2026-06-01"); err != nil || u != (usersvc.Usage{Total: 5, Daily: 3}) {
			t.Fatalf("stored: %v %v, want {5 3}", u, err)
		}
	})
}

// TestUsageFlushRetention: a flush deletes flush ids older than a day (a
// day and an hour here) and keeps younger ones (23 hours).
func TestUsageFlushRetention(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		s := testenv.OpenStore(t, db)
		now := time.Now().Unix()
		ph := map[string]string{"sqlite": "?", "postgres": "$"}[db.Name]
		arg := func(i int) string {
			if ph == "?" {
				return "?"
			}
			return fmt.Sprintf("$%d", i)
		}
		for id, age := range map[string]int64{"old": 25 * 3600, "young": 23 * 3600} {
			if _, err := s.DB().Exec("INSERT INTO usage_flushes (id, at) VALUES ("+arg(1)+", "+arg(2)+")", id, now-age); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddUsages(context.Background(), "new", []usersvc.UsageDelta{{UserID: "usr-a", Day: "2026-06-01", N: 1}}); err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().Query("SELECT id FROM usage_flushes ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if fmt.Sprint(ids) != "[new young]" {
			t.Fatalf("flush ids kept: %v, want [new young]", ids)
		}
	})
}

// lostAnswer is a usage store whose first AddUsages commits and then
// answers that the database is unavailable, as when the connection drops
// between the commit and its answer.
type lostAnswer struct {
	usersvc.Store
	mu    sync.Mutex
	lost  int // answers lost so far
	lose  int // answers to lose
	calls []string
}

func (l *lostAnswer) AddUsages(ctx context.Context, id string, deltas []usersvc.UsageDelta) ([]usersvc.Usage, error) {
	got, err := l.Store.AddUsages(ctx, id, deltas)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, id)
	if err == nil && l.lost < l.lose {
		l.lost++
		return nil, usersvc.Unavailable(errors.New("connection reset by peer after COMMIT"))
	}
	return got, err
}

// TestMeterFlushAnswerLost: a flush whose write commits but whose answer is
// lost fails; the next flush sends the same batch again (same id), which
// adds nothing, and the counts made meanwhile go in a new batch: the
// stored counts are exact. Answers during the doubt include every count
// once.
func TestMeterFlushAnswerLost(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		ctx := context.Background()
		wrap := &lostAnswer{Store: st, lose: 2}
		m := usersvc.NewMeter(wrap)
		count := func(n int, user, day string) usersvc.Usage {
			t.Helper()
			var u usersvc.Usage
			for range n {
				var err error
				if u, err = m.Count(ctx, user, day); err != nil {
					t.Fatal(err)
				}
			}
			return u
		}
		count(7, "usr-a", "2026-06-01")
		count(4, "usr-b", "2026-06-01")
		if err := m.Flush(ctx); usersvc.ErrorCode(err) != usersvc.EUnavailable {
			t.Fatalf("first flush: %v, want unavailable", err)
		}
		// Stored already (the commit happened), and pending here too: the
		// answers must not count it twice.
		if u := count(1, "usr-a", "2026-06-01"); u != (usersvc.Usage{Total: 8, Daily: 8}) {
			t.Fatalf("during the doubt: %+v, want {8 8}", u)
		}
		// The retry of the first batch loses its answer too.
		if err := m.Flush(ctx); usersvc.ErrorCode(err) != usersvc.EUnavailable {
			t.Fatalf("second flush: %v, want unavailable", err)
		}
		count(2, "usr-b", "2026-06-02")
		if err := m.Flush(ctx); err != nil {
			t.Fatalf("third flush: %v", err)
		}
		for _, c := range []struct {
			user, day string
			want      usersvc.Usage
		}{
			{"usr-a", "2026-06-01", usersvc.Usage{Total: 8, Daily: 8}},
			{"usr-b", "2026-06-01", usersvc.Usage{Total: 6, Daily: 4}},
			{"usr-b", "2026-06-02", usersvc.Usage{Total: 6, Daily: 2}},
		} {
			if u, err := st.UsageCounts(ctx, c.user, c.day); err != nil || u != c.want {
				t.Fatalf("stored %s %s: %+v %v, want %+v", c.user, c.day, u, err, c.want)
			}
		}
		if u := count(1, "usr-b", "2026-06-02"); u != (usersvc.Usage{Total: 7, Daily: 3}) {
			t.Fatalf("after: %+v, want {7 3}", u)
		}
		wrap.mu.Lock()
		calls := wrap.calls
		wrap.mu.Unlock()
		// Flush 1: batch A (answer lost). Flush 2: A again (answer lost),
		// then B, the count made meanwhile. Flush 3: A again (applied
		// before: adds nothing), then C.
		if len(calls) != 5 || calls[1] != calls[0] || calls[3] != calls[0] || calls[2] == calls[0] || calls[4] == calls[0] || calls[4] == calls[2] {
			t.Fatalf("AddUsages ids %v: want A A B A C", calls)
		}
	})
}
