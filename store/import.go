package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"usersvc"
)

// Moving users in and out (usersvc.ImportStore): a batch of new users is
// one transaction of two multi-row statements (the users, then their
// history entries), and an export pages through the users table by id.

// maxParams bounds one statement's parameters (SQLite's default limit is
// 32,766, PostgreSQL's 65,535).
const maxParams = 30_000

// ExistingUsers reports which of ids are users, and which of the email
// keys belong to one (key → id): one statement each.
func (s *Store) ExistingUsers(ctx context.Context, ids, emailKeys []string) (_ map[string]bool, _ map[string]string, err error) {
	defer internal(&err)
	found := map[string]bool{}
	if len(ids) > 0 {
		arg, err := s.usersArg(ids)
		if err != nil {
			return nil, nil, err
		}
		rows, err := s.c().QueryContext(ctx, "SELECT id FROM users WHERE "+s.inList("id"), arg)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, nil, err
			}
			found[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
	}
	emails := map[string]string{}
	if len(emailKeys) > 0 {
		arg, err := s.usersArg(emailKeys)
		if err != nil {
			return nil, nil, err
		}
		rows, err := s.c().QueryContext(ctx, "SELECT email_key, id FROM users WHERE "+s.inList("email_key"), arg)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var k, id string
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return nil, nil, err
			}
			emails[k] = id
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
	}
	return found, emails, nil
}

// inList is "column is one of the array in the first parameter" (see
// usersArg).
func (s *Store) inList(column string) string {
	if s.dialect == dialect.Postgres {
		return column + " = ANY($1::text[])"
	}
	return column + " IN (SELECT value FROM json_each(?1))"
}

// InsertUsers inserts new users and their history entries (entries[i] is
// users[i]'s) in one transaction, skipping any user whose id or email is
// taken; it reports which were inserted.
func (s *Store) InsertUsers(ctx context.Context, users []*usersvc.User, entries []*usersvc.AuditEntry) (_ []bool, err error) {
	defer internal(&err)
	inserted := make([]bool, len(users))
	err = s.transact(ctx, func(t *Store) error {
		clear(inserted) // InTx may run this again
		perRow := len(userTable)
		for start := 0; start < len(users); {
			end := min(len(users), start+maxParams/perRow)
			q, args := multiInsert(t.dialect, "users", userColumnNames(), perRow, end-start, func(i int) []any { return userInsertArgs(users[start+i]) })
			rows, err := t.c().QueryContext(ctx, q+" ON CONFLICT DO NOTHING RETURNING id", args...)
			if err != nil {
				return err
			}
			done := map[string]bool{}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				done[id] = true
			}
			if err := rows.Close(); err != nil {
				return err
			}
			for i := start; i < end; i++ {
				inserted[i] = done[users[i].ID]
			}
			start = end
		}
		var kept []*usersvc.AuditEntry
		for i, e := range entries {
			if inserted[i] {
				kept = append(kept, e)
			}
		}
		cols := []string{"user_id", "at", "actor", "action", "address", "patch"}
		for start := 0; start < len(kept); {
			end := min(len(kept), start+maxParams/len(cols))
			var encodeErr error
			q, args := multiInsert(t.dialect, "audits", cols, len(cols), end-start, func(i int) []any {
				e := kept[start+i]
				patch, err := json.Marshal(e.Patch)
				if err != nil {
					encodeErr = err
				}
				return []any{e.UserID, e.At, e.Actor, e.Action, e.Address, string(patch)}
			})
			if encodeErr != nil {
				return encodeErr
			}
			if _, err := t.c().ExecContext(ctx, q, args...); err != nil {
				return err
			}
			start = end
		}
		return nil
	})
	return inserted, err
}

// userColumnNames are userTable's column names.
func userColumnNames() []string {
	names := make([]string, len(userTable))
	for i, c := range userTable {
		names[i] = c.name
	}
	return names
}

// multiInsert is one INSERT of n rows of the columns and its arguments
// (row(i) gives row i's).
func multiInsert(d, table string, cols []string, perRow, n int, row func(i int) []any) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	// SQLite's parameters are plain "?": the driver looks each numbered
	// one up by name, a scan of all of them (quadratic in a batch's
	// thousands); PostgreSQL's are numbered.
	ph := func(int) string { return "?" }
	if d == dialect.Postgres {
		ph = func(i int) string { return "$" + strconv.Itoa(i) }
	}
	args := make([]any, 0, n*perRow)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range perRow {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ph(i*perRow + j + 1))
		}
		b.WriteByte(')')
		args = append(args, row(i)...)
	}
	return b.String(), args
}

// UsersAfter lists users in id order after afterID (from the start when
// ""), deleted ones too, at most limit.
func (s *Store) UsersAfter(ctx context.Context, afterID string, limit int) (_ []*usersvc.User, err error) {
	defer internal(&err)
	q := userSQLOf[s.dialect]
	p1, p2 := "?1", "?2"
	if s.dialect == dialect.Postgres {
		p1, p2 = "$1", "$2"
	}
	rows, err := s.c().QueryContext(ctx, "SELECT "+strings.Join(q.columns, ", ")+" FROM users WHERE id > "+p1+" ORDER BY id LIMIT "+p2, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*usersvc.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
