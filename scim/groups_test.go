package scim_test

import (
	"net/url"
	"strings"
	"testing"

	"usersvc/internal/testenv"
)

const groups = "/scim/v2/Groups"

// members lists a group answer's member ids and display names.
func members(r *testenv.Response) string {
	var out []string
	list, _ := r.JSON["members"].([]any)
	for _, m := range list {
		mm := m.(map[string]any)
		d, _ := mm["display"].(string)
		out = append(out, mm["value"].(string)+"="+d)
	}
	return strings.Join(out, " ")
}

// TestGroups: create with members and their display names, read, PATCH
// (add, remove by filter, remove all, replace displayName), PUT, list
// filters and pages, If-Match, a taken displayName, delete.
func TestGroups(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		u1 := newSCIMUser(t, e, userBody("g.one", ""))
		u2 := newSCIMUser(t, e, userBody("g.two", ""))
		r := e.Do(t, "POST", groups, e.AdminToken, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","externalId":"x-1","members":[{"value":"`+u1+`","display":"One"}]}`)
		if r.Status != 201 || r.Header.Get("ETag") != `W/"1"` || members(r) != u1+"=One" || r.JSON["externalId"] != "x-1" {
			t.Fatalf("POST: %d %s", r.Status, r.Body)
		}
		id := r.JSON["id"].(string)
		patch := func(body string, headers ...string) *testenv.Response {
			t.Helper()
			return e.Do(t, "PATCH", groups+"/"+id, e.AdminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+body+`]}`, headers...)
		}
		if p := patch(`{"op":"Add","path":"members","value":[{"value":"` + u2 + `","displayName":"Two"}]}`); p.Status != 204 || p.Header.Get("ETag") != `W/"2"` {
			t.Fatalf("add: %d %s", p.Status, p.Body)
		}
		g := e.Do(t, "GET", groups+"/"+id, e.AdminToken, "")
		if want := sortedPair(u1+"=One", u2+"=Two"); members(g) != want {
			t.Fatalf("after add: %s, want %s", members(g), want)
		}
		scimError(t, patch(`{"op":"remove","path":"members[value eq \"`+u1+`\"]"}`, `If-Match: W/"1"`), 412, "")
		if p := patch(`{"op":"remove","path":"members[value eq \"` + u1 + `\"]"},{"op":"replace","value":{"displayName":"Ops Team"}}`); p.Status != 204 {
			t.Fatalf("remove: %d %s", p.Status, p.Body)
		}
		g = e.Do(t, "GET", groups+"/"+id+"?excludedAttributes=meta", e.AdminToken, "")
		if members(g) != u2+"=Two" || g.JSON["displayName"] != "Ops Team" || g.JSON["meta"] != nil {
			t.Fatalf("after remove: %s", g.Body)
		}
		scimError(t, patch(`{"op":"add","path":"members","value":[{"value":"usr-nobody"}]}`), 400, "invalidValue")
		if p := patch(`{"op":"remove","path":"members"}`); p.Status != 204 {
			t.Fatalf("remove all: %d %s", p.Status, p.Body)
		}
		if g = e.Do(t, "GET", groups+"/"+id, e.AdminToken, ""); members(g) != "" {
			t.Fatalf("after remove all: %s", g.Body)
		}
		put := e.Do(t, "PUT", groups+"/"+id, e.AdminToken, `{"displayName":"Ops","members":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}`)
		if put.Status != 200 || members(put) != sortedPair(u1+"=", u2+"=") || put.JSON["externalId"] != nil {
			t.Fatalf("PUT: %d %s", put.Status, put.Body)
		}
		other := e.Do(t, "POST", groups, e.AdminToken, `{"displayName":"Sales"}`)
		scimError(t, e.Do(t, "POST", groups, e.AdminToken, `{"displayName":"OPS"}`), 409, "uniqueness")
		for _, tc := range []struct{ query, want string }{
			{"filter=" + url.QueryEscape(`displayName eq "ops"`), "Ops"},
			{"filter=" + url.QueryEscape(`id eq "`+other.JSON["id"].(string)+`"`), "Sales"},
			{"startIndex=2&count=1", "Sales"},
			{"count=5", "Ops Sales"},
		} {
			r := e.Do(t, "GET", groups+"?"+tc.query, e.AdminToken, "")
			var names []string
			for _, res := range r.JSON["Resources"].([]any) {
				names = append(names, res.(map[string]any)["displayName"].(string))
			}
			if r.Status != 200 || strings.Join(names, " ") != tc.want {
				t.Errorf("%s: %d %s", tc.query, r.Status, r.Body)
			}
		}
		scimError(t, e.Do(t, "GET", groups+"?filter="+url.QueryEscape(`displayName co "o"`), e.AdminToken, ""), 400, "invalidFilter")
		if d := e.Do(t, "DELETE", groups+"/"+id, e.AdminToken, ""); d.Status != 204 {
			t.Fatalf("DELETE: %d %s", d.Status, d.Body)
		}
		scimError(t, e.Do(t, "GET", groups+"/"+id, e.AdminToken, ""), 404, "")
	})
}

func sortedPair(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}
