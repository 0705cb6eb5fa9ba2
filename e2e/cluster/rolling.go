package main

// The rolling-restart test: a mixed load through the balancer while every
// replica restarts in turn.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type loadUser struct {
	id, email, password, token string
	mu                         sync.Mutex
	tags                       map[string]string // acknowledged
	requests                   int64             // answered requests carrying this user's token
}

func rollingRestartTest(ctx context.Context, c *cluster, adminToken string) error {
	cl := &client{base: c.front, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	// Users with passwords, each signed in once for a session token.
	var us []*loadUser
	for i := 0; i < *users; i++ {
		u := &loadUser{email: fmt.Sprintf("load%d@cluster.test", i), password: fmt.Sprintf("password number %d", i), tags: map[string]string{}}
		body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("Load %d", i), "email": u.email, "country": "ES", "timeZone": "UTC", "password": u.password})
		st, m, err := cl.do("POST", "/api/users", adminToken, "application/json", string(body))
		if err != nil || st != 201 {
			return fmt.Errorf("creating user %d: %d %v %v", i, st, m, err)
		}
		u.id, _ = m["id"].(string)
		st, m, err = cl.do("POST", "/api/Auth/Token", "", "application/json", fmt.Sprintf(`{"userName":%q,"password":%q}`, u.email, u.password))
		if err != nil || st != 200 {
			return fmt.Errorf("signing user %d in: %d %v %v", i, st, m, err)
		}
		u.token, _ = m["token"].(string)
		u.requests++ // a sign-in counts against the user's quota
		us = append(us, u)
	}
	log.Printf("%d users ready; load for %s while each replica restarts", len(us), *duration)

	var (
		requests, failures atomic.Int64
		failMu             sync.Mutex
		failSamples        []string
		tagSeq             atomic.Int64
	)
	fail := func(what string) {
		failures.Add(1)
		failMu.Lock()
		if len(failSamples) < 20 {
			failSamples = append(failSamples, what)
		}
		failMu.Unlock()
	}
	loadCtx, stopLoad := context.WithTimeout(ctx, *duration)
	defer stopLoad()

	// The subscriber follows user 0 and reconnects whenever its socket ends.
	sub := &subscriber{base: c.front, user: us[0]}
	subDone := make(chan error, 1)
	go func() { subDone <- sub.run(loadCtx) }()

	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				u := us[randInt(len(us))]
				u.mu.Lock()
				full := len(u.tags) >= 95
				u.mu.Unlock()
				if randInt(10) < 2 && !full {
					k := fmt.Sprintf("t%d", tagSeq.Add(1))
					// tags are written by admins (an owner may not change them)
					st, m, err := cl.do("PATCH", "/api/users/"+u.id, adminToken, "application/json-patch+json", fmt.Sprintf(`[{"op":"add","path":"/tags/%s","value":"v"}]`, k))
					requests.Add(1)
					if err != nil || st != 200 {
						fail(fmt.Sprintf("PATCH %s: %d %v %v", u.id, st, m["error"], err))
						continue
					}
					u.mu.Lock()
					u.tags[k] = "v"
					u.mu.Unlock()
				} else if n := randInt(10); n < 2 && *mode == "pooler" {
					// GraphQL: the caller's own user (metered), or an
					// admin's page of users with their histories.
					token, q := u.token, `{"query":"{ me { id name tags } }"}`
					if n == 1 {
						token, q = adminToken, `{"query":"{ users(first: 20) { edges { node { id history(first: 3) { totalCount edges { node { action } } } } } } }"}`
					}
					st, m, err := cl.do("POST", "/graphql", token, "application/json", q)
					requests.Add(1)
					if err != nil || st != 200 || m["errors"] != nil {
						fail(fmt.Sprintf("GraphQL %s: %d %v %v", u.id, st, m["errors"], err))
						continue
					}
					if n == 0 {
						u.mu.Lock()
						u.requests++
						u.mu.Unlock()
					}
				} else {
					st, m, err := cl.do("GET", "/api/users/"+u.id, u.token, "", "")
					requests.Add(1)
					if err != nil || st != 200 {
						fail(fmt.Sprintf("GET %s: %d %v %v", u.id, st, m["error"], err))
						continue
					}
					u.mu.Lock()
					u.requests++
					u.mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() { // sign-ins: bcrypt-bound, a few a second
		defer wg.Done()
		for loadCtx.Err() == nil {
			u := us[1+randInt(len(us)-1)]
			st, m, err := cl.do("POST", "/api/Auth/Token", "", "application/json", fmt.Sprintf(`{"userName":%q,"password":%q}`, u.email, u.password))
			requests.Add(1)
			if err != nil || st != 200 {
				fail(fmt.Sprintf("sign-in %s: %d %v %v", u.id, st, m["error"], err))
			} else {
				u.mu.Lock()
				u.requests++ // a sign-in counts against the user's quota
				u.mu.Unlock()
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()

	// Restart each replica in turn, the last well before the load ends, so
	// that a subscription on it has time to reconnect and receive again:
	// replica i at (i+1)/(n+2) of the run.
	start := time.Now()
	var restartErr error
	if *mode == "pooler" {
		<-loadCtx.Done()
	}
	for i, r := range c.replicas {
		if *mode == "pooler" {
			break
		}
		at := start.Add(*duration * time.Duration(i+1) / time.Duration(len(c.replicas)+2))
		select {
		case <-time.After(time.Until(at)):
		case <-loadCtx.Done():
		}
		if loadCtx.Err() != nil {
			restartErr = fmt.Errorf("the load ended before %s could be restarted", r.name)
			break
		}
		log.Printf("restarting %s", r.name)
		if err := c.restart(r); err != nil {
			restartErr = err
			break
		}
		log.Printf("%s is back", r.name)
	}
	wg.Wait()
	stopLoad()
	subErr := <-subDone
	if restartErr != nil {
		return restartErr
	}
	log.Printf("load done: %d requests, %d failed", requests.Load(), failures.Load())

	var problems []string
	if n := failures.Load(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d client requests failed, e.g. %s", n, requests.Load(), strings.Join(failSamples, "; ")))
	}
	if subErr != nil {
		problems = append(problems, "subscription: "+subErr.Error())
	}

	// After the load: wait past the usage bound (written within 1 s, re-read
	// within the next), then check tags and counts through the balancer.
	time.Sleep(3 * time.Second)
	missingTags, wrongUsage := 0, 0
	for _, u := range us {
		st, m, err := cl.do("GET", "/api/users/"+u.id, adminToken, "", "")
		if err != nil || st != 200 {
			return fmt.Errorf("reading %s: %d %v", u.id, st, err)
		}
		stored, _ := m["tags"].(map[string]any)
		for k := range u.tags {
			if stored[k] != "v" {
				missingTags++
			}
		}
		want := u.requests + 1 // the check itself counts
		most := want
		if u == us[0] {
			// Each connection_init counts, and so does each subscribe
			// the server took: certainly those an event answered, at
			// most every one sent (one sent just before a restart may
			// never have been read).
			want += sub.inits.Load() + sub.subsAnswered.Load()
			most = want + sub.subsSent.Load() - sub.subsAnswered.Load()
		}
		st, m, err = cl.do("GET", "/api/users/"+u.id, u.token, "", "")
		if err != nil || st != 200 {
			return fmt.Errorf("reading %s as itself: %d %v", u.id, st, err)
		}
		if got, _ := m["apiUsage"].(json.Number).Int64(); got < want || got > most {
			wrongUsage++
			if wrongUsage <= 5 {
				problems = append(problems, fmt.Sprintf("%s: apiUsage %d, want %d to %d", u.id, got, want, most))
			}
		}
	}
	if missingTags > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged tags are not stored", missingTags))
	}
	if wrongUsage > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d users' apiUsage is not exact", wrongUsage, len(us)))
	}
	log.Printf("subscription: %d connections, %d events, %d after a reconnect", sub.inits.Load(), sub.events.Load(), sub.afterReconnect.Load())
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n  "))
	}
	if *mode == "pooler" {
		fmt.Printf("pooler: 1 passed, 0 failed (%d requests through pgbouncer in transaction mode over %d replicas, 0 failed; %d users' tags and usage exact)\n",
			requests.Load(), len(c.replicas), len(us))
		return nil
	}
	fmt.Printf("cluster: 1 passed, 0 failed (%d requests, 0 failed; 3 restarts; %d users' tags and usage exact; subscription reconnected %d time(s))\n",
		requests.Load(), len(us), sub.inits.Load()-1)
	return nil
}
