package usersvc_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"usersvc"
)

// fakeUsage is a UsageStore in memory, for the meter's rules where a
// database adds nothing. fail makes every call fail.
type fakeUsage struct {
	mu    sync.Mutex
	total map[string]int64
	daily map[usersvc.UsageKey]int64
	fail  bool
	adds  int // AddUsages calls
	// applied are the flush ids added (a repeated id adds nothing).
	applied map[string]bool
}

func newFakeUsage() *fakeUsage {
	return &fakeUsage{total: map[string]int64{}, daily: map[usersvc.UsageKey]int64{}, applied: map[string]bool{}}
}

var errFake = errors.New("store down")

func (f *fakeUsage) UsageCounts(_ context.Context, userID, day string) (usersvc.Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return usersvc.Usage{}, errFake
	}
	return usersvc.Usage{Total: f.total[userID], Daily: f.daily[usersvc.UsageKey{UserID: userID, Day: day}]}, nil
}

func (f *fakeUsage) UsageCountsOf(_ context.Context, keys []usersvc.UsageKey) ([]usersvc.Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errFake
	}
	out := make([]usersvc.Usage, len(keys))
	for i, k := range keys {
		out[i] = usersvc.Usage{Total: f.total[k.UserID], Daily: f.daily[k]}
	}
	return out, nil
}

func (f *fakeUsage) AddUsages(_ context.Context, id string, deltas []usersvc.UsageDelta) ([]usersvc.Usage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errFake
	}
	f.adds++
	again := f.applied[id]
	f.applied[id] = true
	out := make([]usersvc.Usage, len(deltas))
	for i, d := range deltas {
		k := usersvc.UsageKey{UserID: d.UserID, Day: d.Day}
		if !again {
			f.total[d.UserID] += d.N
			f.daily[k] += d.N
		}
		out[i] = usersvc.Usage{Total: f.total[d.UserID], Daily: f.daily[k]}
	}
	return out, nil
}

// TestMeterRules, on a fake store: every answer includes the request; a
// flush that fails keeps its counts for the next, which writes them once;
// a day's turn starts the daily count again but not the total; another
// process's counts are seen after a flush.
func TestMeterRules(t *testing.T) {
	ctx := context.Background()
	store := newFakeUsage()
	m := usersvc.NewMeter(store)
	count := func(m *usersvc.Meter, user, day string, want usersvc.Usage) {
		t.Helper()
		got, err := m.Count(ctx, user, day)
		if err != nil || got != want {
			t.Fatalf("Count(%s, %s) = %+v, %v; want %+v", user, day, got, err, want)
		}
	}
	count(m, "u1", "2026-12-04", usersvc.Usage{Total: 1, Daily: 1})
	count(m, "u1", "2026-12-04", usersvc.Usage{Total: 2, Daily: 2})
	count(m, "u2", "2026-12-04", usersvc.Usage{Total: 1, Daily: 1})

	store.fail = true
	if err := m.Flush(ctx); err == nil {
		t.Fatal("a flush to a failing store reported no error")
	}
	store.fail = false
	count(m, "u1", "2026-12-04", usersvc.Usage{Total: 3, Daily: 3}) // still counted, not lost
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if store.total["u1"] != 3 || store.total["u2"] != 1 {
		t.Fatalf("stored totals %v, want u1 3 and u2 1 (each count written once)", store.total)
	}
	if err := m.Flush(ctx); err != nil { // nothing pending: nothing written again
		t.Fatal(err)
	}
	if store.total["u1"] != 3 {
		t.Fatalf("a second flush wrote again: %v", store.total)
	}

	// The day turns: the daily count starts again, the total goes on.
	count(m, "u1", "2026-12-05", usersvc.Usage{Total: 4, Daily: 1})

	// Another process counts u1 and flushes; this one sees it after its
	// own next flush, which reads the stored counts back.
	other := usersvc.NewMeter(store)
	count(other, "u1", "2026-12-05", usersvc.Usage{Total: 4, Daily: 1}) // u1's 4th is pending here, not stored
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	count(m, "u1", "2026-12-05", usersvc.Usage{Total: 6, Daily: 3})
}
