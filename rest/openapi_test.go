package rest_test

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"usersvc/api"
	"usersvc/internal/testenv"
)

// openAPI checks real answers against api/openapi.json: the status must be
// documented for the operation, the body must match the documented schema
// for its content type, and documented required headers must be present.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	paths    []string
	covered  map[string]bool
}

const specURL = "file:///openapi.json"

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(api.OpenAPI))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		t.Fatal(err)
	}
	o := &openAPI{doc: doc.(map[string]any), compiler: c, covered: map[string]bool{}}
	for p := range o.doc["paths"].(map[string]any) {
		o.paths = append(o.paths, p)
	}
	// Literal paths before templated ones, so /api/users/countries wins.
	sort.Slice(o.paths, func(i, j int) bool {
		ni, nj := strings.Count(o.paths[i], "{"), strings.Count(o.paths[j], "{")
		if ni != nj {
			return ni < nj
		}
		return o.paths[i] < o.paths[j]
	})
	return o
}

func (o *openAPI) match(path string) string {
	for _, p := range o.paths {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = "[^/]+"
			} else {
				segs[i] = regexp.QuoteMeta(s)
			}
		}
		if regexp.MustCompile("^" + strings.Join(segs, "/") + "$").MatchString(path) {
			return p
		}
	}
	return ""
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func (o *openAPI) resolve(v any) map[string]any {
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		var cur any = o.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		return cur.(map[string]any)
	}
	return m
}

func (o *openAPI) check(t *testing.T, method, target string, r *testenv.Response) {
	t.Helper()
	u, _ := url.Parse(target)
	tpl := o.match(u.Path)
	if tpl == "" {
		t.Errorf("%s %s: no path in the OpenAPI document", method, u.Path)
		return
	}
	m := strings.ToLower(method)
	op, ok := o.doc["paths"].(map[string]any)[tpl].(map[string]any)[m].(map[string]any)
	if !ok {
		t.Errorf("%s %s: operation not documented", method, tpl)
		return
	}
	status := strconv.Itoa(r.Status)
	resp, ok := op["responses"].(map[string]any)[status]
	if !ok {
		t.Errorf("%s %s: status %s not documented: %s", method, tpl, status, r.Body)
		return
	}
	o.covered[m+" "+tpl] = true
	rm := o.resolve(resp)
	if hs, ok := rm["headers"].(map[string]any); ok {
		for name, h := range hs {
			hm := o.resolve(h)
			if hm["required"] == true && r.Header.Get(name) == "" {
				t.Errorf("%s %s %s: required header %s missing", method, tpl, status, name)
			}
			if sch, _ := hm["schema"].(map[string]any); sch["type"] == "integer" && r.Header.Get(name) != "" {
				if _, err := strconv.ParseInt(r.Header.Get(name), 10, 64); err != nil {
					t.Errorf("%s %s: header %s = %q is not an integer", method, tpl, name, r.Header.Get(name))
				}
			}
		}
	}
	content, ok := rm["content"].(map[string]any)
	if !ok {
		if len(r.Body) > 0 {
			t.Errorf("%s %s %s: undocumented body %s", method, tpl, status, r.Body)
		}
		return
	}
	ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
	if _, ok := content[ct]; !ok {
		t.Errorf("%s %s %s: content type %q not documented", method, tpl, status, ct)
		return
	}
	if ct != "application/json" {
		return
	}
	loc := fmt.Sprintf("%s#/paths/%s/%s/responses/%s/content/%s/schema", specURL,
		url.PathEscape(pointerEscape(tpl)), m, status, url.PathEscape(pointerEscape(ct)))
	sch, err := o.compiler.Compile(loc)
	if err != nil {
		t.Fatalf("compiling %s: %v", loc, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		t.Errorf("%s %s: body is not JSON: %s", method, tpl, r.Body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s %s %s: body does not match the schema: %v\n%s", method, tpl, status, err, r.Body)
	}
}

// TestOpenAPI walks every REST route with real requests and checks each
// answer against the OpenAPI document; every documented operation must be
// exercised.
func TestOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		do := func(method, target, token, body string, headers ...string) *testenv.Response {
			t.Helper()
			r := e.Do(t, method, target, token, body, headers...)
			o.check(t, method, target, r)
			return r
		}
		a, b := path(e.Alice), path(e.Bob)
		do("GET", "/api/openapi.json", "", "")
		do("GET", "/healthz", "", "")
		do("GET", "/readyz", "", "")
		do("GET", a, e.AliceToken, "")
		do("GET", a, e.AliceToken, "", `If-None-Match: "v1"`)
		do("GET", b, e.AliceToken, "")
		do("GET", a, "", "")
		do("GET", a, "usv_bad", "")
		do("PUT", a, e.AliceToken, `{"name":"Alice","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid","description":"d"}`)
		do("PUT", a, e.AliceToken, `{"name":"Alice"}`)
		do("PUT", a, e.AliceToken, `{"name":"Alice","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid","role":"admin"}`)
		do("PUT", a, e.AliceToken, `{"name":"Alice","email":"bob@example.com","country":"ES","timeZone":"Europe/Madrid"}`)
		do("PUT", a, e.AliceToken, `{"name":"Alice","email":"alice@example.com","country":"ES","timeZone":"Europe/Madrid"}`, `If-Match: "v9"`)
		do("PUT", a, e.AliceToken, `{}`, "Content-Type: text/plain")
		do("PUT", a, e.AliceToken, `{"description":"`+strings.Repeat("x", 1<<20)+`"}`)
		do("PATCH", a, e.AliceToken, `[{"op":"add","path":"/description","value":"p"}]`, jsonPatch)
		do("PATCH", a, e.AliceToken, `{"description":"m"}`, "Content-Type: application/merge-patch+json")
		do("PATCH", a, e.AliceToken, `[{"op":"test","path":"/name","value":"X"}]`, jsonPatch)
		do("PATCH", a, e.AliceToken, `[]`, "Content-Type: text/plain")
		do("GET", "/api/users", e.AdminToken, "")
		do("GET", "/api/users?limit=0", e.AdminToken, "")
		do("POST", "/api/users", e.AdminToken, `{"name":"Oa","email":"oa@example.com","country":"ES","timeZone":"UTC"}`)
		do("POST", "/api/users", e.AliceToken, `{"name":"Oa","email":"ob@example.com","country":"ES","timeZone":"UTC"}`)
		do("GET", "/api/users/countries", e.AliceToken, "")
		do("GET", "/api/users/timeZones", e.AliceToken, "")
		do("GET", a+"/history", e.AliceToken, "")
		k := do("POST", a+"/apiKeys", e.AliceToken, `{"label":"k"}`)
		do("GET", a+"/apiKeys", e.AliceToken, "")
		do("DELETE", a+"/apiKeys/"+fmt.Sprint(k.JSON["apiKey"].(map[string]any)["id"]), e.AliceToken, "")
		do("DELETE", a+"/apiKeys/999999", e.AliceToken, "")
		do("PATCH", a, e.AliceToken, `[{"op":"add","path":"/password","value":"alice passphrase"}]`, jsonPatch)
		do("POST", "/api/Auth/Token", "", `{"userName":"alice@example.com","password":"alice passphrase"}`)
		do("POST", "/api/Auth/Token", "", `{"userName":"alice@example.com","password":"nope"}`)
		do("DELETE", b, e.AdminToken, "")
		do("POST", b+"/restore", e.AdminToken, "")
		do("DELETE", path(e.Admin), e.AdminToken, "")
		do("POST", b+"/restore", e.AliceToken, "")
		imp := do("POST", "/api/users/import", e.AdminToken, `{"name":"Im","email":"im@example.com","country":"ES","timeZone":"UTC"}`+"\n{}\n", "Content-Type: application/x-ndjson", "Idempotency-Key: openapi")
		do("POST", "/api/users/import?dryRun=true", e.AdminToken, `{"name":"Im","email":"im@example.com","country":"ES","timeZone":"UTC"}`+"\n{}\n", "Content-Type: application/x-ndjson", "Idempotency-Key: openapi")
		job := imp.Header.Get("Location")
		do("POST", "/api/users/import", e.AliceToken, "{}", "Content-Type: application/x-ndjson")
		do("POST", "/api/users/import?mode=merge", e.AdminToken, "{}", "Content-Type: application/x-ndjson")
		do("POST", "/api/users/import", e.AdminToken, "{}")
		do("POST", "/api/users/import", "", "{}", "Content-Type: application/x-ndjson")
		for i := 0; i < 500 && do("GET", job, e.AdminToken, "").JSON["status"] == "running"; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		do("GET", job, e.AliceToken, "")
		do("GET", "/api/users/import/imp-none", e.AdminToken, "")
		do("GET", job, "", "")
		do("GET", job+"/errors", e.AdminToken, "")
		do("GET", job+"/errors", e.AliceToken, "")
		do("GET", "/api/users/import/imp-none/errors", e.AdminToken, "")
		do("GET", job+"/errors", "", "")
		do("DELETE", job, e.AdminToken, "")
		do("DELETE", job, e.AliceToken, "")
		do("DELETE", "/api/users/import/imp-none", e.AdminToken, "")
		do("DELETE", job, "", "")
		do("GET", "/api/users/export?withPasswordHashes=true", e.AdminToken, "")
		do("GET", "/api/users/export?withPasswordHashes=maybe", e.AdminToken, "")
		do("GET", "/api/users/export", e.AliceToken, "")
		do("GET", "/api/users/export", "", "")
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			for p, item := range o.doc["paths"].(map[string]any) {
				if _, ok := item.(map[string]any)[m]; ok && !o.covered[m+" "+p] {
					t.Errorf("operation %s %s is never exercised", strings.ToUpper(m), p)
				}
			}
		}
	})
}
