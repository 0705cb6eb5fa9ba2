// Package migrations holds the versioned schema migrations: one directory
// per database (postgres/, sqlite/) in Atlas's format (<version>_<name>.sql
// files and the atlas.sum checksum file), embedded in the binary. store
// applies them; Diff writes the next one from the ent schema (make migration).
package migrations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"text/template"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"  // the PostgreSQL dev database
	_ "modernc.org/sqlite" // the SQLite dev database

	entmigrate "usersvc/ent/migrate"
)

//go:embed postgres sqlite
var files embed.FS

// Subdir names the directory (under store/migrations) of an ent dialect's
// migrations: "postgres" or "sqlite".
func Subdir(d string) (string, error) {
	switch d {
	case dialect.Postgres:
		return "postgres", nil
	case dialect.SQLite:
		return "sqlite", nil
	}
	return "", fmt.Errorf("no migrations for dialect %q", d)
}

// Dir returns the embedded migration directory of an ent dialect.
func Dir(d string) (*migrate.MemDir, error) {
	sub, err := Subdir(d)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(files, sub)
	if err != nil {
		return nil, err
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(sub, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	return dir, nil
}

// ValidName reports whether name can name a migration file.
var ValidName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`).MatchString

// Diff writes into dir the migration, named version_name.sql, that takes
// the schema dir's files build to the ent schema, and updates dir's
// atlas.sum. dev must be a clean database of dialect d (Atlas replays dir
// on it, then empties it again). It reports whether it wrote a file: false
// means dir already builds the ent schema. dir's atlas.sum must verify.
//
// Drops are planned too (a removed field becomes DROP COLUMN): migration
// files are reviewed before they are committed.
func Diff(ctx context.Context, dev *Dev, dir migrate.Dir, version, name string) (bool, error) {
	if !ValidName(name) {
		return false, fmt.Errorf("migration name %q: use lower-case letters, digits and _", name)
	}
	if err := migrate.CheckVersion(version); err != nil {
		return false, err
	}
	opts := []schema.MigrateOption{
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(formatter(version)),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	}
	var m *schema.Atlas
	var err error
	if dev.Dialect == dialect.Postgres {
		// Through the URL, Atlas binds itself to the dev schema (search_path)
		// rather than to the whole database, whose other schemas are not its.
		m, err = schema.NewMigrateURL(dev.URL, opts...)
	} else {
		m, err = schema.NewMigrate(entsql.OpenDB(dev.Dialect, dev.DB), opts...)
	}
	if err != nil {
		return false, err
	}
	switch err := m.NamedDiff(ctx, name, entmigrate.Tables...); {
	case errors.Is(err, migrate.ErrNoPlan):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// formatter is Atlas's default file format with a fixed version, so that
// one run names the PostgreSQL and SQLite files alike.
func formatter(version string) migrate.Formatter {
	name := template.Must(template.New("").Parse(version + "{{ with .Name }}_{{ . }}{{ end }}.sql"))
	return migrate.TemplateFormatter{{N: name, C: migrate.DefaultFormatter[0].C}}
}

// Dev is a clean database that Diff computes on.
type Dev struct {
	Dialect string
	DB      *sql.DB // SQLite: the in-memory database
	URL     string  // PostgreSQL: a URL whose search_path is the dev schema
	close   func() error
}

// Close drops the dev database that OpenDev made.
func (d *Dev) Close() error {
	if d.close == nil {
		return nil
	}
	return d.close()
}

// OpenDev opens a clean dev database for dialect d: SQLite in memory, or a
// new schema of its own on the PostgreSQL server at pgURL.
func OpenDev(ctx context.Context, d, pgURL string) (*Dev, error) {
	switch d {
	case dialect.SQLite:
		db, err := sql.Open("sqlite", "file:usersvc-dev-"+randomHex()+"?mode=memory&cache=private&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1) // an in-memory database lives in its connection
		return &Dev{Dialect: d, DB: db, close: db.Close}, nil
	case dialect.Postgres:
		u, err := url.Parse(pgURL)
		if err != nil {
			return nil, err
		}
		admin, err := sql.Open("postgres", pgURL)
		if err != nil {
			return nil, err
		}
		name := "usersvc_dev_" + randomHex()
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
			admin.Close()
			return nil, fmt.Errorf("creating a dev schema on PostgreSQL: %w", err)
		}
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		return &Dev{Dialect: d, URL: u.String(), close: func() error {
			defer admin.Close()
			_, err := admin.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+name+" CASCADE")
			return err
		}}, nil
	}
	return nil, fmt.Errorf("no dev database for dialect %q", d)
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
