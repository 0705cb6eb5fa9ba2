package usersvc

import "time"

// Hooks into the token cache for the tests in package usersvc_test, which
// force the interleavings the cache must survive.

// SetAuthBeforePut runs f after each token check's database read and
// before its result is cached (nil removes it).
func SetAuthBeforePut(s *Service, f func(owner *User)) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.beforePut = f
}

// AuthGeneration is the sequence of the last invalidation of userID this
// process has seen (0 if none since the cache last started over).
func AuthGeneration(s *Service, userID string) uint64 {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.gen[userID]
}

// AuthListening reports whether the cache follows other processes' notices.
func AuthListening(s *Service) bool {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return !s.auth.down && s.auth.floor > 0
}

// AuthTTL is how long the token cache keeps an entry now: the watcher's
// ttl while its listener is live, 1 s otherwise.
func AuthTTL(s *Service) time.Duration {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.ttl
}

// AuthHeard is the time before which every other process's change has been
// heard (the cache's last heard; zero when none).
func AuthHeard(s *Service) time.Time {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.heardAt
}
