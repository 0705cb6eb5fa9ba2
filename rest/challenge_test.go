package rest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"usersvc"
	"usersvc/internal/testenv"
)

// TestBearerChallenge: RFC 6750 §3 on REST and on /graphql (GET and POST).
// A request without credentials for the Bearer scheme gets a challenge
// without an error code; a rejected token gets error="invalid_token".
func TestBearerChallenge(t *testing.T) {
	const (
		plain   = `Bearer realm="usersvc"`
		invalid = `Bearer realm="usersvc", error="invalid_token"`
	)
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		expiring, err := e.Svc.CreateToken(usersvc.SystemContext(context.Background()), e.Bob.ID, "short", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(2 * time.Hour)
		unknown := usersvc.TokenPrefix + strings.Repeat("A", 43)
		for _, tc := range []struct {
			name, header, query, want string
		}{
			{"missing", "", "", plain},
			{"another scheme", "Basic YWxpY2U6cHc=", "", plain},
			{"bearer without a token", "Bearer", "", invalid},
			{"not a token", "Bearer hello", "", invalid},
			{"unknown", "Bearer " + unknown, "", invalid},
			{"expired", "Bearer " + expiring, "", invalid},
			{"an API key is not a bearer token", "Bearer " + usersvc.APIKeyPrefix + strings.Repeat("A", 43), "", invalid},
			{"token in the query string", "", "access_token=" + e.AliceToken, invalid},
		} {
			for _, target := range []struct{ method, path, body string }{
				{"GET", "/api/users/" + e.Alice.ID, ""},
				{"GET", "/graphql?query=%7Bme%7Bid%7D%7D", ""},
				{"POST", "/graphql", `{"query":"{ me { id } }"}`},
			} {
				p := target.path
				if tc.query != "" {
					p += map[bool]string{true: "&", false: "?"}[strings.Contains(p, "?")] + tc.query
				}
				var hdrs []string
				if tc.header != "" {
					hdrs = append(hdrs, "Authorization: "+tc.header)
				}
				r := e.Do(t, target.method, p, "", target.body, hdrs...)
				if r.Status != 401 || r.Header.Get("WWW-Authenticate") != tc.want {
					t.Errorf("%s, %s %s: %d WWW-Authenticate %q, want %q", tc.name, target.method, target.path, r.Status, r.Header.Get("WWW-Authenticate"), tc.want)
				}
			}
		}
		// A good token gets no challenge; neither does a refused account (403).
		if r := e.Do(t, "GET", "/api/users/"+e.Alice.ID, e.AliceToken, ""); r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("challenge on success: %q", r.Header.Get("WWW-Authenticate"))
		}
	})
}

// TestGraphQLAuthErrorsAsGraphQL: /graphql's 401 and 403 answers honour
// Accept: with application/graphql-response+json they are that media type
// and a GraphQL error body (no "data"), so GraphQL clients see the code;
// with application/json (or no Accept) they stay application/json.
func TestGraphQLAuthErrorsAsGraphQL(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		disabled, tok := e.NewUser(t, "D", "disabled@example.com", "UTC", usersvc.RoleUser)
		if r := e.Do(t, "PATCH", "/api/users/"+disabled.ID, e.AdminToken, `[{"op":"replace","path":"/disabled","value":true}]`, "Content-Type: application/json-patch+json"); r.Status != 200 {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name, token   string
			status        int
			code, message string
		}{
			{"no token", "", 401, "UNAUTHENTICATED", "Authentication required."},
			{"bad token", "usv_bad", 401, "UNAUTHENTICATED", "Invalid or expired token."},
			{"disabled account", tok, 403, "FORBIDDEN", "This account is disabled."},
		} {
			for _, accept := range []struct{ header, ctype string }{
				{"application/graphql-response+json", "application/graphql-response+json"},
				{"application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"},
				{"application/json", "application/json"},
				{"", "application/json"},
			} {
				for _, target := range []struct{ method, path, body string }{
					{"GET", "/graphql?query=%7Bme%7Bid%7D%7D", ""},
					{"POST", "/graphql", `{"query":"{ me { id } }"}`},
				} {
					var hdrs []string
					if accept.header != "" {
						hdrs = append(hdrs, "Accept: "+accept.header)
					}
					r := e.Do(t, target.method, target.path, tc.token, target.body, hdrs...)
					errs, _ := r.JSON["errors"].([]any)
					var code, msg any
					if len(errs) == 1 {
						first, _ := errs[0].(map[string]any)
						ext, _ := first["extensions"].(map[string]any)
						code, msg = ext["code"], first["message"]
					}
					_, hasData := r.JSON["data"]
					if r.Status != tc.status || r.Header.Get("Content-Type") != accept.ctype || code != tc.code || msg != tc.message || hasData {
						t.Errorf("%s, Accept %q, %s: %d %q %s", tc.name, accept.header, target.method, r.Status, r.Header.Get("Content-Type"), r.Body)
					}
				}
			}
		}
	})
}
