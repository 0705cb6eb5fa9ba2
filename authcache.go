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
// maxNoticeLag (1 s) later. Four mechanisms keep it:
//
//   - Every change made through this process invalidates the user after
//     its commit (forget or refresh); every change made by another process
//     is read from the change log (the history table, followed by
//     Service.WatchChanges: a poll every 200 ms, sooner when another
//     process announces a commit) and invalidates the same way.
//   - A fill cannot land stale. A check takes a ticket (the invalidation
//     sequence) before it reads the database; an invalidation of the user
//     records the sequence it happened at; put refuses a fill whose ticket
//     is older than the user's last invalidation. So a read that began
//     before a change and finishes after the change's invalidation is used
//     for the one request that made it and never cached.
//   - While changes may be missed (the follower is restarting) nothing is
//     cached or served from the cache, and fills that began before the
//     follower came back are refused.
//   - A follower can also fall silent without noticing (a frozen network
//     or database). A poll that began at S and succeeded has read every
//     entry committed before S (its snapshot is taken after S; entries of
//     transactions still open are kept as gaps and read when they commit),
//     so heard(S) proves every earlier change was passed on. The cache
//     serves only while the last such S is less than maxNoticeLag ago: a
//     change is invalidated, or the cache bypassed, at most maxNoticeLag
//     after it commits, even when the process that made it died before
//     announcing it.
//
// Without a follower (SQLite, or before WatchChanges runs) entries live 1 s
// of real time, which bounds what a process that cannot follow the log
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

	// listening is set while a follower is live; heardAt is the start of
	// its last successful poll.
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

// maxNoticeLag is how old the last successful poll of the change log may
// be while the cache is served: the bound on how long a change may go
// unheard.
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

// stale reports whether changes may have been missed; c.mu is held.
func (c *authCache) stale() bool {
	return c.down || c.listening && time.Since(c.heardAt) > maxNoticeLag
}

// heard records that every change committed before sent has been passed on.
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

// setLive turns the cache on (the log is followed: entries live ttl) or off
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
	c.heardAt = time.Now() // the follower follows from now on
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
