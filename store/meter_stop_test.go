package store_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// heldStore holds the first AddUsages until released, so a test can stop
// the meter while a flush is under way.
type heldStore struct {
	usersvc.Store
	once    sync.Once
	inFlush chan struct{}
	release chan struct{}
}

func (h *heldStore) AddUsages(ctx context.Context, id string, deltas []usersvc.UsageDelta) ([]usersvc.Usage, error) {
	h.once.Do(func() {
		close(h.inFlush)
		<-h.release
	})
	return h.Store.AddUsages(ctx, id, deltas)
}

// TestMeterGracefulStop: stopping the meter (a graceful shutdown) while a
// periodic flush is writing neither fails that flush nor logs an error,
// and every count is stored.
func TestMeterGracefulStop(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		st := testenv.OpenStore(t, db)
		svc := testenv.NewService(st, &testenv.Clock{})
		u, err := svc.CreateUser(usersvc.SystemContext(context.Background()), usersvc.NewUserInput{Name: "M", Email: "m@example.com", Country: "ES", TimeZone: "UTC"}.Document())
		if err != nil {
			t.Fatal(err)
		}
		held := &heldStore{Store: st, inFlush: make(chan struct{}), release: make(chan struct{})}
		m := usersvc.NewMeter(held)
		for i := 0; i < 3; i++ {
			if _, err := m.Count(context.Background(), u.ID, "2026-06-01"); err != nil {
				t.Fatal(err)
			}
		}
		var logs testenv.SyncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			// As cmd/usersvc wires it.
			m.Run(ctx, 10*time.Millisecond, func(err error) { logger.Error("writing usage counts", "err", err) })
		}()
		guard := time.After(30 * time.Second) // a bound against hangs, not a measurement
		select {
		case <-held.inFlush:
		case <-guard:
			t.Fatal("no flush started")
		}
		stop() // the graceful stop, while the flush is writing
		close(held.release)
		select {
		case <-done:
		case <-guard:
			t.Fatal("the meter did not stop")
		}
		if strings.Contains(logs.String(), "ERROR") {
			t.Fatalf("graceful stop logged an error: %s", logs.String())
		}
		if got, err := st.UsageCounts(context.Background(), u.ID, "2026-06-01"); err != nil || got != (usersvc.Usage{Total: 3, Daily: 3}) {
			t.Fatalf("stored after the stop: %+v %v", got, err)
		}
	})
}
