// Package store implements usersvc.Store on ent, for SQLite (the embedded
// default, through the pure-Go modernc.org/sqlite driver) and PostgreSQL
// (through lib/pq).
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"

	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lib/pq"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite" // SQLite driver, no cgo

	"usersvc"
	"usersvc/ent"
)

// Store is the ent-backed usersvc.Store.
type Store struct {
	client  *ent.Client
	db      *sql.DB
	dialect string
	url     string // for following the change log (Options.ListenURL)
	// instance tells this process's notices from other processes'.
	instance string
	// tx is set on the Store handed to InTx callbacks.
	tx *ent.Tx
	// stmts holds SQLite's prepared hand-written reads (reads.go); nil on
	// PostgreSQL, whose driver prepares them.
	stmts *sqliteStmts
	// onQuery is Options.OnQuery, for statements that bypass ent's driver.
	onQuery func()
	// tracing is Options.Tracing, for statements that bypass ent's driver.
	tracing bool
	// changes is this process's side of the change log (changes.go).
	changes *changeLog
	// writes admits autocommit writes first come, first served
	// (admitWrite); nil on SQLite.
	writes chan struct{}
	// pinned, when set, runs every statement on one connection (pin).
	pinned *ent.Client
}

// writeReserve is how many pooled PostgreSQL connections the pool holds
// beyond the write gate's permits (Options.MaxOpenConns), for reads and
// the meter's flush, so that an admitted write seldom waits in the pool.
const writeReserve = 4

var _ usersvc.Store = (*Store)(nil)

// SQLitePath is the file a SQLite database URL names: the URL, less an
// optional "sqlite:" prefix ("" for a PostgreSQL URL).
func SQLitePath(url string) string {
	if IsPostgresURL(url) {
		return ""
	}
	return strings.TrimPrefix(url, "sqlite:")
}

// IsPostgresURL reports whether url selects PostgreSQL: a postgres:// or
// postgresql:// URL, the scheme in any case (PostgreSQL:// too), or a
// key/value connection string ("host=db1,db2 port=5432 dbname=app"; a
// SQLite file whose name starts with word= needs the sqlite: prefix).
func IsPostgresURL(url string) bool {
	if isKeyValueDSN(url) {
		return true
	}
	scheme, _, ok := strings.Cut(url, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}

// CheckURL refuses a database URL that selects neither database plainly:
// any other scheme (postgress://, pg://, mysql://) would otherwise have
// named a SQLite file, and a server started on a new empty database, with
// a new admin, on a typo. A PostgreSQL URL must be one lib/pq reads once
// libpq's multi-host form is translated, and must not ask for
// sslmode=prefer or allow (pgurl.go says why; the error says so).
func CheckURL(url string) error {
	if IsPostgresURL(url) {
		_, err := pgName(url)
		return err
	}
	path := SQLitePath(url)
	if scheme, _, ok := strings.Cut(url, "://"); ok && !strings.EqualFold(scheme, "sqlite") || strings.TrimSpace(path) == "" {
		return fmt.Errorf("%q is neither a postgres:// (or postgresql://) URL nor a SQLite file path", url)
	}
	return nil
}

// Options tune the connection pool.
type Options struct {
	// MaxOpenConns is how many single-statement writes run at once on
	// PostgreSQL (default 16), admitted first come, first served; the pool
	// holds writeReserve more connections for everything else. SQLite always
	// uses one connection: SQLite allows one writer at a time, and a single
	// connection turns would-be SQLITE_BUSY failures into orderly waiting.
	MaxOpenConns int
	// OnQuery, when set, is called for every statement ent runs (tests
	// count queries with it).
	OnQuery func()
	// Tracing makes a client span of every statement (tracing.go).
	Tracing bool
	// NoPrepare turns PostgreSQL's statement cache off: every statement is
	// sent unprepared, in one exchange with its arguments (lib/pq's
	// binary_parameters; see newConnectorMode). Needed behind a pooler in
	// transaction mode (pgbouncer pool_mode=transaction), where a prepared
	// statement may not exist on the next transaction's server connection
	// and a statement sent in two exchanges may be split across two.
	NoPrepare bool
	// CreateDir lets Open create a SQLite file's missing folder (the
	// default database's data/); otherwise the folder must exist, so a
	// mistyped path is an error rather than a new empty database.
	CreateDir bool
	// identifyServers asks each new connection which server it reached
	// (OpenStandby's pool).
	identifyServers bool
	// ListenURL, when set, is the PostgreSQL URL the change log's follower
	// (its LISTEN, reads and announcements) uses instead of the main one: LISTEN needs a session
	// of its own, which a pooler in transaction mode does not keep.
	ListenURL string
}

// Open connects to the database that url names: a postgres:// or
// postgresql:// URL, or else a SQLite file path, optionally prefixed
// "sqlite:". It does not migrate; call Migrate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	var (
		db     *sql.DB
		err    error
		d      string
		writes chan struct{}
	)
	if err := CheckURL(url); err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if opts.ListenURL != "" && IsPostgresURL(url) {
		if !IsPostgresURL(opts.ListenURL) {
			return nil, fmt.Errorf("listen URL: %q is not a PostgreSQL URL", opts.ListenURL)
		}
		if _, err := pgName(opts.ListenURL); err != nil {
			return nil, fmt.Errorf("listen URL: %w", err)
		}
	}
	if IsPostgresURL(url) {
		d = dialect.Postgres
		conn, err := newConnectorMode(url, opts.NoPrepare)
		if err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		conn.identify = opts.identifyServers
		db = sql.OpenDB(conn)
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 16
		}
		db.SetMaxOpenConns(n + writeReserve)
		db.SetMaxIdleConns(n + writeReserve)
		db.SetConnMaxIdleTime(5 * time.Minute)
		writes = make(chan struct{}, n)
	} else {
		d = dialect.SQLite
		path := SQLitePath(url)
		if path == "" {
			return nil, errors.New("database URL: empty SQLite path")
		}
		if dir := filepath.Dir(path); dir != "." {
			if opts.CreateDir {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return nil, fmt.Errorf("database directory: %w", err)
				}
			} else if fi, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("database directory %s does not exist (a SQLite database is created only in a folder that does): %w", dir, err)
			} else if !fi.IsDir() {
				return nil, fmt.Errorf("database directory %s is not a directory", dir)
			}
		}
		dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		db.SetMaxOpenConns(1)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	var drv dialect.Driver = entsql.OpenDB(d, db)
	if d == dialect.Postgres && !opts.NoPrepare {
		drv = newPreparedDriver(db)
	}
	if opts.OnQuery != nil {
		drv = dialect.DebugWithContext(drv, func(context.Context, ...any) { opts.OnQuery() })
	}
	if opts.Tracing {
		drv = newTracedDriver(drv)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	listenURL := url
	if opts.ListenURL != "" {
		listenURL = opts.ListenURL
	}
	if d == dialect.Postgres {
		// The listener (pq.NewDialListener) reads the name itself: it gets
		// the translated one (checked at the top).
		listenURL, _ = pgName(listenURL)
	}
	st := &Store{client: ent.NewClient(ent.Driver(drv)), db: db, dialect: d, url: listenURL, instance: hex.EncodeToString(b), onQuery: opts.OnQuery, tracing: opts.Tracing, changes: newChangeLog(), writes: writes}
	if d == dialect.SQLite {
		st.stmts = &sqliteStmts{}
	}
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.stmts != nil {
		s.stmts.close()
	}
	return s.client.Close()
}

// DB returns the underlying connection pool (for operations and tests).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect names the database engine ("sqlite3" or "postgres").
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer internal(&err)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.db.PingContext(ctx)
}

func (s *Store) c() *ent.Client {
	if s.tx != nil {
		return s.tx.Client()
	}
	if s.pinned != nil {
		return s.pinned
	}
	return s.client
}

// pin returns s with every statement on conn, one of its pool's
// connections (a standby read: standby.go), traced and counted as s's.
func (s *Store) pin(conn *sql.Conn) *Store {
	var drv dialect.Driver = entsql.NewDriver(s.dialect, entsql.Conn{ExecQuerier: conn})
	if s.onQuery != nil {
		drv = dialect.DebugWithContext(drv, func(context.Context, ...any) { s.onQuery() })
	}
	if s.tracing {
		drv = newTracedDriver(drv)
	}
	p := *s
	p.pinned = ent.NewClient(ent.Driver(drv))
	return &p
}

// InTx runs fn in one transaction (usersvc.Store). Nested calls join the
// outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx usersvc.Tx) error) error {
	return s.transact(ctx, func(tx *Store) error { return fn(tx) })
}

// transact is InTx for the store's own statements: fn gets the Store
// bound to the transaction.
func (s *Store) transact(ctx context.Context, fn func(tx *Store) error) (err error) {
	defer internal(&err)
	if s.tx != nil {
		return fn(s)
	}
	for attempt := 1; ; attempt++ {
		err = s.inTx(ctx, fn)
		if attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}

// maxTxAttempts bounds InTx's runs of one transaction that PostgreSQL
// aborted to break a deadlock or a serialization conflict.
const maxTxAttempts = 3

// retryable reports whether err is PostgreSQL giving up a transaction so
// that another may finish (deadlock_detected, serialization_failure):
// nothing of it was saved, and running it again decides on what the other
// one committed. Two admins demoting each other at the same moment lock
// their rows in opposite orders (each its target, then the other admins);
// the one PostgreSQL aborts runs again, sees the other's demotion, and
// is refused as the last active admin, instead of failing with 500.
func retryable(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "40P01" || pqErr.Code == "40001")
}

// inTx is one run of fn in a transaction. fn must leave nothing behind
// but its writes through tx and what it assigns: InTx may run it again.
// A failure before the COMMIT is sent applied nothing, whatever it was
// (the server rolls back a transaction whose session ends): it is marked
// so (uncommitted).
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return uncommitted(err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	txs := *s
	txs.tx = tx
	if err := fn(&txs); err != nil {
		_ = tx.Rollback()
		return uncommitted(err)
	}
	return tx.Commit()
}

// uncommitted marks the failure of a transaction that never asked to
// commit: an unavailable error the store already classified becomes
// NotApplied, a driver error is wrapped in beforeCommit (applied.go); the
// rules' own errors pass as they are.
func uncommitted(err error) error {
	var e *usersvc.Error
	if errors.As(err, &e) {
		if e.Code == usersvc.EUnavailable && !e.NotApplied {
			return usersvc.UnavailableNotApplied(e.Err)
		}
		return err
	}
	return &beforeCommit{err}
}

// internal turns storage and driver errors into internal domain errors at
// the storage boundary, so no transport can show their text.
func internal(err *error) { *err = usersvc.Internal(classify(*err)) }

func notFound(err error, what string) error {
	if ent.IsNotFound(err) {
		return usersvc.Errorf(usersvc.ENotFound, what)
	}
	return err
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}
