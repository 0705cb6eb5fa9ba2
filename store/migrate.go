package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"usersvc/store/migrations"
)

// revisionsTable records which migration files a database has had.
const revisionsTable = "schema_revisions"

// MigrationResult says what ApplyMigrations did.
type MigrationResult struct {
	// Applied lists the migration files run, in order.
	Applied []string
	// Baseline names the first migration file when it was recorded without
	// being run: the database already had its schema (made by a release
	// that migrated automatically).
	Baseline string
	// Version is the database's schema version afterwards.
	Version string
}

// Migrate brings the schema up to date: see ApplyMigrations.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.ApplyMigrations(ctx)
	return err
}

// ApplyMigrations applies the embedded migration files (store/migrations)
// that the database has not had yet, each in a transaction of its own that
// also records it in schema_revisions. On PostgreSQL it holds an advisory
// lock meanwhile, so processes starting together migrate one after another.
// A database that has the baseline's tables but no revisions (made by a
// release that migrated automatically) has the baseline recorded, not run,
// once its tables are checked to be exactly the baseline's.
func (s *Store) ApplyMigrations(ctx context.Context) (MigrationResult, error) {
	// Migrations may take long on big tables: an hour, rather than the
	// minute a database call without a deadline gets (conn.go).
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	dir, err := migrations.Dir(s.dialect)
	if err != nil {
		return MigrationResult{}, err
	}
	return s.applyDir(ctx, dir)
}

// migrationFile is one file of the directory with its atlas.sum hash.
type migrationFile struct {
	migrate.File
	hash string
}

func (s *Store) applyDir(ctx context.Context, dir migrate.Dir) (res MigrationResult, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("migrating the schema: %w", err)
		}
	}()
	if err := migrate.Validate(dir); err != nil {
		return res, fmt.Errorf("the migration files do not match their atlas.sum: %w", err)
	}
	all, err := dir.Files()
	if err != nil {
		return res, err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return res, err
	}
	if len(all) == 0 {
		return res, errors.New("no migration files")
	}
	files := make([]migrationFile, len(all))
	for i, f := range all {
		h, err := sum.SumByName(f.Name())
		if err != nil {
			return res, err
		}
		files[i] = migrationFile{f, h}
	}
	// One connection throughout: it holds the PostgreSQL lock, and SQLite's
	// pool has only one. On PostgreSQL it is a session of its own on the
	// direct URL (Options.ListenURL when set): the lock is a session's,
	// which a transaction-mode pooler would hand to other clients.
	db := s.db
	if s.dialect == dialect.Postgres {
		c, err := newConnector(s.url)
		if err != nil {
			return res, err
		}
		db = sql.OpenDB(c)
		defer db.Close()
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	if s.dialect == dialect.Postgres {
		unlock, err := pgLock(ctx, conn)
		if err != nil {
			return res, err
		}
		defer unlock()
	}
	for {
		done, err := s.migrateStep(ctx, conn, files, &res)
		if err != nil || done {
			return res, err
		}
	}
}

// pgLock takes the session advisory lock of this schema's migrations
// (keyed by the current schema, so databases in other schemas do not wait).
func pgLock(ctx context.Context, conn *sql.Conn) (unlock func(), err error) {
	var schema sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, err
	}
	if !schema.Valid {
		return nil, errors.New("no schema to migrate: the search_path names no existing schema")
	}
	const key = "SELECT %s(hashtext('usersvc.schema_revisions'), hashtext($1))"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(key, "pg_advisory_lock"), schema.String); err != nil {
		return nil, fmt.Errorf("taking the migration lock: %w", err)
	}
	return func() {
		var ok bool
		if err := conn.QueryRowContext(context.WithoutCancel(ctx), fmt.Sprintf(key, "pg_advisory_unlock"), schema.String).Scan(&ok); err != nil || !ok {
			// Ending the session releases the lock: the pool drops a
			// connection whose Raw callback reports it bad.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

type revision struct{ version, hash string }

// migrateStep applies the next pending file, in one transaction with its
// revision row (reading the revisions in that transaction, so two SQLite
// processes cannot both apply it: SQLite's BEGIN IMMEDIATE serialises
// them). It reports done when no file is pending.
func (s *Store) migrateStep(ctx context.Context, conn *sql.Conn, files []migrationFile, res *MigrationResult) (done bool, err error) {
	if s.dialect == dialect.SQLite {
		// SQLite ignores foreign_keys inside a transaction, and a table
		// rebuild (how Atlas alters SQLite tables) must run without it;
		// foreign_key_check stands in before the commit.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return false, err
		}
		defer func() {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+revisionsTable+
		" (version text NOT NULL PRIMARY KEY, description text NOT NULL, hash text NOT NULL, executed boolean NOT NULL, applied_at text NOT NULL)"); err != nil {
		return false, err
	}
	applied, err := s.revisions(ctx, tx)
	if err != nil {
		return false, err
	}
	for i, r := range applied {
		switch {
		case i >= len(files):
			return false, fmt.Errorf("the database is at schema version %s, newer than this build's latest migration %s: run a newer usersvc", applied[len(applied)-1].version, files[len(files)-1].Version())
		case r.version != files[i].Version():
			return false, fmt.Errorf("the database has migration %s where this build has %s: the migration directory is not the one this database was migrated with", r.version, files[i].Name())
		case r.hash != files[i].hash:
			return false, fmt.Errorf("migration %s changed after the database had it (hash %s, now %s); never edit an applied migration, add a new one", files[i].Name(), r.hash, files[i].hash)
		}
	}
	if len(applied) > 0 {
		res.Version = applied[len(applied)-1].version
	}
	if len(applied) == len(files) {
		return true, tx.Commit()
	}
	f := files[len(applied)]
	executed := true
	if len(applied) == 0 {
		exists, err := s.anyTableExists(ctx, tx, createdTables(f))
		if err != nil {
			return false, err
		}
		if exists {
			if err := s.checkBaseline(ctx, tx, f); err != nil {
				return false, err
			}
			executed = false
		}
	}
	if executed {
		stmts, err := f.Stmts()
		if err != nil {
			return false, fmt.Errorf("%s: %w", f.Name(), err)
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return false, fmt.Errorf("%s: %w (in %q)", f.Name(), err, q)
			}
		}
		if s.dialect == dialect.SQLite {
			if err := sqliteForeignKeyCheck(ctx, tx); err != nil {
				return false, fmt.Errorf("%s: %w", f.Name(), err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO "+revisionsTable+" (version, description, hash, executed, applied_at) VALUES ($1, $2, $3, $4, $5)"),
		f.Version(), f.Desc(), f.hash, executed, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	if executed {
		res.Applied = append(res.Applied, f.Name())
	} else {
		res.Baseline = f.Name()
	}
	res.Version = f.Version()
	return false, nil
}

func (s *Store) revisions(ctx context.Context, tx *sql.Tx) ([]revision, error) {
	rows, err := tx.QueryContext(ctx, "SELECT version, hash FROM "+revisionsTable+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []revision
	for rows.Next() {
		var r revision
		if err := rows.Scan(&r.version, &r.hash); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// rebind turns $n placeholders into SQLite's ?.
func (s *Store) rebind(q string) string {
	if s.dialect == dialect.SQLite {
		return placeholder.ReplaceAllString(q, "?")
	}
	return q
}

var placeholder = regexp.MustCompile(`\$\d+`)
