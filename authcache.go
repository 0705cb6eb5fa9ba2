package usersvc

import (
	"sync"
	"time"
)

// authCache remembers, for a short time, the token and owner a bearer
// secret resolved to, so a busy client does not cost a database read per
// request.
//
// The guarantee: once a change that ends access commits (disable, delete,
// password change, role change, from/expires change, revocation), no token
// check in any process accepts an affected token from this cache more than
// a notice's delivery later (milliseconds; the README promises 1 s).
// Three mechanisms keep it:
//
//   - Every change made through this process invalidates the user after
//     its commit (forget or refresh); every change made by another process
//     arrives as a notice (PostgreSQL LISTEN/NOTIFY, see
//     Service.WatchChanges) and invalidates the same way.
//   - A fill cannot land stale. A check takes a ticket (the invalidation
//     sequence) before it reads the database; an invalidation of the user
//     records the sequence it happened at; put refuses a fill whose ticket
//     is older than the user's last invalidation. So a read that began
//     before a change and finishes after the change's invalidation is used
//     for the one request that made it and never cached.
//   - While notices may be missed (the listener is reconnecting) nothing is
//     cached or served from the cache, and fills that began before the
//     listener came back are refused.
//   - A listener can also fall silent without noticing (a frozen network
//     or database). So it sends itself a heartbeat notice several times a
//     second; PostgreSQL delivers notices in commit order, so a heartbeat
//     sent at S coming back proves every change committed before S has
//     been heard. The cache serves only while the last heartbeat heard was
//     sent less than maxNoticeLag ago: a change is invalidated, or the
//     cache bypassed, at most maxNoticeLag after it commits.
//
// Without a watcher (SQLite, or before WatchChanges runs) entries live 1 s
// of real time, which bounds what a process that cannot hear notices
// (the command-line tools) may leave stale.
type authCache struct {
	mu     sync.Mutex
	ttl    time.Duration
	down   bool // notices may be missed: bypass
	byHash map[string]*authEntry
	byUser map[string]map[string]struct{}

	// seq counts invalidations; gen holds, per user, the seq of their last
	// one; fills with a ticket below floor are refused (gen was cleared, or
	// notices may have been missed, after they began).
	seq   uint64
	gen   map[string]uint64
	floor uint64

	// listening is set while a listener is live; heardAt is the send time
	// of the last heartbeat it heard.
	listening bool
	heardAt   time.Time

	// beforePut, when set (tests only), runs after a fill's database read
	// and before it is put, to force the interleavings put must survive.
	beforePut func(owner *User)
}

type authEntry struct {
	tok     *Token
	owner   *User
	expires time.Time
}

// maxNoticeLag is how old the last heartbeat heard may be while the cache
// is served: the bound on how long a change may go unheard.
const maxNoticeLag = time.Second

// maxAuthEntries bounds the cache (and the per-user generations); past
// it, it starts over.
const maxAuthEntries = 100_000

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, byHash: map[string]*authEntry{}, byUser: map[string]map[string]struct{}{}, gen: map[string]uint64{}}
}

// ticket is taken before the database read whose result may be put.
func (c *authCache) ticket() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
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
	if c.stale() || e == nil || time.Now().After(e.expires) {
		return nil, nil, false
	}
	return e.tok, e.owner, true
}

// put caches a check whose database read began at ticket, unless the
// owner was invalidated since.
func (c *authCache) put(ticket uint64, hash string, tok *Token, owner *User) {
	if c == nil {
		return
	}
	c.mu.Lock()
	h := c.beforePut
	c.mu.Unlock()
	if h != nil {
		h(owner)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale() || c.ttl <= 0 || ticket < c.floor || c.gen[owner.ID] > ticket {
		return
	}
	if len(c.byHash) >= maxAuthEntries {
		c.byHash, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
	}
	now := time.Now()
	expires := now.Add(c.ttl)
	if old := c.byHash[hash]; old != nil && old.expires.After(now) && old.expires.Before(expires) {
		expires = old.expires // re-putting a live entry (a touched token) does not extend its life
	}
	c.byHash[hash] = &authEntry{tok: tok, owner: owner, expires: expires}
	if c.byUser[owner.ID] == nil {
		c.byUser[owner.ID] = map[string]struct{}{}
	}
	c.byUser[owner.ID][hash] = struct{}{}
}

// stale reports whether notices may have been missed; c.mu is held.
func (c *authCache) stale() bool {
	return c.down || c.listening && time.Since(c.heardAt) > maxNoticeLag
}

// heard records that every notice committed before sent has arrived.
func (c *authCache) heard(sent time.Time) {
	c.mu.Lock()
	if sent.After(c.heardAt) {
		c.heardAt = sent
	}
	c.mu.Unlock()
}

// invalidate records that userID changed now; c.mu is held.
func (c *authCache) invalidate(userID string) {
	c.seq++
	if len(c.gen) >= maxAuthEntries {
		c.gen = map[string]uint64{}
		c.floor = c.seq
	}
	c.gen[userID] = c.seq
}

// forget drops every entry of a user, and refuses fills that began before.
func (c *authCache) forget(userID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidate(userID)
	for h := range c.byUser[userID] {
		delete(c.byHash, h)
	}
	delete(c.byUser, userID)
}

// setLive turns the cache on (notices arrive: entries live ttl) or off
// (they may be missed); either way it starts empty, and fills that began
// before are refused.
func (c *authCache) setLive(live bool, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if live {
		c.ttl = ttl
	}
	c.down = !live
	c.listening = live
	c.heardAt = time.Now() // the listener listens from now on
	c.seq++
	c.floor = c.seq
	c.gen = map[string]uint64{}
	c.byHash, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
}

// clear empties the cache and refuses fills that began before: changes
// may have been missed.
func (c *authCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.floor = c.seq
	c.gen = map[string]uint64{}
	c.byHash, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
}

// noListener is the cache without a listener (it stopped, or the store
// has none): entries live 1 s, and it starts empty.
func (c *authCache) noListener() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl, c.down, c.listening = time.Second, false, false
	c.seq++
	c.floor = c.seq
	c.gen = map[string]uint64{}
	c.byHash, c.byUser = map[string]*authEntry{}, map[string]map[string]struct{}{}
}

// refresh puts a user's new state into their entries, unless a newer one
// is there already (concurrent writes may finish out of order), and
// refuses fills that began before: they may hold the old state.
func (c *authCache) refresh(u *User) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidate(u.ID)
	for h := range c.byUser[u.ID] {
		if e := c.byHash[h]; e != nil && e.owner.Version < u.Version {
			e.owner = u
		}
	}
}
