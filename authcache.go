package usersvc

import (
	"sync"
	"time"
)

// authCache remembers, for a short time, the token and owner a bearer
// secret resolved to, so a busy client does not cost a database read per
// request. Entries live AuthCacheTTL (1 s) of real time, so a revocation,
// password change, disable or delete made by any process takes effect
// within a second; writes made through this process drop the user's
// entries at once.
type authCache struct {
	mu     sync.Mutex
	ttl    time.Duration
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
	if c == nil || c.ttl <= 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byHash[hash]
	if e == nil || time.Now().After(e.expires) {
		return nil, nil, false
	}
	return e.tok, e.owner, true
}

func (c *authCache) put(hash string, tok *Token, owner *User) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
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
