// Command reference is the hand-written baseline for `make bench`: net/http,
// database/sql and lib/pq with prepared statements, doing what a REST GET
// and a PATCH of one's own description need at the least. GET: look the
// token up, select the user, write JSON. PATCH: look the token up, decode
// the JSON Patch with encoding/json (one "replace" of /description), one
// UPDATE ... RETURNING every column (autocommit), write JSON. It meters
// nothing, keeps no history, notifies no one and checks nothing else. It
// is not part of the service.
package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strings"
	"time"

	_ "github.com/lib/pq"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	dsn := flag.String("db", "", "PostgreSQL URL")
	conns := flag.Int("conns", 16, "pool size")
	flag.Parse()
	db, err := sql.Open("postgres", *dsn)
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(*conns)
	db.SetMaxIdleConns(*conns)
	tokenStmt, err := db.Prepare(`SELECT user_id FROM tokens WHERE hash = $1 AND NOT revoked AND (expires_at IS NULL OR expires_at > now())`)
	if err != nil {
		log.Fatal(err)
	}
	userStmt, err := db.Prepare(`SELECT id, name, email, country, time_zone, description, message, disabled, disabled_message,
	  tags, privileges, user_group, device_id, admin_devices, valid_from, valid_until, creation, modification, last_login, role, deleted_at
	  FROM users WHERE id = $1`)
	if err != nil {
		log.Fatal(err)
	}
	patchStmt, err := db.Prepare(`UPDATE users SET description = $2, modification = now(), version = version + 1 WHERE id = $1
	  RETURNING id, name, email, country, time_zone, description, message, disabled, disabled_message,
	  tags, privileges, user_group, device_id, admin_devices, valid_from, valid_until, creation, modification, last_login, role, deleted_at`)
	if err != nil {
		log.Fatal(err)
	}
	owner := func(r *http.Request) (string, bool) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(tok))
		var id string
		if !ok || tokenStmt.QueryRowContext(r.Context(), hex.EncodeToString(sum[:])).Scan(&id) != nil {
			return "", false
		}
		return id, true
	}
	http.HandleFunc("PATCH /api/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		me, ok := owner(r)
		if !ok {
			http.Error(w, `{"success":false}`, http.StatusUnauthorized)
			return
		}
		var ops []struct {
			Op, Path string
			Value    json.RawMessage
		}
		var desc string
		if json.NewDecoder(r.Body).Decode(&ops) != nil || len(ops) != 1 || ops[0].Op != "replace" || ops[0].Path != "/description" ||
			json.Unmarshal(ops[0].Value, &desc) != nil || me != r.PathValue("id") {
			http.Error(w, `{"success":false}`, http.StatusBadRequest)
			return
		}
		writeUser(w, patchStmt.QueryRowContext(r.Context(), me, desc))
	})
	http.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	http.HandleFunc("GET /api/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		me, ok := owner(r)
		if !ok {
			http.Error(w, `{"success":false}`, http.StatusUnauthorized)
			return
		}
		row := userStmt.QueryRowContext(r.Context(), r.PathValue("id"))
		writeUser(w, row, func(id, role string) bool { return me == id || role == "admin" })
	})
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// writeUser scans a user row and writes it as JSON, when every check says
// the caller may see it.
func writeUser(w http.ResponseWriter, row *sql.Row, checks ...func(id, role string) bool) {
	var (
		id, name, email, country, tz, role string
		desc, msg, dmsg, group, dev        sql.NullString
		disabled                           bool
		tags, privs                        []byte
		adminDevices                       int64
		from, until, lastLogin, deleted    sql.NullTime
		creation, modification             time.Time
	)
	err := row.Scan(&id, &name, &email, &country, &tz, &desc, &msg, &disabled, &dmsg,
		&tags, &privs, &group, &dev, &adminDevices, &from, &until, &creation, &modification, &lastLogin, &role, &deleted)
	for _, ok := range checks {
		if err == nil && !ok(id, role) {
			err = sql.ErrNoRows
		}
	}
	if err != nil {
		http.Error(w, `{"success":false,"error":"User not found."}`, http.StatusNotFound)
		return
	}
	str := func(s sql.NullString) any {
		if s.Valid {
			return s.String
		}
		return nil
	}
	tm := func(t sql.NullTime) any {
		if t.Valid {
			return t.Time.UTC()
		}
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "id": id, "name": name, "email": email, "country": country,
		"timeZone": tz, "description": str(desc), "message": str(msg), "disabled": disabled, "disabledMessage": str(dmsg),
		"tags": json.RawMessage(tags), "privileges": json.RawMessage(privs), "group": str(group), "deviceId": str(dev),
		"adminDevices": adminDevices, "from": tm(from), "expires": tm(until), "password": nil, "creation": creation.UTC(),
		"modification": modification.UTC(), "lastLogin": tm(lastLogin), "role": role, "deletedAt": tm(deleted)})
}
