package usersvc

import (
	"testing"
	"time"
)

// TestAuthCacheRules pins the cache's rules one by one on the cache
// itself: what a fill may put, and when an entry may be served.
func TestAuthCacheRules(t *testing.T) {
	alice := &User{ID: "usr-alice", Version: 1}
	tok := &Token{ID: 1, UserID: alice.ID}
	for _, tc := range []struct {
		name   string
		steps  func(c *authCache) // between the ticket and the put
		before func(c *authCache) // before the ticket
		served bool
	}{
		{name: "a quiet fill is cached", served: true},
		{name: "a fill that began before the user's invalidation is refused",
			steps: func(c *authCache) { c.forget(alice.ID) }},
		{name: "a fill that began before the user's refresh is refused",
			steps: func(c *authCache) { c.refresh(&User{ID: alice.ID, Version: 2}) }},
		{name: "another user's invalidation does not refuse the fill", served: true,
			steps: func(c *authCache) { c.forget("usr-bob") }},
		{name: "a fill that began after the invalidation is cached", served: true,
			before: func(c *authCache) { c.forget(alice.ID) }},
		{name: "the listener reconnected during the fill",
			steps: func(c *authCache) { c.setLive(false, 0); c.setLive(true, time.Hour) }},
		{name: "the listener is down",
			steps: func(c *authCache) { c.setLive(false, 0) }},
		{name: "generations started over during the fill",
			steps: func(c *authCache) {
				for i := 0; i <= maxAuthEntries; i++ {
					c.invalidate("usr-" + string(rune('a'+i%26)) + time.Duration(i).String())
				}
			}},
		{name: "no heartbeat heard for longer than the lag bound",
			steps: func(c *authCache) { c.heardAt = time.Now().Add(-maxNoticeLag - time.Millisecond) }},
		{name: "a fresh heartbeat keeps the cache served", served: true,
			steps: func(c *authCache) {
				c.heardAt = time.Now().Add(-maxNoticeLag - time.Millisecond)
				c.heard(time.Now())
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newAuthCache(time.Hour)
			c.setLive(true, time.Hour)
			if tc.before != nil {
				tc.before(c)
			}
			ticket := c.ticket()
			if tc.steps != nil {
				tc.steps(c)
			}
			c.put(ticket, "h", tok, alice)
			if _, _, ok := c.get("h"); ok != tc.served {
				t.Fatalf("served = %v, want %v", ok, tc.served)
			}
		})
	}
}

// TestAuthCacheHeartbeatBound: a served entry stops being served once the
// last heartbeat heard is older than the bound, and serves again when one
// is heard.
func TestAuthCacheHeartbeatBound(t *testing.T) {
	c := newAuthCache(time.Hour)
	c.setLive(true, time.Hour)
	u := &User{ID: "usr-a"}
	c.put(c.ticket(), "h", &Token{UserID: u.ID}, u)
	if _, _, ok := c.get("h"); !ok {
		t.Fatal("not served while heartbeats are fresh")
	}
	c.mu.Lock()
	c.heardAt = time.Now().Add(-2 * maxNoticeLag)
	c.mu.Unlock()
	if _, _, ok := c.get("h"); ok {
		t.Fatal("served although no heartbeat was heard within the bound")
	}
	c.heard(time.Now())
	if _, _, ok := c.get("h"); !ok {
		t.Fatal("not served after a heartbeat was heard again")
	}
}

// TestAuthCacheLifeFollowsTheListener: entries live the long TTL only
// while a listener is live; without one (SQLite, or after it stopped) 1 s.
func TestAuthCacheLifeFollowsTheListener(t *testing.T) {
	c := newAuthCache(time.Second)
	u := &User{ID: "usr-a"}
	// life is the entry's life from just before the fill, to the whole
	// second below: a stall of up to a second around the fill leaves it
	// the same.
	life := func() time.Duration {
		before := time.Now()
		c.put(c.ticket(), "h", &Token{UserID: u.ID}, u)
		c.mu.Lock()
		defer c.mu.Unlock()
		e := c.byHash["h"]
		if e == nil {
			return 0
		}
		return e.expires.Sub(before).Truncate(time.Second)
	}
	if got := life(); got != time.Second {
		t.Fatalf("before any listener: %v", got)
	}
	c.setLive(true, time.Hour)
	if got := life(); got != time.Hour {
		t.Fatalf("with a live listener: %v", got)
	}
	c.noListener()
	if got := life(); got != time.Second {
		t.Fatalf("after the listener stopped: %v", got)
	}
}

// TestAuthCacheExpiredEntryRefills: an entry that expired is replaced by
// the next fill with a full life; a re-put of a live entry keeps its end.
func TestAuthCacheExpiredEntryRefills(t *testing.T) {
	c := newAuthCache(time.Hour)
	u := &User{ID: "usr-a"}
	tok := &Token{UserID: u.ID}
	c.put(c.ticket(), "h", tok, u)
	c.mu.Lock()
	c.byHash["h"].expires = time.Now().Add(-time.Second)
	c.mu.Unlock()
	if _, _, ok := c.get("h"); ok {
		t.Fatal("an expired entry was served")
	}
	c.put(c.ticket(), "h", tok, u) // the miss's fill
	if _, _, ok := c.get("h"); !ok {
		t.Fatal("the fill after expiry is not served")
	}
	c.mu.Lock()
	end := time.Now().Add(time.Minute)
	c.byHash["h"].expires = end
	c.mu.Unlock()
	c.put(c.ticket(), "h", tok, u) // a re-put of a live entry
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := c.byHash["h"].expires; !got.Equal(end) {
		t.Fatalf("a re-put moved the end from %v to %v", end, got)
	}
}
