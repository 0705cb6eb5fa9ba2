package store_test

import (
	"context"
	"testing"

	"usersvc"
	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestStatementSpansOnlyUnderASpan: with tracing on, a statement run under
// a span is a client span under it (through ent's driver and the
// hand-written reads alike); one run outside any span makes no span, so
// no trace of its own.
func TestStatementSpansOnlyUnderASpan(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		rec, tp := testenv.RecordSpans(t)
		st, err := store.Open(context.Background(), db.URL, store.Options{Tracing: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		reads := func(ctx context.Context) {
			t.Helper()
			ctx = usersvc.SystemContext(ctx)
			if _, err := st.User(ctx, e.Bob.ID, false); err != nil { // ent
				t.Fatal(err)
			}
			if _, err := st.UsageCounts(ctx, e.Bob.ID, "2026-12-07"); err != nil { // hand-written
				t.Fatal(err)
			}
		}
		reads(context.Background())
		if ended := rec.Ended(); len(ended) != 0 {
			t.Fatalf("statements outside any span made %d spans: %v", len(ended), ended[0].Name())
		}
		ctx, parent := tp.Tracer("test").Start(context.Background(), "a request")
		reads(ctx)
		parent.End()
		under := 0
		for _, s := range rec.Ended() {
			if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.Name() == "SELECT" {
				under++
			}
		}
		if under < 2 {
			t.Fatalf("%d SELECT spans under the caller's span, want one a read: %d spans", under, len(rec.Ended()))
		}
	})
}
