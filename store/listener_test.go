package store_test

import (
	"context"
	"testing"
	"time"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestListenerNoticesFrozenServer: when PostgreSQL stops answering (a
// proxy that stops forwarding and keeps the socket open), the change
// log follower reports it is no longer live, so the token cache stops trusting
// it, and it is live again once the server answers.
func TestListenerNoticesFrozenServer(t *testing.T) {
	base, why := testenv.PostgresURL()
	if base == "" {
		t.Skip(why)
	}
	defer store.SetListenerTimeouts(time.Second, 200*time.Millisecond)()
	proxy := testenv.NewProxy(t, testenv.PostgresAddr(t, base))
	st := testenv.OpenStore(t, testenv.DB{Name: "postgres", URL: proxy.ProxyURL(testenv.NewSchema(t, base))})
	t.Cleanup(proxy.Cut)
	live := make(chan bool, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = st.FollowChanges(ctx, func(string) {}, func(l bool) { live <- l }, func(time.Time) {}) }()
	guard := time.After(60 * time.Second) // a bound against hangs, not a measurement
	await := func(want bool) {
		t.Helper()
		for {
			select {
			case l := <-live:
				if l == want {
					return
				}
			case <-guard:
				t.Fatalf("the listener never reported live=%v", want)
			}
		}
	}
	await(true)
	proxy.Freeze()
	await(false)
	proxy.Resume()
	await(true)
}
