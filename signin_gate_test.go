package usersvc_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/hashgate"
	"usersvc/internal/testenv"
	"usersvc/server"
)

// The bound on password checks at once, as sign-ins meet it.

// cancelAfterLookup is a Store that ends a sign-in's context right after
// the user is looked up (when cancel is set): the request's deadline comes
// while it waits for a hash slot.
type cancelAfterLookup struct {
	usersvc.Store
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (c *cancelAfterLookup) UserBySignInKey(ctx context.Context, key string) (*usersvc.User, error) {
	u, err := c.Store.UserBySignInKey(ctx, key)
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	c.mu.Unlock()
	return u, err
}

// gatedService is a service on e's store with one hash slot, whose
// loginPastDeadline signs in with a context that ends after the lookup.
type gatedService struct {
	*usersvc.Service
	st *cancelAfterLookup
}

func newGatedService(e *testenv.Env) *gatedService {
	st := &cancelAfterLookup{Store: e.Store}
	svc := usersvc.NewService(st)
	svc.Now, svc.BcryptCost, svc.Hashes = e.Clock.Now, e.Svc.BcryptCost, hashgate.New(1)
	return &gatedService{svc, st}
}

func (g *gatedService) loginPastDeadline(email, password string) error {
	ctx, cancel := context.WithCancel(signInCtx())
	defer cancel()
	g.st.mu.Lock()
	g.st.cancel = cancel
	g.st.mu.Unlock()
	_, err := g.Login(ctx, email, password)
	return err
}

// holdSlot takes g's only hash slot until release is closed.
func (g *gatedService) holdSlot(release chan struct{}) {
	held := make(chan struct{})
	go func() {
		_, _ = hashgate.Do(context.Background(), g.Hashes, 1, func() bool { close(held); <-release; return true })
	}()
	<-held
}

// newShortDeadlineHandler serves svc with a request deadline of 200 ms.
func newShortDeadlineHandler(svc *usersvc.Service) http.Handler {
	return server.New(svc, server.Config{RequestTimeout: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestSignInBusyAnswers503: with every slot taken until the sign-in's
// deadline, it answers 503 with Retry-After, runs no hash, and is not a
// failed attempt: more of them than the throttle's limit leave the right
// password accepted once a slot is free.
func TestSignInBusyAnswers503(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const pw = "correct horse battery"
		sys := usersvc.SystemContext(context.Background())
		p := pw
		if _, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: "N", Email: "busy@example.com", Country: "ES", TimeZone: "UTC", Password: &p}.Document()); err != nil {
			t.Fatal(err)
		}
		g := newGatedService(e)
		log := &hashLog{}
		usersvc.SetHashHook(g.Service, log.hook)
		release := make(chan struct{})
		g.holdSlot(release)
		for i := range g.Throttle.PairLimit + 2 {
			err := g.loginPastDeadline("busy@example.com", pw+"!")
			var ue *usersvc.Error
			if !errors.As(err, &ue) || ue.Code != usersvc.EUnavailable || ue.RetryAfter <= 0 {
				t.Fatalf("attempt %d: %v, want unavailable with Retry-After", i, err)
			}
		}
		if ops := log.take(); len(ops) != 0 {
			t.Fatalf("hashes ran without a slot: %q", ops)
		}
		close(release)
		if _, err := g.Login(signInCtx(), "busy@example.com", pw); err != nil {
			t.Fatalf("the right password after the busy attempts: %v (were they counted as failures?)", err)
		}
	})
}

// TestSignInBusyOverHTTP: the answer is 503 with a Retry-After header.
func TestSignInBusyOverHTTP(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		g := newGatedService(e)
		release := make(chan struct{})
		defer close(release)
		g.holdSlot(release)
		h := newShortDeadlineHandler(g.Service)
		r := testenv.Do(t, h, "POST", "/api/Auth/Token", "", `{"userName":"alice@example.com","password":"whatever it is"}`)
		if r.Status != 503 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%d %v %s, want 503 with Retry-After", r.Status, r.Header, r.Body)
		}
	})
}

// TestCheckStopsAtDeadline: a sign-in whose hash is still running at its
// deadline answers at once; the hash keeps its slot until it really ends,
// so a sign-in meanwhile finds no slot.
func TestCheckStopsAtDeadline(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		g := newGatedService(e)
		running, finish := make(chan struct{}), make(chan struct{})
		var once sync.Once
		log := &hashLog{block: func() {
			once.Do(func() { close(running); <-finish }) // the first hash runs until the test lets it end
		}}
		usersvc.SetHashHook(g.Service, log.hook)
		ctx, cancel := context.WithCancel(signInCtx())
		errc := make(chan error, 1)
		go func() {
			_, err := g.Login(ctx, "alice@example.com", "some password 1")
			errc <- err
		}()
		<-running
		cancel()
		if err := <-errc; usersvc.ErrorCode(err) != usersvc.ECanceled {
			t.Fatalf("err = %v, want the request's end", err)
		}
		if err := g.loginPastDeadline("bob@example.com", "some password 1"); usersvc.ErrorCode(err) != usersvc.EUnavailable {
			t.Fatalf("a second sign-in while the first hash runs: %v, want unavailable (the slot is still held)", err)
		}
		close(finish)
		if _, err := g.Login(signInCtx(), "bob@example.com", "some password 1"); usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
			t.Fatalf("after the hash ended: %v, want an ordinary failure", err)
		}
	})
}

// TestCheckCutByDeadlineCounts: a sign-in whose hash was already running
// when its request ended still counts as a failed attempt (a hash was
// spent): cancelling every request right after it starts buys no
// unthrottled hashing. Past the pair's limit the address is refused.
func TestCheckCutByDeadlineCounts(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		// A native account: each attempt is one bcrypt comparison, which
		// the hook holds (a passwordless one is padded by a wait instead).
		storeHash(t, e, e.Alice.ID, bcryptHash(t, "alice's own password", e.Svc.BcryptCost))
		g := newGatedService(e)
		running, finish := make(chan struct{}), make(chan struct{})
		usersvc.SetHashHook(g.Service, (&hashLog{block: func() { running <- struct{}{}; <-finish }}).hook)
		for i := range g.Throttle.PairLimit {
			ctx, cancel := context.WithCancel(signInCtx())
			errc := make(chan error, 1)
			go func() {
				_, err := g.Login(ctx, "alice@example.com", "a guess 12345")
				errc <- err
			}()
			<-running
			cancel()
			if err := <-errc; usersvc.ErrorCode(err) != usersvc.ECanceled {
				t.Fatalf("attempt %d: %v, want the request's end", i, err)
			}
			finish <- struct{}{} // the hash ends; its slot frees
		}
		d, err := g.Throttle.Decide(context.Background(), e.Clock.Now(), "alice@example.com", "192.0.2.7")
		if err != nil || d.Wait == 0 || d.Rule != usersvc.RulePair {
			t.Fatalf("after %d cut checks: %+v, %v; want the pair refused", g.Throttle.PairLimit, d, err)
		}
	})
}
