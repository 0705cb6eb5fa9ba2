package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// goLoad is the load generator used when wrk is not installed: conns
// keep-alive connections, each sending the scenario's next request as soon
// as the last one is answered, for d. It reports what parseWrk reads.
func goLoad(addr, scenario string, conns int, d time.Duration) result {
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		latencies []time.Duration
		errs      atomic.Int64
		seq       atomic.Int64
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}, Timeout: 10 * time.Second}
			var local []time.Duration
			for time.Now().Before(deadline) {
				req := buildRequest(addr, scenario, int(seq.Add(1)))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode >= 300 {
					errs.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	return result{rps: float64(len(latencies)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99),
		requests: int64(len(latencies)), errors: errs.Load()}
}

// buildRequest mirrors the wrk scripts of writeScripts.
func buildRequest(addr, scenario string, n int) *http.Request {
	i := n%*tokens + 1
	switch scenario {
	case "onetoken", "other", "users", "scimfilter", "scimpatch", "restdisable", "scimpage", "scimdeep", "restpage":
		i = 1 // user 1 is the admin
	}
	id, tok := userID(i), secret(i)
	var method, path, ctype, body string
	switch scenario {
	case "get", "onetoken":
		method, path = "GET", "/api/users/"+id
	case "other":
		method, path = "GET", "/api/users/"+userID(rand.IntN(*users)+1)
	case "users":
		method, path, ctype = "POST", "/graphql", "application/json"
		body = `{"query":"{ users(first: 50) { totalCount edges { cursor node { id name email country timeZone tags role } } } }"}`
	case "scimfilter":
		method, path = "GET", fmt.Sprintf("/scim/v2/Users?filter=userName%%20eq%%20%%22user%d%%40example.com%%22", rand.IntN(*users)+1)
	case "scimpatch":
		target, disable := adminWrite(n)
		method, path, ctype = "PATCH", "/scim/v2/Users/"+target, "application/scim+json"
		body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":%t}}]}`, !disable)
	case "restdisable":
		target, disable := adminWrite(n)
		method, path, ctype = "PATCH", "/api/users/"+target, "application/json-patch+json"
		body = fmt.Sprintf(`[{"op":"replace","path":"/disabled","value":%t}]`, disable)
	case "scimpage":
		method, path = "GET", "/scim/v2/Users?startIndex=1&count=100"
	case "scimdeep":
		method, path = "GET", fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=100", rand.IntN(max(1, *users-99))+1)
	case "restpage":
		method, path = "GET", "/api/users?limit=100"
	case "signin":
		method, path, ctype = "POST", "/api/Auth/Token", "application/json"
		body = fmt.Sprintf(`{"userName":"user%d@example.com","password":%q}`, i, benchPassword)
	case "graphql":
		method, path, ctype = "POST", "/graphql", "application/json"
		body = `{"query":"query($id: ID!) { user(id: $id) { id name email country timeZone tags privileges role } }","variables":{"id":"` + id + `"}}`
	case "patch":
		method, path, ctype = "PATCH", "/api/users/"+id, "application/json-patch+json"
		body = fmt.Sprintf(`[{"op":"replace","path":"/description","value":"d%d"}]`, n)
	case "put":
		method, path, ctype = "PUT", "/api/users/"+id, "application/json"
		body = fmt.Sprintf(`{"name":"User %d","email":"user%d@example.com","country":"ES","timeZone":"Europe/Madrid","description":"p%d"}`, i, i, n)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req
}
