package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"usersvc/store"
)

// measurePgbench is what the database allows for a write: pgbench with
// prepared statements, one random user per transaction, with synchronous
// commit (the server's default), at the same connection count. script
// picks the statement: a single-row UPDATE; an UPDATE and a history
// INSERT in one CTE; or the very statement usersvc saves a PATCH with
// (store.PostgresSaveStatement), its parameters filled in as a PATCH of
// one's description fills them.
func measurePgbench(work, dbURL, script string) result {
	id := `'usr-bench' || lpad(:i::text, 7, '0')`
	var stmt string
	switch script {
	case "pgbench":
		stmt = "UPDATE users SET description = 'pgbench' WHERE id = " + id + ";"
	case "pgbench-history":
		stmt = "WITH saved AS (UPDATE users SET description = 'pgbench', modification = now(), version = version + 1 WHERE id = " + id +
			" RETURNING id) INSERT INTO audits (user_id, at, actor, action, address, patch) SELECT id, now(), id, 'patch', '127.0.0.1', " +
			`'[{"op":"replace","path":"/description","value":"pgbench"}]'::jsonb FROM saved;`
	case "pgbench-patch":
		stmt = patchStatement(id)
	}
	file := filepath.Join(work, script+".sql")
	must(os.WriteFile(file, []byte(fmt.Sprintf("\\set i random(1, %d)\n%s\n", *users, strings.Join(strings.Fields(stmt), " "))), 0o644))
	secs := int(duration.Seconds())
	if secs < 1 {
		secs = 1
	}
	out, err := exec.Command("pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(*conns), "-j", strconv.Itoa(*threads),
		"-T", strconv.Itoa(secs), "-r", "-f", file, dbURL).CombinedOutput()
	fmt.Fprint(os.Stderr, string(out))
	must(err)
	var r result
	if m := regexp.MustCompile(`tps = ([\d.]+)`).FindStringSubmatch(string(out)); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := regexp.MustCompile(`number of transactions actually processed: (\d+)`).FindStringSubmatch(string(out)); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := regexp.MustCompile(`latency average = ([\d.]+) ms`).FindStringSubmatch(string(out)); m != nil {
		r.p50, _ = strconv.ParseFloat(m[1], 64) // pgbench reports the average, shown in the p50 column
	}
	return r
}

// patchStatement is store.PostgresSaveStatement with its parameters filled
// in as a PATCH of one's own description fills them: every column is
// written (most with its own value), the version guard matches, and the
// history entry holds the patch.
func patchStatement(id string) string {
	stmt := store.PostgresSaveStatement()
	fill := map[string]string{"description": "'pgbench'", "modification": "now()", "version": "version + 1"}
	set := regexp.MustCompile(`(\w+) = \$(\d+)`)
	stmt = set.ReplaceAllStringFunc(stmt, func(m string) string {
		col := set.FindStringSubmatch(m)[1]
		switch {
		case col == "id":
			return "id = " + id
		case col == "version" && strings.Contains(m, "$2"):
			return "version = version" // the guard: the version read is the stored one
		case fill[col] != "":
			return col + " = " + fill[col]
		}
		return col + " = " + col
	})
	entry := []string{"now()", "'usr-bench0000001'", "'patch'", "'127.0.0.1'", `'[{"op":"replace","path":"/description","value":"pgbench"}]'`}
	rest := regexp.MustCompile(`\$(\d+)`)
	n := 0
	stmt = rest.ReplaceAllStringFunc(stmt, func(string) string { n++; return entry[min(n, len(entry))-1] })
	return stmt + ";"
}
