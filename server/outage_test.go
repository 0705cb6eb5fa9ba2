package server_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/server"
)

// gqlCode reads errors[0].extensions.code of a GraphQL answer.
func gqlCode(r *testenv.Response) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

// TestInternalErrorLogsCause: an internal error is logged with the
// driver's text and the request id, on both transports; the answers say
// only "Internal server error.".
func TestInternalErrorLogsCause(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		var logs syncBuffer
		h := server.New(e.Svc, server.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		if _, err := e.Store.DB().Exec("DROP TABLE audits"); err != nil {
			t.Fatal(err)
		}
		cause := map[string]string{"sqlite": "no such table: audits", "postgres": `pq: relation \"audits\" does not exist`}[db.Name]
		r := testenv.Do(t, h, "PATCH", "/api/users/"+e.Bob.ID, e.AdminToken,
			`[{"op":"replace","path":"/name","value":"Robert"}]`, "Content-Type: application/json-patch+json", "X-Request-Id: broken-rest")
		if r.Status != 500 || r.JSON["error"] != "Internal server error." {
			t.Fatalf("REST: %d %s", r.Status, r.Body)
		}
		b, _ := json.Marshal(map[string]any{"query": `mutation($id: ID!) { patchUser(id: $id, patch: [{op: replace, path: "/name", value: "Robert"}]) { name } }`,
			"variables": map[string]any{"id": e.Bob.ID}})
		g := testenv.Do(t, h, "POST", "/graphql", e.AdminToken, string(b), "X-Request-Id: broken-gql")
		if gqlCode(g) != "INTERNAL" || !strings.Contains(string(g.Body), `"message":"Internal server error."`) {
			t.Fatalf("GraphQL: %d %s", g.Status, g.Body)
		}
		for _, body := range [][]byte{r.Body, g.Body} {
			if strings.Contains(string(body), "audits") {
				t.Fatalf("the answer shows the cause: %s", body)
			}
		}
		out := logs.String()
		for _, id := range []string{"broken-rest", "broken-gql"} {
			want := `"level":"ERROR","msg":"internal error","request_id":"` + id + `","err":"Internal server error. cause: `
			i := strings.Index(out, want)
			if i < 0 || !strings.Contains(strings.SplitN(out[i:], "\n", 2)[0], cause) {
				t.Fatalf("no error line for %s with the cause %q:\n%s", id, cause, out)
			}
		}
	})
}
