package graph_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/server"
)

// TestNoSuggestions: no validation message suggests a name from the
// schema, whatever was misspelt (field, enum value, argument, input field,
// type, directive argument, missing selection), on POST and GET, with
// introspection off and on.
func TestNoSuggestions(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		id := e.Alice.ID
		cases := []struct {
			name, query string
			vars        map[string]any
			want        string // a piece of the message: the misspelling was reported
		}{
			{"field", `{ me { emial } }`, nil, `"emial"`},
			{"enum value", `mutation { patchUser(id: "` + id + `", patch: [{op: replce, path: "/name", value: "N"}]) { id } }`, nil, `replce`},
			{"enum value in orderBy", `{ users(orderBy: {direction: ASCC}) { totalCount } }`, nil, `ASCC`},
			{"enum value in a variable", `mutation($p: [PatchOperationInput!]!) { patchUser(id: "` + id + `", patch: $p) { id } }`,
				map[string]any{"p": []any{map[string]any{"op": "replce", "path": "/name", "value": "N"}}}, `replce`},
			{"argument name", `{ user(idd: "x") { id } }`, nil, `"idd"`},
			{"input field", `{ users(where: {serch: "a"}) { totalCount } }`, nil, `serch`},
			{"input field in a variable", `query($w: UserWhereInput) { users(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"serch": "a"}}, `unknown field`},
			{"fragment type", `fragment F on Usr { id } { me { ...F } }`, nil, `"Usr"`},
			{"inline fragment type", `{ me { ... on Usr { id } } }`, nil, `"Usr"`},
			{"variable type", `query($w: UserWhereInpt) { users(where: $w) { totalCount } }`, nil, `"UserWhereInpt"`},
			{"directive argument", `{ me { id @include(iff: true) } }`, nil, `"iff"`},
			{"missing selection", `{ me }`, nil, `"me"`},
			{"field on a type", `{ me { histroy { id } } }`, nil, `"histroy"`},
		}
		for _, introspection := range []bool{false, true} {
			h := server.New(e.Svc, server.Config{Introspection: introspection, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			for _, tc := range cases {
				b, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
				post := testenv.Do(t, h, "POST", "/graphql", e.AliceToken, string(b))
				target := "/graphql?query=" + url.QueryEscape(tc.query)
				if tc.vars != nil {
					v, _ := json.Marshal(tc.vars)
					target += "&variables=" + url.QueryEscape(string(v))
				}
				get := testenv.Do(t, h, "GET", target, e.AliceToken, "")
				for _, r := range []*testenv.Response{post, get} {
					if errCode(r) == "" || !strings.Contains(errMessage(r), tc.want) {
						t.Errorf("introspection %v, %s: not refused as expected: %s", introspection, tc.name, r.Body)
					}
					if s := string(r.Body); strings.Contains(s, "Did you mean") || strings.Contains(s, "did you mean") {
						t.Errorf("introspection %v, %s: a suggestion: %s", introspection, tc.name, r.Body)
					}
				}
			}
		}
	})
}
