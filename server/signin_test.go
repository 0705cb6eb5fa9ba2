package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// signInOver is one sign-in through a transport, over the network from a
// client's own address: the token, or the error code and Retry-After.
type signInOver func(t *testing.T, c *http.Client, base, email, password string) (token, code, retryAfter string)

var transports = []struct {
	name   string
	signIn signInOver
}{
	{"rest", func(t *testing.T, c *http.Client, base, email, password string) (string, string, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"userName": email, "password": password})
		r := testenv.DoOver(t, c, base, "POST", "/api/Auth/Token", "", string(b))
		switch r.Status {
		case 200:
			return r.JSON["token"].(string), "", ""
		case 401:
			return "", "UNAUTHENTICATED", r.Header.Get("Retry-After")
		case 429:
			return "", "RATE_LIMITED", r.Header.Get("Retry-After")
		}
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
		return "", "", ""
	}},
	{"graphql", func(t *testing.T, c *http.Client, base, email, password string) (string, string, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
			"variables": map[string]any{"e": email, "p": password}})
		r := testenv.DoOver(t, c, base, "POST", "/graphql", "", string(b))
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		if errs, _ := r.JSON["errors"].([]any); len(errs) > 0 {
			ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
			code, _ := ext["code"].(string)
			retry := ""
			if ext["retryAfter"] != nil {
				retry = fmt.Sprint(ext["retryAfter"])
			}
			return "", code, retry
		}
		return r.JSON["data"].(map[string]any)["login"].(map[string]any)["token"].(string), "", ""
	}},
}

// TestSignInCannotLockOut: failures from some addresses never keep the
// account's owner out from an address that has not failed; the addresses
// that fail are refused (429 with Retry-After) or slowed down. Clients
// connect from distinct loopback addresses; the throttle reads the test
// clock, which stands still unless the test moves it.
func TestSignInCannotLockOut(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
				e := testenv.Start(t, db)
				if r := e.Do(t, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken, `[{"op":"add","path":"/password","value":"alice passphrase"}]`, "Content-Type: application/json-patch+json"); r.Status != 200 {
					t.Fatal(r.Status)
				}
				base := e.Serve(t)
				from := func(n int) *http.Client { return testenv.Client(t, fmt.Sprintf("127.0.0.%d", n)) }
				expect := func(c *http.Client, password, wantCode, wantRetry string) string {
					t.Helper()
					tok, code, retry := tr.signIn(t, c, base, "alice@example.com", password)
					if code != wantCode || retry != wantRetry || (wantCode == "") != (tok != "") {
						t.Fatalf("sign-in with %q: code %q Retry-After %q, want %q %q", password, code, retry, wantCode, wantRetry)
					}
					return tok
				}
				attacker, owner := from(2), from(3)

				// Five wrong passwords from one address block that address for the account…
				for i := 0; i < 5; i++ {
					expect(attacker, fmt.Sprintf("guess %d", i), "UNAUTHENTICATED", "")
				}
				expect(attacker, "alice passphrase", "RATE_LIMITED", "900")
				// …and not the owner, who has not failed.
				session := expect(owner, "alice passphrase", "", "")
				if r := e.Do(t, "GET", "/api/users/"+e.Alice.ID, session, ""); r.Status != 200 {
					t.Fatalf("the owner's session: %d", r.Status)
				}

				// Guesses from six more addresses: each address's first try runs.
				for n := 4; n <= 9; n++ {
					expect(from(n), "guess", "UNAUTHENTICATED", "")
				}
				// The account is being guessed at (11 failures): an address that
				// failed waits after its failure (1 s doubling, at most 60 s)…
				expect(from(4), "another guess", "RATE_LIMITED", "60")
				// …the owner still signs in at once…
				expect(owner, "alice passphrase", "", "")
				// …and when the owner mistypes, they wait like any failing address, boundedly.
				expect(owner, "alice passphraze", "UNAUTHENTICATED", "")
				expect(owner, "alice passphrase", "RATE_LIMITED", "60")
				e.Clock.Advance(time.Minute)
				expect(owner, "alice passphrase", "", "")

				// Twenty failures over many accounts block the address for every account.
				spray := from(20)
				for i := 0; i < 20; i++ {
					if _, code, _ := tr.signIn(t, spray, base, fmt.Sprintf("u%d@example.com", i), "x"); code != "UNAUTHENTICATED" {
						t.Fatalf("spray %d: %s", i, code)
					}
				}
				if _, code, retry := tr.signIn(t, spray, base, "bob@example.com", "x"); code != "RATE_LIMITED" || retry != "900" {
					t.Fatalf("address limit: %q %q", code, retry)
				}
			})
		})
	}
}

// TestOneSignInPerRequest: a GraphQL request runs one sign-in; aliased
// login or loginWithApiKey fields after it fail with INVALID and check no
// password, so they cost nothing and count as no failure.
func TestOneSignInPerRequest(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		if r := e.Do(t, "PATCH", "/api/users/"+e.Alice.ID, e.AliceToken, `[{"op":"add","path":"/password","value":"alice passphrase"}]`, "Content-Type: application/json-patch+json"); r.Status != 200 {
			t.Fatal(r.Status)
		}
		base := e.Serve(t)
		c := testenv.Client(t, "127.0.0.2")
		var q strings.Builder
		q.WriteString("mutation {")
		for i := 1; i <= 8; i++ {
			fmt.Fprintf(&q, ` l%d: login(email: "alice@example.com", password: "guess %d") { token }`, i, i)
		}
		q.WriteString(` k: loginWithApiKey(email: "alice@example.com", apiKey: "usk_x") { token } }`)
		b, _ := json.Marshal(map[string]any{"query": q.String()})
		r := testenv.DoOver(t, c, base, "POST", "/graphql", "", string(b))
		if r.Status != 200 {
			t.Fatalf("aliased logins: %d %s", r.Status, r.Body)
		}
		var got []string
		for _, err := range r.JSON["errors"].([]any) {
			m := err.(map[string]any)
			got = append(got, fmt.Sprintf("%v %v %s", m["path"], m["extensions"].(map[string]any)["code"], m["message"]))
		}
		sort.Strings(got)
		want := []string{"[k] INVALID Only one sign-in per request.", "[l1] UNAUTHENTICATED Invalid API key or username."}
		for i := 2; i <= 8; i++ {
			want = append(want, fmt.Sprintf("[l%d] INVALID Only one sign-in per request.", i))
		}
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// That request was one failure: four more single ones still run, the fifth is refused.
		for i := 0; i < 4; i++ {
			if _, code, _ := transports[1].signIn(t, c, base, "alice@example.com", "guess"); code != "UNAUTHENTICATED" {
				t.Fatalf("single failure %d after the aliased request: %s", i+2, code)
			}
		}
		if _, code, _ := transports[0].signIn(t, c, base, "alice@example.com", "alice passphrase"); code != "RATE_LIMITED" {
			t.Fatalf("after five failures: %s", code)
		}
		// A second sign-in is refused even when the first succeeded.
		ok := `mutation { a: login(email: "alice@example.com", password: "alice passphrase") { token } b: login(email: "alice@example.com", password: "alice passphrase") { token } }`
		b, _ = json.Marshal(map[string]any{"query": ok})
		r = testenv.DoOver(t, testenv.Client(t, "127.0.0.3"), base, "POST", "/graphql", "", string(b))
		if errs, _ := r.JSON["errors"].([]any); len(errs) != 1 || !strings.Contains(string(r.Body), `"path":["b"]`) || !strings.Contains(string(r.Body), "Only one sign-in per request.") {
			t.Fatalf("two good logins: %s", r.Body)
		}
	})
}
