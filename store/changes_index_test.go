package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/store"
)

// TestChangeLogReadsByIndex: after a bulk import on a table whose
// statistics are stale (analyzed at 10 rows, 200,000 inserted since,
// autovacuum off), every plan of the change log's reads, generic (what a
// prepared statement settles on) and custom, reads audits through its
// primary key with the id range as an index condition: never a
// sequential scan, never the whole index with the range as a filter.
func TestChangeLogReadsByIndex(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		if db.Name != "postgres" {
			t.Skip("the change log is read on PostgreSQL; SQLite serves one process and has none")
		}
		testenv.OpenStore(t, db) // the schema
		ctx := context.Background()
		raw, err := sql.Open("postgres", db.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		conn, err := raw.Conn(ctx) // one session: PREPARE and SET stay on it
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		insert := func(n int) {
			t.Helper()
			if _, err := conn.ExecContext(ctx, `INSERT INTO audits (user_id, at, actor, action, address, patch)
				SELECT 'usr-' || g, now(), 'usr-admin', 'import', '', '[]' FROM generate_series(1, $1) AS g`, n); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []string{`ALTER TABLE audits SET (autovacuum_enabled = false)`} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		insert(10)
		if _, err := conn.ExecContext(ctx, `ANALYZE audits`); err != nil {
			t.Fatal(err)
		}
		insert(200_000)
		for name, q := range map[string]string{"poll": store.PollSQL, "start": store.StartSQL} {
			params := "(bigint, bigint[], int)"
			args := [][]string{{"199990", "'{5,6}'", "500"}, {"5", "'{}'", "500"}, {"0", "'{}'", "500"}}
			if name == "start" {
				params, args = "(bigint)", [][]string{{"1000"}}
			}
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("PREPARE %s%s AS %s", name, params, q)); err != nil {
				t.Fatal(err)
			}
			for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
				if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = "+mode); err != nil {
					t.Fatal(err)
				}
				for _, a := range args {
					var plan string
					if err := conn.QueryRowContext(ctx, fmt.Sprintf("EXPLAIN (FORMAT JSON) EXECUTE %s(%s)", name, strings.Join(a, ", "))).Scan(&plan); err != nil {
						t.Fatal(err)
					}
					if bad := scansWithoutIndexRange(t, plan); len(bad) > 0 {
						t.Errorf("%s, %s, (%s): audits read %v\n%s", name, mode, strings.Join(a, ", "), bad, plan)
					}
				}
			}
		}
	})
}

// scansWithoutIndexRange lists the plan's reads of audits that are not
// an index range: a sequential scan, or an index scan that filters.
func scansWithoutIndexRange(t *testing.T, plan string) []string {
	var doc []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("EXPLAIN's JSON: %v", err)
	}
	var bad []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n["Relation Name"] == "audits" {
			switch typ, _ := n["Node Type"].(string); {
			case typ != "Index Scan" && typ != "Index Only Scan" && typ != "Bitmap Heap Scan":
				bad = append(bad, typ)
			case n["Filter"] != nil:
				bad = append(bad, fmt.Sprintf("%s filtering %v", typ, n["Filter"]))
			case typ != "Bitmap Heap Scan" && n["Index Cond"] == nil:
				bad = append(bad, typ+" without an index condition")
			}
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(doc[0].Plan)
	return bad
}
