package usersvc

import (
	"context"
	"sync"

	"golang.org/x/time/rate"
)

// Limits of WebSocket connections (subscriptions), per process. A socket
// is cheap to open and costs a file descriptor for as long as it stays:
// without these, one client held 1,500 sockets of one user, outliving the
// day's quota, and subscribed 20,000 times over them uncounted.
const (
	// MaxSocketsPerUser caps a user's initialised sockets.
	MaxSocketsPerUser = 20
	// MaxPendingSocketsPerAddress caps the sockets of one client address
	// that have not (yet) sent an accepted connection_init; they close
	// after 5 s anyway. Behind a proxy every client has the proxy's
	// address, so this is then the proxy's number of handshakes in flight.
	MaxPendingSocketsPerAddress = 64
	// SubscribesPerSecond and SubscribeBurst bound the subscribe
	// messages one socket may send: a token bucket, refilled at
	// SubscribesPerSecond, holding at most SubscribeBurst.
	SubscribesPerSecond = 5
	SubscribeBurst      = 20
)

// sockets counts open sockets per user and pending ones per address.
type sockets struct {
	mu      sync.Mutex
	perUser map[string]int
	pending map[string]int
}

func newSockets() *sockets {
	return &sockets{perUser: map[string]int{}, pending: map[string]int{}}
}

// Socket is one WebSocket connection's account with the service, from
// the upgrade to its close.
type Socket struct {
	s      *Service
	addr   string
	user   string // once initialised
	closed bool

	// subscribes is the socket's token bucket for subscribe messages.
	subscribes *rate.Limiter
}

// OpenSocket admits a new socket from the client address addr, which
// counts as pending until Init; ERateLimited past
// MaxPendingSocketsPerAddress. Close releases it.
func (s *Service) OpenSocket(addr string) (*Socket, error) {
	c := s.sockets
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[addr] >= MaxPendingSocketsPerAddress {
		return nil, Errorf(ERateLimited, "Too many WebSocket connections being opened from this address; try again later.")
	}
	c.pending[addr]++
	return &Socket{s: s, addr: addr, subscribes: rate.NewLimiter(SubscribesPerSecond, SubscribeBurst)}, nil
}

// Init records that the socket's connection_init authenticated p: the
// socket stops being pending and counts for p's user; ERateLimited when
// the user already has MaxSocketsPerUser sockets (the socket stays
// pending until closed).
func (k *Socket) Init(p *Principal) error {
	c := k.s.sockets
	c.mu.Lock()
	defer c.mu.Unlock()
	if k.closed || k.user != "" {
		return nil
	}
	if c.perUser[p.User.ID] >= MaxSocketsPerUser {
		return Errorf(ERateLimited, "Too many open WebSocket connections for this user (at most %d); close some first.", MaxSocketsPerUser)
	}
	c.perUser[p.User.ID]++
	c.release(c.pending, k.addr)
	k.user = p.User.ID
	return nil
}

// Close releases the socket's counts; it may be called more than once.
func (k *Socket) Close() {
	c := k.s.sockets
	c.mu.Lock()
	defer c.mu.Unlock()
	if k.closed {
		return
	}
	k.closed = true
	if k.user != "" {
		c.release(c.perUser, k.user)
	} else {
		c.release(c.pending, k.addr)
	}
}

func (c *sockets) release(m map[string]int, key string) {
	if m[key]--; m[key] <= 0 {
		delete(m, key)
	}
}

// Subscribe accounts for one subscribe message on the socket: it counts
// as a request of the socket's caller against the daily quota (refused
// past it, like any request), and past the socket's rate
// (SubscribesPerSecond, bursts of SubscribeBurst) it is refused with
// ERateLimited. p is the caller the socket was initialised with.
func (k *Socket) Subscribe(ctx context.Context, p *Principal) error {
	if !k.subscribes.Allow() {
		e := Errorf(ERateLimited, "Too many subscriptions started on this connection; at most %d a second.", SubscribesPerSecond)
		e.RetryAfter = 1
		return e
	}
	s := k.s
	usage, quota, err := s.meter(ctx, p.User, s.now())
	if err != nil {
		return err
	}
	return s.CheckQuota(&Principal{User: p.User, Token: p.Token, Usage: usage, Quota: quota})
}

// SocketCounts reports the open sockets of userID and the pending ones of
// addr (for tests and metrics).
func (s *Service) SocketCounts(userID, addr string) (user, pending int) {
	s.sockets.mu.Lock()
	defer s.sockets.mu.Unlock()
	return s.sockets.perUser[userID], s.sockets.pending[addr]
}
