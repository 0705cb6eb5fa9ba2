package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"usersvc/store"
)

func secret(i int) string {
	sum := sha256.Sum256([]byte("bench-token-" + strconv.Itoa(i)))
	return "usv_" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func userID(i int) string { return fmt.Sprintf("usr-bench%07d", i) }

// migrateHere migrates a bench database with this tree's store.
func migrateHere(dbURL string) {
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL, store.Options{})
	must(err)
	defer st.Close()
	must(st.Migrate(ctx))
}

// migrateWith migrates a bench database with a usersvc binary's own
// migrations (-before: an earlier build refuses a schema newer than its
// own, so it gets a database of its own, seeded the same way).
func migrateWith(bin string) func(string) {
	return func(dbURL string) { must(run(bin, "migrate", "-database-url", dbURL)) }
}

// setupDB drops and creates the bench database name on the server of
// adminURL, migrates it and seeds it (the same rows whatever the schema
// version).
func setupDB(adminURL, name string, migrate func(dbURL string)) string {
	admin, err := sql.Open("postgres", adminURL)
	must(err)
	defer admin.Close()
	fmt.Fprintf(os.Stderr, "creating %s: %d users, %d tokens\n", name, *users, *tokens)
	_, err = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	must(err)
	_, err = admin.Exec("CREATE DATABASE " + name)
	must(err)
	u, err := url.Parse(adminURL)
	must(err)
	u.Path = "/" + name
	migrate(u.String())
	db, err := sql.Open("postgres", u.String())
	must(err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO users (id, name, email, email_key, country, time_zone, disabled, tags, privileges,
	  admin_devices, creation, modification, password_hash, role, version)
	  SELECT 'usr-bench' || lpad(i::text, 7, '0'), 'User ' || i, 'user' || i || '@example.com', 'user' || i || '@example.com',
	    'ES', 'Europe/Madrid', false, '{"fleet":"bench"}'::jsonb, '["tracks.read"]'::jsonb, 0,
	    timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second',
	    '', CASE WHEN i = 1 THEN 'admin' ELSE 'user' END, 1
	  FROM generate_series(1, $1) AS i`, *users)
	must(err)
	// Every seeded user is provisioned (SCIM lists the users with a
	// userName): the userName is the email, so the sign-in key
	// (usersvc.SignInKey: the userName's key when there is one) is the
	// email_key inserted above, and everyone signs in as before. A
	// schema without user_name (an earlier -before binary) keeps none.
	var hasUserName bool
	must(db.QueryRow(`SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'user_name')`).Scan(&hasUserName))
	if hasUserName {
		_, err = db.Exec(`UPDATE users SET user_name = email`)
		must(err)
		_, err = db.Exec("VACUUM FULL users")
		must(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(benchPassword), 12)
	must(err)
	_, err = db.Exec(`UPDATE users SET password_hash = $1 WHERE id <= $2`, string(hash), userID(*tokens))
	must(err)
	tx, err := db.Begin()
	must(err)
	stmt, err := tx.Prepare(`INSERT INTO tokens (hash, label, created_at, revoked, user_id, kind) VALUES ($1, 'bench', now(), false, $2, 'token')`)
	must(err)
	for i := 1; i <= *tokens; i++ {
		sum := sha256.Sum256([]byte(secret(i)))
		_, err := stmt.Exec(hex.EncodeToString(sum[:]), userID(i))
		must(err)
	}
	must(tx.Commit())
	_, err = db.Exec("ANALYZE")
	must(err)
	_, err = db.Exec("CREATE SCHEMA bench_seed")
	must(err)
	_, err = db.Exec("CREATE TABLE bench_seed.users AS SELECT * FROM users WHERE id <= $1", userID(writeFirst()+writeSpan()-1))
	must(err)
	return u.String()
}

// writes are the scenarios that write users; each starts from the state
// setupDB left (resetWrites).
var writes = map[string]bool{"patch": true, "put": true, "pgbench": true, "pgbench-history": true, "pgbench-patch": true,
	"scimpatch": true, "restdisable": true}

// The admin's writes to other users (scimpatch, restdisable) go to the
// users writeFirst() .. writeFirst()+writeSpan()-1, which own no token
// (disabling them refuses no scenario's requests) and which resetWrites
// puts back with the token owners.
func writeFirst() int { return *tokens + 1 }
func writeSpan() int  { return max(1, min(*tokens, *users-*tokens)) }

// adminWrite is the k-th admin write's target (k from 0) and whether it
// disables: the k-th request goes to user writeFirst()+k%span, and each
// pass over the span flips the flag, so every write changes its user;
// with an even span each wrk thread keeps to its own users.
func adminWrite(k int) (id string, disable bool) {
	return userID(writeFirst() + k%writeSpan()), (k/writeSpan())%2 == 0
}

// resetWrites puts the database back as setupDB left it before a scenario
// that writes, so every write scenario, whichever runs first, meets the
// same tables: the users the tokens own get their seeded values back,
// the history goes, every table is rewritten compactly (VACUUM FULL: no
// dead rows, no bloated indexes, the same free space per page)
// and a CHECKPOINT makes every scenario pay the same full-page writes.
// Without it each scenario ran on the bloat of the ones before it, and
// the reference PATCH, which runs first, on the cleanest tables: in one
// run the same binary measured twice in a row lost 0.10x and PostgreSQL
// CPU per write rose 20-30% the second time.
func resetWrites(dbURL string) {
	db, err := sql.Open("postgres", dbURL)
	must(err)
	defer db.Close()
	var cols []string
	rows, err := db.Query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'bench_seed' AND table_name = 'users' AND column_name <> 'id' ORDER BY ordinal_position`)
	must(err)
	for rows.Next() {
		var c string
		must(rows.Scan(&c))
		cols = append(cols, c)
	}
	must(rows.Err())
	seeded := make([]string, len(cols))
	for i, c := range cols {
		seeded[i] = "s." + c
	}
	for _, q := range []string{
		"UPDATE users u SET (" + strings.Join(cols, ", ") + ") = (" + strings.Join(seeded, ", ") + ") FROM bench_seed.users s WHERE u.id = s.id",
		"TRUNCATE audits",
		"VACUUM FULL",
		"ANALYZE",
		"CHECKPOINT",
	} {
		if _, err := db.Exec(q); err != nil {
			fmt.Fprintf(os.Stderr, "reset before a write scenario: %s: %v\n", q, err)
		}
	}
}

// benchPassword is the password of the users that own tokens (sign-in).
const benchPassword = "bench password"
