package usersvc

import (
	"sync"
	"time"
)

// authCache remembers, for a short time, the token and owner a bearer
// secret resolved to, so a busy client does not cost a database read per
// request. Writes made through this process drop the user's entries at
// once; writes made by other processes arrive as notices (PostgreSQL
// LISTEN/NOTIFY, see Service.WatchChanges) and do the same. Without a
// watcher entries live 1 s of real time, so a revocation, password change,
// disable or delete by any process takes effect within a second; with one,
// entries may live longer, and the cache is bypassed whenever notices
// could be missed.
type authCache struct {
	mu     sync.Mutex
	ttl    time.Duration
	down   bool // notices may be missed: bypass
	byHash map[string]*authEntry
	byUser map[string]map[string]struct{}
}

type authEntry struct {
	tok     *Token
	owner   *User
	expires time.Time
}

// maxAuthEntries bounds the cache; past it, it starts over.
const maxAuthEntries = 100_000

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, byHash: map[string]*authEntry{}, byUser: map[string]map[string]struct{}{}}
}

func (c *authCache) get(hash string) (*Token, *User, bool) {
	if c == nil {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 {
		return nil, nil, false
	}
	e := c.byHash[hash]
	if c.down || e == nil || time.Now().After(e.expires) {
		return nil, nil, false
	}
	return e.tok, e.owner, true
}

func (c *authCache) put(hash string, tok *Token, owner *User) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down || c.ttl <= 0 {
		return
	}
	if len(c.byHash) >= maxAuthEntries {
		c.byHash, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
	}
	c.byHash[hash] = &authEntry{tok: tok, owner: owner, expires: time.Now().Add(c.ttl)}
	if c.byUser[owner.ID] == nil {
		c.byUser[owner.ID] = map[string]struct{}{}
	}
	c.byUser[owner.ID][hash] = struct{}{}
}

// forget drops every entry of a user.
func (c *authCache) forget(userID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.byUser[userID] {
		delete(c.byHash, h)
	}
	delete(c.byUser, userID)
}

// setLive turns the cache on (notices arrive) or off (they may be missed);
// either way it starts empty.
func (c *authCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = !live
	c.byHash, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
}

func (c *authCache) setTTL(ttl time.Duration) {
	c.mu.Lock()
	c.ttl = ttl
	c.mu.Unlock()
}

// refresh puts a user's new state into their entries, unless a newer one
// is there already (concurrent writes may finish out of order).
func (c *authCache) refresh(u *User) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.byUser[u.ID] {
		if e := c.byHash[h]; e != nil && e.owner.Version < u.Version {
			e.owner = u
		}
	}
}
