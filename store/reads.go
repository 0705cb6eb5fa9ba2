package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"usersvc"
)

// The hottest reads (a user by id, a token by hash, a user by email) are
// written by hand: ent builds each query anew (its column list alone is a
// few dozen allocations) and decodes rows through generic scanners, which
// cost more than the database's own work for a one-row read by key
// (docs/benchmarks.md). Each read is one statement returning exactly the
// columns the domain type holds, scanned straight into it.

// tokenColumns are the tokens table's columns in scanToken's order.
const tokenColumns = `id, user_id, kind, label, hash, created_at, expires_at, last_used, revoked, api_key_id, scope`

// readQueries holds one dialect's text of each hand-written read.
type readQueries struct {
	tokenByHash string
}

func newReadQueries(d string) readQueries {
	p := "?"
	if d == dialect.Postgres {
		p = "$1"
	}
	return readQueries{
		tokenByHash: "SELECT " + tokenColumns + " FROM tokens WHERE hash = " + p,
	}
}

var readQueriesOf = map[string]readQueries{
	dialect.Postgres: newReadQueries(dialect.Postgres),
	dialect.SQLite:   newReadQueries(dialect.SQLite),
}

// query runs one hand-written statement where s's other statements run: in
// s's transaction, or on the pool. On PostgreSQL it goes through ent's
// driver, whose statement cache prepares it once per pool (unless
// Options.NoPrepare). On SQLite outside a transaction it uses a statement
// prepared once (the driver would otherwise parse it on every call).
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.tx != nil || s.dialect == dialect.Postgres || s.stmts == nil {
		return s.c().QueryContext(ctx, q, args...)
	}
	if s.onQuery != nil {
		s.onQuery()
	}
	st, err := s.stmts.get(ctx, s.db, q)
	if err != nil {
		return nil, err
	}
	if !s.tracing {
		return st.QueryContext(ctx, args...)
	}
	ctx, span := statementSpan(ctx, "sqlite", q)
	rows, err := st.QueryContext(ctx, args...)
	endStatement(span, err)
	return rows, err
}

// sqliteStmts are the SQLite pool's prepared hand-written reads.
type sqliteStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func (c *sqliteStmts) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st, nil
}

func (c *sqliteStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close()
	}
	c.stmts = nil
}

// readUser runs q (a user read by one key) and scans its row; ENotFound
// when there is none.
func (s *Store) readUser(ctx context.Context, q string, arg string) (_ *usersvc.User, err error) {
	defer internal(&err)
	return readOne(s, ctx, q, arg, scanUser, "User not found.")
}

// readOne runs q, a read of at most one row by one key, and scans that
// row; ENotFound with message notFound when there is none.
func readOne[T any](s *Store, ctx context.Context, q, arg string, scan func(*sql.Rows) (T, error), notFound string) (T, error) {
	var zero T
	rows, err := s.query(ctx, q, arg)
	if err != nil {
		return zero, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return zero, err
		}
		return zero, usersvc.Errorf(usersvc.ENotFound, notFound)
	}
	v, err := scan(rows)
	if err != nil {
		return zero, err
	}
	return v, rows.Close()
}

// decodeTags decodes the tags column; an empty object (the common case)
// needs no decoder.
func decodeTags(b []byte) (map[string]string, error) {
	m := map[string]string{}
	if s := bytes.TrimSpace(b); string(s) == "{}" || len(s) == 0 || string(s) == "null" {
		return m, nil
	}
	return m, json.Unmarshal(b, &m)
}

// decodePrivileges decodes the privileges column, never nil.
func decodePrivileges(b []byte) ([]string, error) {
	if s := bytes.TrimSpace(b); string(s) == "[]" || len(s) == 0 || string(s) == "null" {
		return []string{}, nil
	}
	var p []string
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if p == nil {
		p = []string{}
	}
	return p, nil
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func nullTime(v sql.NullTime) *time.Time {
	if !v.Valid {
		return nil
	}
	t := v.Time.UTC()
	return &t
}

// scanToken reads one row of tokenColumns.
func scanToken(rows *sql.Rows) (*usersvc.Token, error) {
	var (
		t                 usersvc.Token
		kind, scope       string
		expires, lastUsed sql.NullTime
		apiKeyID          sql.NullInt64
	)
	if err := rows.Scan(&t.ID, &t.UserID, &kind, &t.Label, &t.Hash, &t.Created, &expires, &lastUsed, &t.Revoked, &apiKeyID, &scope); err != nil {
		return nil, err
	}
	t.Kind, t.Scope, t.Created = usersvc.TokenKind(kind), usersvc.TokenScope(scope), t.Created.UTC()
	t.Expires, t.LastUsed = nullTime(expires), nullTime(lastUsed)
	if apiKeyID.Valid {
		id := int(apiKeyID.Int64)
		t.APIKeyID = &id
	}
	return &t, nil
}
