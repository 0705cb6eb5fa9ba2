package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"usersvc"
)

// The user row is spelled once, here: userTable lists every column of the
// users table with the value a save writes and where a read scans it. The
// reads (a user by id or email, a page of the list), the insert and the
// update are all built from it, on both databases; ent keeps the schema,
// the migrations and the list's query builder. TestUserTableMatchesSchema
// fails when a column of ent's generated schema is missing here.

// userRow is what one row scans into: the user, and the columns whose
// stored form differs from the domain's (nullable text and times, JSON,
// the role), converted by each column's finish. Everything a scan writes
// lives in this one struct: one allocation per row.
type userRow struct {
	u                                    usersvc.User
	desc, msg, dmsg, group, device, hash sql.NullString
	source                               sql.NullString
	tags, privs, scim                    sql.RawBytes
	userName                             sql.NullString
	from, until, lastLogin, deletedAt    sql.NullTime
	quota                                sql.NullInt64
	adminDevices                         int64
	role                                 string
}

// userColumn is one column of the users table.
type userColumn struct {
	name string
	// value is what a save writes for u.
	value func(u *usersvc.User) any
	// target is where a read scans the column (nil: never read back, as
	// email_key, which is derived from email).
	target func(r *userRow) any
	// finish moves a scanned value from its temporary into the user (nil
	// when target is the user's own field).
	finish func(r *userRow) error
}

// userTable is the users table, in its stored order.
var userTable = []userColumn{
	{name: "id", value: func(u *usersvc.User) any { return u.ID }, target: func(r *userRow) any { return &r.u.ID }},
	{name: "name", value: func(u *usersvc.User) any { return u.Name }, target: func(r *userRow) any { return &r.u.Name }},
	{name: "email", value: func(u *usersvc.User) any { return u.Email }, target: func(r *userRow) any { return &r.u.Email }},
	// email_key is the sign-in key (usersvc.SignInKey; NULL for none),
	// unique: derived, never read back.
	{name: "email_key", value: func(u *usersvc.User) any { return optString(nonEmpty(usersvc.SignInKey(u))) }},
	nullableText("user_name", func(u *usersvc.User) **string { return &u.UserName }, func(r *userRow) *sql.NullString { return &r.userName }),
	{name: "country", value: func(u *usersvc.User) any { return u.Country }, target: func(r *userRow) any { return &r.u.Country }},
	{name: "time_zone", value: func(u *usersvc.User) any { return u.TimeZone }, target: func(r *userRow) any { return &r.u.TimeZone }},
	nullableText("description", func(u *usersvc.User) **string { return &u.Description }, func(r *userRow) *sql.NullString { return &r.desc }),
	nullableText("message", func(u *usersvc.User) **string { return &u.Message }, func(r *userRow) *sql.NullString { return &r.msg }),
	{name: "disabled", value: func(u *usersvc.User) any { return u.Disabled }, target: func(r *userRow) any { return &r.u.Disabled }},
	nullableText("disabled_message", func(u *usersvc.User) **string { return &u.DisabledMessage }, func(r *userRow) *sql.NullString { return &r.dmsg }),
	{name: "tags", value: func(u *usersvc.User) any { return encodeTags(u.Tags) }, target: func(r *userRow) any { return &r.tags },
		finish: func(r *userRow) (err error) { r.u.Tags, err = decodeTags(r.tags); return err }},
	{name: "privileges", value: func(u *usersvc.User) any { return encodePrivileges(u.Privileges) }, target: func(r *userRow) any { return &r.privs },
		finish: func(r *userRow) (err error) { r.u.Privileges, err = decodePrivileges(r.privs); return err }},
	nullableText("user_group", func(u *usersvc.User) **string { return &u.Group }, func(r *userRow) *sql.NullString { return &r.group }),
	nullableText("device_id", func(u *usersvc.User) **string { return &u.DeviceID }, func(r *userRow) *sql.NullString { return &r.device }),
	{name: "admin_devices", value: func(u *usersvc.User) any { return int64(u.AdminDevices) }, target: func(r *userRow) any { return &r.adminDevices },
		finish: func(r *userRow) error { r.u.AdminDevices = int(r.adminDevices); return nil }},
	nullableTime("valid_from", func(u *usersvc.User) **time.Time { return &u.From }, func(r *userRow) *sql.NullTime { return &r.from }),
	nullableTime("valid_until", func(u *usersvc.User) **time.Time { return &u.Expires }, func(r *userRow) *sql.NullTime { return &r.until }),
	{name: "creation", value: func(u *usersvc.User) any { return u.Creation }, target: func(r *userRow) any { return &r.u.Creation },
		finish: func(r *userRow) error { r.u.Creation = r.u.Creation.UTC(); return nil }},
	{name: "modification", value: func(u *usersvc.User) any { return u.Modification }, target: func(r *userRow) any { return &r.u.Modification },
		finish: func(r *userRow) error { r.u.Modification = r.u.Modification.UTC(); return nil }},
	nullableTime("last_login", func(u *usersvc.User) **time.Time { return &u.LastLogin }, func(r *userRow) *sql.NullTime { return &r.lastLogin }),
	// An account without a password stores "" (never NULL); a NULL reads as "".
	{name: "password_hash", value: func(u *usersvc.User) any { return u.PasswordHash }, target: func(r *userRow) any { return &r.hash },
		finish: func(r *userRow) error { r.u.PasswordHash = r.hash.String; return nil }},
	{name: "password_source", value: func(u *usersvc.User) any { return optString(nonEmpty(u.PasswordSource)) }, target: func(r *userRow) any { return &r.source },
		finish: func(r *userRow) error { r.u.PasswordSource = r.source.String; return nil }},
	{name: "role", value: func(u *usersvc.User) any { return string(u.Role) }, target: func(r *userRow) any { return &r.role },
		finish: func(r *userRow) error { r.u.Role = usersvc.Role(r.role); return nil }},
	nullableTime("deleted_at", func(u *usersvc.User) **time.Time { return &u.DeletedAt }, func(r *userRow) *sql.NullTime { return &r.deletedAt }),
	{name: "version", value: func(u *usersvc.User) any { return u.Version }, target: func(r *userRow) any { return &r.u.Version }},
	{name: "scim", value: func(u *usersvc.User) any { return encodeSCIM(u.SCIM) }, target: func(r *userRow) any { return &r.scim },
		finish: func(r *userRow) (err error) { r.u.SCIM, err = decodeSCIM(r.scim); return err }},
	{name: "daily_quota", value: func(u *usersvc.User) any { return optInt64(u.DailyQuota) }, target: func(r *userRow) any { return &r.quota },
		finish: func(r *userRow) error {
			if r.quota.Valid {
				q := r.quota.Int64
				r.u.DailyQuota = &q
			}
			return nil
		}},
}

// nonEmpty is s, or nil when s is "" (stored as NULL).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullableText(name string, field func(u *usersvc.User) **string, tmp func(r *userRow) *sql.NullString) userColumn {
	return userColumn{name: name,
		value:  func(u *usersvc.User) any { return optString(*field(u)) },
		target: func(r *userRow) any { return tmp(r) },
		finish: func(r *userRow) error { *field(&r.u) = nullString(*tmp(r)); return nil },
	}
}

func nullableTime(name string, field func(u *usersvc.User) **time.Time, tmp func(r *userRow) *sql.NullTime) userColumn {
	return userColumn{name: name,
		value:  func(u *usersvc.User) any { return optTime(*field(u)) },
		target: func(r *userRow) any { return tmp(r) },
		finish: func(r *userRow) error { *field(&r.u) = nullTime(*tmp(r)); return nil },
	}
}

// userSQL is one dialect's statements built from userTable.
type userSQL struct {
	// columns is the select list of a read, in userTable's order (the
	// columns with a target).
	columns []string
	// byID, byIDForUpdate and byEmail read one user by one key.
	byID, byIDForUpdate, byEmail string
	// insert writes a new row: every column, in userTable's order.
	insert string
	// update writes every column but id, where id is the first parameter
	// and the stored version the second.
	update string
	// saveAndRecord is update followed, when it matched, by the history
	// entry: one statement on PostgreSQL (see Store.saveUser).
	saveAndRecord string
}

func newUserSQL(d string) *userSQL {
	ph := func(i int) string { return "?" + strconv.Itoa(i) } // numbered: update's SET comes before its WHERE
	if d == dialect.Postgres {
		ph = func(i int) string { return "$" + strconv.Itoa(i) }
	}
	q := &userSQL{}
	var insertCols, insertVals, sets []string
	for _, c := range userTable {
		if c.target != nil {
			q.columns = append(q.columns, c.name)
		}
		insertCols = append(insertCols, c.name)
		insertVals = append(insertVals, ph(len(insertVals)+1))
	}
	// update's parameters: id, version, then every other column in order.
	n := 2
	for _, c := range userTable[1:] {
		n++
		sets = append(sets, c.name+" = "+ph(n))
	}
	cols := strings.Join(q.columns, ", ")
	q.byID = "SELECT " + cols + " FROM users WHERE id = " + ph(1)
	q.byIDForUpdate = q.byID
	if d == dialect.Postgres {
		q.byIDForUpdate += " FOR UPDATE" // SQLite's write lock is taken at BEGIN IMMEDIATE
	}
	q.byEmail = "SELECT " + cols + " FROM users WHERE email_key = " + ph(1)
	q.insert = "INSERT INTO users (" + strings.Join(insertCols, ", ") + ") VALUES (" + strings.Join(insertVals, ", ") + ")"
	q.update = "UPDATE users SET " + strings.Join(sets, ", ") + " WHERE id = " + ph(1) + " AND version = " + ph(2)
	if d == dialect.Postgres {
		// The history entry is inserted from the update's RETURNING row,
		// so it is written exactly when the update matched.
		a := n + 1
		q.saveAndRecord = "WITH saved AS (" + q.update + " RETURNING id) " +
			"INSERT INTO audits (user_id, at, actor, action, address, patch) SELECT id, " +
			ph(a) + "::timestamptz, " + ph(a+1) + "::text, " + ph(a+2) + "::text, " + ph(a+3) + "::text, " + ph(a+4) + "::jsonb FROM saved RETURNING id"
	}
	return q
}

// userLive is the condition, on the users table, of a user who is not
// deleted (group reads join it: deleted users are in no group).
const userLive = "users.deleted_at IS NULL"

// usersByIDSQL reads users by id, where inUsers is "is one of the first
// parameter" (see Store.usersArg), in id order; and the same locking
// the rows (PostgreSQL; SQLite's transactions hold the write lock).
func usersByIDSQL(d, inUsers string) (read, forUpdate string) {
	read = "SELECT " + strings.Join(userSQLOf[d].columns, ", ") + " FROM users WHERE id " + inUsers + " ORDER BY id"
	forUpdate = read
	if d == dialect.Postgres {
		forUpdate += " FOR UPDATE"
	}
	return read, forUpdate
}

var userSQLOf = map[string]*userSQL{
	dialect.Postgres: newUserSQL(dialect.Postgres),
	dialect.SQLite:   newUserSQL(dialect.SQLite),
}

// userInsertArgs are insert's parameters for u.
func userInsertArgs(u *usersvc.User) []any {
	args := make([]any, 0, len(userTable))
	for _, c := range userTable {
		args = append(args, c.value(u))
	}
	return args
}

// userUpdateArgs are update's parameters: u's id, the version it must
// still have, then every other column, with room for extra more.
func userUpdateArgs(u *usersvc.User, version int64, extra int) []any {
	args := make([]any, 0, len(userTable)+1+extra)
	args = append(args, u.ID, version)
	for _, c := range userTable[1:] {
		args = append(args, c.value(u))
	}
	return args
}

// scanUser reads one row of a read built from userTable.
func scanUser(rows *sql.Rows) (*usersvc.User, error) {
	r := &userRow{}
	targets := make([]any, 0, len(userTable))
	for _, c := range userTable {
		if c.target != nil {
			targets = append(targets, c.target(r))
		}
	}
	if err := rows.Scan(targets...); err != nil {
		return nil, err
	}
	for _, c := range userTable {
		if c.finish != nil {
			if err := c.finish(r); err != nil {
				return nil, err
			}
		}
	}
	return &r.u, nil
}

// encodeTags is the tags column's stored JSON.
func encodeTags(tags map[string]string) any {
	if len(tags) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(tags) // a map of strings always marshals
	return string(b)
}

// encodeSCIM is the scim column's stored JSON, NULL for none.
func encodeSCIM(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m) // decoded from JSON: it marshals
	return string(b)
}

// decodeSCIM decodes the scim column, nil for NULL.
func decodeSCIM(b []byte) (map[string]any, error) {
	if s := bytes.TrimSpace(b); len(s) == 0 || string(s) == "null" {
		return nil, nil
	}
	return usersvc.DecodeSCIM(b)
}

// encodePrivileges is the privileges column's stored JSON.
func encodePrivileges(p []string) any {
	if len(p) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(p) // strings always marshal
	return string(b)
}

// PostgresSaveStatement is the one statement that saves a change and its
// history entry on PostgreSQL (userSQL.saveAndRecord), for `make bench`
// to replay with pgbench.
func PostgresSaveStatement() string { return userSQLOf[dialect.Postgres].saveAndRecord }
