package usersvc

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Live updates. Every committed change to a user is published here: by the
// process that made it, after its commit, and by every other process when
// it reads the change in the change log (PostgreSQL: the history table,
// see ChangeLog; SQLite has one process). A subscription is woken by the change, reads the user again,
// checks again that its subscriber may still act and see the user, and
// sends the user as it is then. Several changes that arrive while a
// subscription is busy collapse into one event with the latest state.

// Limits of live updates.
const (
	// resyncSpread is the window over which subscriptions re-read their
	// users after a resync.
	resyncSpread = 250 * time.Millisecond
	// MaxSubscriptions caps open subscriptions per process.
	MaxSubscriptions = 10_000
	// MaxSubscriptionsPerUser caps one user's open subscriptions in a
	// process, so that no one takes every slot.
	MaxSubscriptionsPerUser = 100
	// maxPendingUsers caps the users a usersChanged subscription may have
	// pending; past it the subscriber is too slow and is dropped.
	maxPendingUsers = 1_000
	// eventBuffer is how many events wait for a slow subscriber before it
	// is dropped.
	eventBuffer = 16
)

// Event is one message of a subscription: a user as it is after a change,
// or the error that ends the subscription.
type Event struct {
	User *User
	Err  error
}

// feed fans published user ids out to subscriptions.
type feed struct {
	mu     sync.Mutex
	byUser map[string]map[*watcher]struct{}
	all    map[*watcher]struct{}
	n      int
	// perUser counts open subscriptions by subscriber.
	perUser map[string]int
}

// watcher is one subscription's inbox: the users changed since it last
// looked, and a wake-up signal.
type watcher struct {
	mu       sync.Mutex
	pending  map[string]struct{}
	resync   bool // re-check everything (notices may have been missed)
	overflow bool
	wake     chan struct{}
}

func newFeed() *feed {
	return &feed{byUser: map[string]map[*watcher]struct{}{}, all: map[*watcher]struct{}{}, perUser: map[string]int{}}
}

func (w *watcher) note(userID string) {
	w.mu.Lock()
	if userID == "" {
		w.resync = true
	} else if len(w.pending) >= maxPendingUsers {
		w.overflow = true
	} else {
		w.pending[userID] = struct{}{}
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns and clears what the watcher has pending.
func (w *watcher) take() (ids []string, resync, overflow bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.pending {
		ids = append(ids, id)
	}
	clear(w.pending)
	resync, overflow = w.resync, w.overflow
	w.resync = false
	return ids, resync, overflow
}

// add registers w for the users in ids (the subscriber's own first), and
// for every user when all.
func (f *feed) add(w *watcher, ids []string, all bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n >= MaxSubscriptions {
		return Errorf(ERateLimited, "Too many subscriptions on this server; try again later.")
	}
	if f.perUser[ids[0]] >= MaxSubscriptionsPerUser {
		return Errorf(ERateLimited, "Too many subscriptions for this user; close some first.")
	}
	f.n++
	f.perUser[ids[0]]++
	if all {
		f.all[w] = struct{}{}
	}
	for _, id := range ids {
		if f.byUser[id] == nil {
			f.byUser[id] = map[*watcher]struct{}{}
		}
		f.byUser[id][w] = struct{}{}
	}
	return nil
}

func (f *feed) remove(w *watcher, ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.perUser[ids[0]]--; f.perUser[ids[0]] <= 0 {
		delete(f.perUser, ids[0])
	}
	delete(f.all, w)
	for _, id := range ids {
		delete(f.byUser[id], w)
		if len(f.byUser[id]) == 0 {
			delete(f.byUser, id)
		}
	}
}

// publish tells the subscriptions following userID ("" for everyone: a
// resync after notices may have been missed) that it changed.
func (f *feed) publish(userID string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	var ws []*watcher
	if userID == "" {
		for _, set := range f.byUser {
			for w := range set {
				ws = append(ws, w)
			}
		}
	} else {
		for w := range f.byUser[userID] {
			ws = append(ws, w)
		}
	}
	for w := range f.all {
		ws = append(ws, w)
	}
	f.mu.Unlock()
	for _, w := range ws {
		w.note(userID)
	}
}

// Subscriptions reports how many subscriptions are open in this process.
func (s *Service) Subscriptions() int {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.feed.n
}

// userChanged is called when another process's change to userID is read
// from the change log: the token cache forgets the user and subscriptions
// are told. "" means changes may have been missed: the cache forgets
// everyone and every subscription re-reads what it follows.
func (s *Service) userChanged(userID string) {
	if userID == "" {
		s.auth.clear()
	} else {
		s.auth.forget(userID)
	}
	s.feed.publish(userID)
}

// WatchUser streams the user with id (the caller's own when id is "")
// after every committed change, made through any process. The caller must
// be allowed to see the user, exactly as for a query (others are
// ENotFound to non-admins). Before each event the caller's token and
// account are checked again: when the token is revoked or the caller may
// no longer act or see the user, the stream sends that error and ends.
// It ends when ctx ends.
func (s *Service) WatchUser(ctx context.Context, id string) (<-chan Event, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.User == nil {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	if id == "" {
		id = p.User.ID
	}
	if _, err := s.target(ctx, s.store, p.User, ActionWatch, id, false); err != nil {
		return nil, err
	}
	return s.watch(ctx, p, []string{id})
}

// WatchUsers streams every user after every committed change, made
// through any process (a created user included). Admins only; checked
// again before each event like WatchUser.
func (s *Service) WatchUsers(ctx context.Context) (<-chan Event, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.User == nil {
		return nil, Errorf(EUnauthenticated, "Authentication required.")
	}
	if err := Authorize(p.User, ActionWatchAll, nil, s.now()); err != nil {
		return nil, err
	}
	return s.watch(ctx, p, nil)
}

// watch runs one subscription: ids are the users it follows (nil: all).
// It also follows the subscriber's own user, whose changes (a disable, a
// revocation) may end it.
func (s *Service) watch(ctx context.Context, p *Principal, ids []string) (<-chan Event, error) {
	w := &watcher{pending: map[string]struct{}{}, wake: make(chan struct{}, 1)}
	follow := append([]string{p.User.ID}, ids...)
	if err := s.feed.add(w, follow, ids == nil); err != nil {
		return nil, err
	}
	out := make(chan Event, eventBuffer)
	go func() {
		defer close(out)
		defer s.feed.remove(w, follow)
		// Time alone ends access too (the token's or the account's
		// expiry): check again at least once a second. The first check
		// comes at a random point of the first second, so subscriptions
		// opened together (clients reconnecting after a restart) spread
		// their rechecks over the second instead of reading together
		// (a recheck reads the database only when the token cache cannot
		// answer).
		tick := time.NewTimer(rand.N(time.Second) + time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			case <-tick.C:
				tick.Reset(time.Second)
			}
			changed, resync, overflow := w.take()
			if resync {
				// Every subscription is woken at once by a resync (the
				// change-log follower restarted, the database may just
				// have had trouble): spread the re-reads over resyncSpread.
				select {
				case <-ctx.Done():
					return
				case <-time.After(rand.N(resyncSpread)):
				}
				more, _, moreOverflow := w.take() // what came meanwhile goes too
				changed, overflow = append(changed, more...), overflow || moreOverflow
			}
			var err error = Errorf(ERateLimited, "The subscriber is too slow; subscribe again.")
			if !overflow {
				var actor *User
				if actor, err = s.Recheck(ctx, p); err == nil && ids == nil {
					err = Authorize(actor, ActionWatchAll, nil, s.now())
				}
				if err == nil {
					err = s.sendChanged(ctx, out, actor, ids, changed, resync)
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				// Events still waiting were checked under access that has
				// ended (or are what a slow subscriber could not take):
				// drop them, so the error is what the subscriber gets next.
				for len(out) > 0 {
					select {
					case <-out:
					default:
					}
				}
				select {
				case out <- Event{Err: err}:
				case <-time.After(time.Second):
				}
				return
			}
		}
	}()
	return out, nil
}

// sendChanged sends the users of changed (or, on resync, every followed
// user) that the subscription follows, as actor may see them now.
func (s *Service) sendChanged(ctx context.Context, out chan<- Event, actor *User, ids, changed []string, resync bool) error {
	if resync && ids != nil {
		changed = ids
	}
	for _, id := range changed {
		if ids != nil && id != ids[0] {
			continue // the subscriber's own user, followed only to re-check access
		}
		u, err := s.target(ctx, s.store, actor, ActionWatch, id, false)
		if err != nil {
			if ids == nil && ErrorCode(err) == ENotFound {
				continue
			}
			return err
		}
		select {
		case out <- Event{User: u}:
		default:
			return Errorf(ERateLimited, "The subscriber is too slow; subscribe again.")
		}
	}
	return nil
}

// Recheck verifies again, without counting a request, that the caller of
// a long-lived request (a subscription) may still act: their token is
// live and their account usable. It returns the caller's current user.
func (s *Service) Recheck(ctx context.Context, p *Principal) (*User, error) {
	if p.Token == nil {
		return p.User, nil // the built-in system caller
	}
	tok, owner, _, err := s.lookupToken(ctx, p.Token.Hash, nil)
	if err != nil {
		return nil, err
	}
	if err := admits(tok, owner, s.now()); err != nil {
		return nil, err
	}
	return owner, nil
}
