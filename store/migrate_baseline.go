package store

// The baseline check: a database made before versioned migrations (by
// ent's auto-migration) is adopted when its schema is the baseline's.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
)

var createTable = regexp.MustCompile("(?i)^\\s*CREATE TABLE\\s+(?:IF NOT EXISTS\\s+)?[\"`]?(\\w+)")

// createdTables names the tables f creates.
func createdTables(f migrate.File) []string {
	stmts, err := f.Stmts()
	if err != nil {
		return nil
	}
	var out []string
	for _, q := range stmts {
		if m := createTable.FindStringSubmatch(q); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

func (s *Store) anyTableExists(ctx context.Context, tx *sql.Tx, names []string) (bool, error) {
	q := "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
	if s.dialect == dialect.SQLite {
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	for _, n := range names {
		var c int
		if err := tx.QueryRowContext(ctx, q, n).Scan(&c); err != nil {
			return false, err
		}
		if c > 0 {
			return true, nil
		}
	}
	return false, nil
}

func sqliteForeignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key violated after the migration: a row of %s refers to a missing %s", table, parent)
	}
	return rows.Err()
}

// checkBaseline compares the database's tables with the ones baseline f
// builds (on a scratch database: SQLite in memory, or a PostgreSQL schema
// rolled back) and fails, saying what differs, unless they are the same.
func (s *Store) checkBaseline(ctx context.Context, tx *sql.Tx, f migrationFile) error {
	stmts, err := f.Stmts()
	if err != nil {
		return err
	}
	live, drv, err := s.inspect(ctx, tx, "", createdTables(f))
	if err != nil {
		return err
	}
	var want *atlas.Schema
	switch s.dialect {
	case dialect.SQLite:
		db, err := sql.Open("sqlite", "file:usersvc-baseline?mode=memory&cache=private&_pragma=foreign_keys(1)")
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		scratch, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer scratch.Rollback()
		if err := execAll(ctx, scratch, stmts); err != nil {
			return fmt.Errorf("building %s to compare: %w", f.Name(), err)
		}
		if want, _, err = s.inspect(ctx, scratch, "", nil); err != nil {
			return err
		}
	default:
		// The baseline is built in a schema of its own inside a savepoint
		// that is rolled back.
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		scratch := "usersvc_baseline_" + hex.EncodeToString(b)
		if _, err := tx.ExecContext(ctx, "SAVEPOINT baseline_check"); err != nil {
			return err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT baseline_check") //nolint:errcheck // the transaction's end undoes it too
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+scratch+"; SET LOCAL search_path TO "+scratch); err != nil {
			return fmt.Errorf("building %s to compare (needs CREATE on the database; it is rolled back): %w", f.Name(), err)
		}
		if err := execAll(ctx, tx, stmts); err != nil {
			return fmt.Errorf("building %s to compare: %w", f.Name(), err)
		}
		if want, _, err = s.inspect(ctx, tx, scratch, nil); err != nil {
			return err
		}
	}
	want.Name, want.Attrs = live.Name, live.Attrs
	changes, err := drv.SchemaDiff(live, want)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	why := fmt.Sprintf("%d changes", len(changes))
	if plan, err := drv.PlanChanges(ctx, "baseline", changes, func(o *migrate.PlanOptions) { o.SchemaQualifier = new(string) }); err == nil {
		var b strings.Builder
		for _, c := range plan.Changes {
			b.WriteString("\n  " + c.Cmd)
		}
		why = "to match it, the database would need:" + b.String()
	}
	return fmt.Errorf("the database has tables but no migration history, and they are not the schema of the baseline migration %s (what release made them?); %s", f.Name(), why)
}

func execAll(ctx context.Context, tx *sql.Tx, stmts []string) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w (in %q)", err, q)
		}
	}
	return nil
}

// inspect reads a schema ("" for the connection's own) through Atlas,
// only the given tables when any are named.
func (s *Store) inspect(ctx context.Context, tx *sql.Tx, name string, tables []string) (*atlas.Schema, migrate.Driver, error) {
	var drv migrate.Driver
	var err error
	if s.dialect == dialect.SQLite {
		drv, err = sqlite.Open(tx)
	} else {
		drv, err = postgres.Open(tx)
	}
	if err != nil {
		return nil, nil, err
	}
	sch, err := drv.InspectSchema(ctx, name, &atlas.InspectOptions{Tables: tables, Mode: atlas.InspectTables})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the schema: %w", err)
	}
	return sch, drv, nil
}
