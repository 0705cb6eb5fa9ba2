package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// preparedDriver is an ent driver for PostgreSQL that prepares each
// distinct statement once and reuses it (database/sql keeps one prepared
// copy per connection). ent's default issues every statement unprepared,
// which lib/pq sends as two round trips with a fresh plan each time; make
// bench measured what this bought (docs/benchmarks.md).
type preparedDriver struct {
	entsql.Conn
	db    *sql.DB
	cache *stmtCache
}

// maxPreparedStatements bounds the cache; statements past it run unprepared.
const maxPreparedStatements = 512

type stmtCache struct {
	db      *sql.DB
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

func newPreparedDriver(db *sql.DB) *preparedDriver {
	c := &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
	return &preparedDriver{Conn: entsql.Conn{ExecQuerier: preparedDB{c}}, db: db, cache: c}
}

// stmt returns the prepared statement for query. On a miss it returns nil
// (the caller runs the statement unprepared this time) and prepares it in
// the background: preparing needs a connection of its own, and waiting for
// one while a transaction holds another could exhaust the pool.
func (c *stmtCache) stmt(query string) *sql.Stmt {
	c.mu.RLock()
	s := c.stmts[query]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.pending[query] || c.stmts[query] != nil || len(c.stmts)+len(c.pending) >= maxPreparedStatements {
		return c.stmts[query]
	}
	c.pending[query] = true
	go c.prepare(query)
	return nil
}

func (c *stmtCache) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.db.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if err != nil {
		return // it runs unprepared; the next miss tries again
	}
	if c.closed {
		_ = s.Close()
		return
	}
	c.stmts[query] = s
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, s := range c.stmts {
		_ = s.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

type preparedDB struct{ c *stmtCache }

func (p preparedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.c.stmt(query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return p.c.db.ExecContext(ctx, query, args...)
}

func (p preparedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.c.stmt(query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.c.db.QueryContext(ctx, query, args...)
}

// preparedTx runs a transaction's statements through the shared prepared
// statements (Tx.StmtContext reuses the copy already prepared on the
// transaction's connection).
type preparedTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.c.stmt(query); s != nil {
		return p.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.c.stmt(query); s != nil {
		return p.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (d *preparedDriver) Dialect() string { return dialect.Postgres }

func (d *preparedDriver) Close() error {
	d.cache.close()
	return d.db.Close()
}

func (d *preparedDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx starts a transaction whose statements use the prepared cache.
func (d *preparedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &preparedTxDriver{Conn: entsql.Conn{ExecQuerier: preparedTx{tx: tx, c: d.cache}}, tx: tx}, nil
}

type preparedTxDriver struct {
	entsql.Conn
	tx *sql.Tx
}

func (t *preparedTxDriver) Commit() error   { return t.tx.Commit() }
func (t *preparedTxDriver) Rollback() error { return t.tx.Rollback() }
