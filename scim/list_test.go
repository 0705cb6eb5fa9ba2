package scim_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"usersvc/internal/testenv"
)

// listNames lists the userNames of a list answer, sorted.
func listNames(t *testing.T, r *testenv.Response) []string {
	t.Helper()
	var names []string
	for _, res := range r.JSON["Resources"].([]any) {
		names = append(names, res.(map[string]any)["userName"].(string))
	}
	slices.Sort(names)
	return names
}

// filterEnv provisions four users (and the admin, Alice and Bob, who
// have no userName, are not in the collection).
func filterEnv(t *testing.T, db testenv.DB) *testenv.Env {
	e := testenv.Start(t, db)
	for _, body := range []string{
		`{"userName":"ann","displayName":"Ann Lee","name":{"familyName":"Lee"},"title":"CTO","emails":[{"value":"ann@x.example","type":"work","primary":true},{"value":"ann@home.example","type":"home"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`,
		`{"userName":"Bo_b","displayName":"Bob Ray","name":{"familyName":"Ray"},"emails":[{"value":"bob@y.example","type":"work"}],"active":false}`,
		`{"userName":"carl","displayName":"100% Carl","name":{"familyName":"Lee"},"emails":[{"value":"carl@x.example","type":"home"}]}`,
		`{"userName":"dana","displayName":"Dana","externalId":"ext-4"}`,
	} {
		e.Clock.Advance(time.Second)
		newSCIMUser(t, e, body)
	}
	return e
}

// TestFilters: each operator, logic and grouping, complex-attribute
// filters, attribute names in any case and unquoted values, on both
// databases: the userNames each filter finds; filters the service cannot
// run are 400 invalidFilter.
func TestFilters(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := filterEnv(t, db)
		created := e.Clock.Now().Add(-1500 * time.Millisecond).UTC().Format(time.RFC3339Nano) // after Bo_b, before carl
		for _, tc := range []struct {
			filter string
			want   string
		}{
			{`userName eq "ANN"`, "ann"},
			{`UserName Eq "bo_b"`, "Bo_b"},
			{`userName ne "ann"`, "Bo_b carl dana"},
			{`userName co "_"`, "Bo_b"},
			{`userName sw "c"`, "carl"},
			{`userName ew "N"`, "ann"},
			{`userName gt "bo_b"`, "carl dana"},
			{`userName ge "carl"`, "carl dana"},
			{`userName lt "b"`, "ann"},
			{`userName le "ann"`, "ann"},
			{`userName sw O`, ""},
			{`displayName co "%"`, "carl"},
			{`displayName sw "bob"`, "Bo_b"},
			{`active eq false`, "Bo_b"},
			{`active ne false`, "ann carl dana"},
			{`title pr`, "ann"},
			{`not (title pr)`, "Bo_b carl dana"},
			{`externalId eq "ext-4"`, "dana"},
			{`externalId eq "EXT-4"`, "dana"},
			{`name.FamilyName eq Lee`, "ann carl"},
			{`name.familyName eq "Lee" and not (emails.type eq "home")`, ""},
			{`name.familyName eq "Lee" and emails[type eq "work" and value co "@x."]`, "ann"},
			{`emails[type eq "home" and value co "@x."]`, "carl"},
			{`emails.value co "x.example"`, "ann carl"},
			{`emails co "Y.EXAMPLE"`, "Bo_b"},
			{`emails pr`, "Bo_b ann carl"},
			{`emails.primary eq true`, "ann"},
			{`emails[primary eq true] or userName eq "dana"`, "ann dana"},
			{`(userName eq "ann" or userName eq "carl") and title pr`, "ann"},
			{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`, "ann"},
			{`meta.created gt ` + created, "carl dana"},
			{`meta.Created lt "` + created + `"`, "Bo_b ann"},
			{`meta.lastModified ge 2000-01-01T00:00:00Z`, "Bo_b ann carl dana"},
			{`id eq "nobody"`, ""},
			{`title eq null`, "Bo_b carl dana"},
			{`userName eq "a\"b"`, ""},
		} {
			t.Run(tc.filter, func(t *testing.T) {
				r := e.Do(t, "GET", users+"?filter="+url.QueryEscape(tc.filter), e.AdminToken, "")
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				got := strings.Join(listNames(t, r), " ")
				if got != tc.want {
					t.Fatalf("got [%s], want [%s]", got, tc.want)
				}
				if n, _ := r.JSON["totalResults"].(json.Number).Int64(); int(n) != len(strings.Fields(tc.want)) {
					t.Fatalf("totalResults %d for [%s]", n, got)
				}
			})
		}
		for _, bad := range []string{
			`userName eq`, `userName zz "a"`, `(userName eq "a"`, `password eq "x"`, `groups eq "x"`, `nosuch eq "x"`,
			`name.nosuch eq "x"`, `emails[type eq "work"`, `emails[value eq "a"].type eq "x"`, `userName eq 5`,
			`active eq "yes"`, `meta.created gt "yesterday"`, `userName gt true`, `meta.version eq "x"`,
			`title co null`, strings.Repeat(`userName eq "a" or `, 70) + `userName eq "a"`, strings.Repeat("x", 5000),
		} {
			t.Run("invalid "+bad[:min(len(bad), 40)], func(t *testing.T) {
				scimError(t, e.Do(t, "GET", users+"?filter="+url.QueryEscape(bad), e.AdminToken, ""), 400, "invalidFilter")
			})
		}
	})
}

// TestListSelectionsAndPages: attributes and excludedAttributes (with
// sub-attributes, the extension and value filters), and startIndex and
// count pages with totalResults and the largest page.
func TestListSelectionsAndPages(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := filterEnv(t, db)
		get := func(q string) map[string]any {
			t.Helper()
			r := e.Do(t, "GET", users+"?filter="+url.QueryEscape(`userName eq "ann"`)+"&"+q, e.AdminToken, "")
			if r.Status != 200 || len(r.JSON["Resources"].([]any)) != 1 {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
			return r.JSON["Resources"].([]any)[0].(map[string]any)
		}
		keys := func(m map[string]any) string {
			var k []string
			for key := range m {
				k = append(k, key)
			}
			slices.Sort(k)
			return strings.Join(k, " ")
		}
		for _, tc := range []struct{ query, keys, check string }{
			{"attributes=userName,emails", "emails id schemas userName", ""},
			{"attributes=name.familyName", "id name schemas", `{"familyName":"Lee"}`},
			{"attributes=" + url.QueryEscape(`emails[type eq "work"]`), "emails id schemas", `[{"primary":true,"type":"work","value":"ann@x.example"}]`},
			{"attributes=emails.value", "emails id schemas", `[{"value":"ann@x.example"},{"value":"ann@home.example"}]`},
			{"attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "id schemas urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `{"department":"R\u0026D"}`}, // json.Marshal escapes &
			{"excludedAttributes=emails,meta,name,title,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "active displayName id schemas userName", ""},
			{"excludedAttributes=id,schemas,userName", "active displayName emails id meta name schemas title urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", ""},
		} {
			res := get(tc.query)
			if got := keys(res); got != tc.keys {
				t.Errorf("%s: keys [%s], want [%s]", tc.query, got, tc.keys)
			}
			if tc.check != "" {
				var v any
				for k, x := range res {
					if k != "id" && k != "schemas" && k != "userName" {
						v = x
					}
				}
				if b, _ := json.Marshal(v); string(b) != tc.check {
					t.Errorf("%s: %s, want %s", tc.query, b, tc.check)
				}
			}
		}
		// Pages over the four provisioned users, in creation order.
		for _, tc := range []struct {
			query        string
			names        string
			start, items int
		}{
			{"startIndex=1&count=2", "ann Bo_b", 1, 2},
			{"startIndex=3&count=2", "carl dana", 3, 2},
			{"startIndex=4&count=10", "dana", 4, 1},
			{"startIndex=9", "", 9, 0},
			{"count=0", "", 1, 0},
			{"startIndex=-3&count=1", "ann", 1, 1},
			{"count=100000", "ann Bo_b carl dana", 1, 4},
		} {
			r := e.Do(t, "GET", users+"?"+tc.query, e.AdminToken, "")
			var names []string
			for _, res := range r.JSON["Resources"].([]any) {
				names = append(names, res.(map[string]any)["userName"].(string))
			}
			if r.Status != 200 || strings.Join(names, " ") != tc.names || r.JSON["totalResults"] != json.Number("4") ||
				r.JSON["startIndex"] != json.Number(itoa(tc.start)) || r.JSON["itemsPerPage"] != json.Number(itoa(tc.items)) {
				t.Errorf("%s: %d %s", tc.query, r.Status, r.Body)
			}
		}
		c := e.Do(t, "GET", "/scim/v2/ServiceProviderConfig", e.AdminToken, "")
		if c.JSON["filter"].(map[string]any)["maxResults"] != json.Number("100") {
			t.Errorf("ServiceProviderConfig: %s", c.Body)
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
