package migrations_test

import (
	"context"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"usersvc/internal/testenv"
	"usersvc/store/migrations"
)

// devFor is a clean dev database for db's dialect: SQLite in memory, or
// the test's own (empty) PostgreSQL schema.
func devFor(t *testing.T, db testenv.DB) *migrations.Dev {
	t.Helper()
	if db.Name == "postgres" {
		return &migrations.Dev{Dialect: dialect.Postgres, URL: db.URL}
	}
	dev, err := migrations.OpenDev(context.Background(), dialect.SQLite, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func dialectOf(db testenv.DB) string {
	if db.Name == "postgres" {
		return dialect.Postgres
	}
	return dialect.SQLite
}

// pending is what Diff writes into dir (a copy of the committed directory):
// the migration that the files lack to build the ent schema ("" when none).
func pending(t *testing.T, db testenv.DB, dir migrate.Dir) string {
	t.Helper()
	wrote, err := migrations.Diff(context.Background(), devFor(t, db), dir, "29991231235959", "pending")
	if err != nil {
		t.Fatal(err)
	}
	if !wrote {
		return ""
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	last := files[len(files)-1]
	if last.Name() != "29991231235959_pending.sql" {
		t.Fatalf("Diff wrote %s", last.Name())
	}
	return string(last.Bytes())
}

// TestMigrationsMatchEntSchema is CI's check that the committed migration
// files (store/migrations/postgres and sqlite) build exactly the ent schema,
// and that their atlas.sum verifies.
func TestMigrationsMatchEntSchema(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		sub, _ := migrations.Subdir(dialectOf(db))
		dir, err := migrations.Dir(dialectOf(db))
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Fatalf("store/migrations/%s/atlas.sum does not match the files (%v): never edit a migration by hand; "+
				"restore the committed files (git checkout store/migrations), then run make migration NAME=...", sub, err)
		}
		if sql := pending(t, db, dir); sql != "" {
			t.Fatalf("the ent schema (ent/schema) and store/migrations/%s disagree: run `make generate` and "+
				"`make migration NAME=<what changed>` and commit the files. The missing migration is:\n%s", sub, sql)
		}
	})
}

// TestDriftIsCaught: the check above fails when a migration is missing
// (here: all of them) and shows what is missing.
func TestDriftIsCaught(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		sql := pending(t, db, &migrate.MemDir{})
		for _, table := range []string{"users", "tokens", "usages", "audits"} {
			if !strings.Contains(sql, `Create "`+table+`" table`) {
				t.Errorf("the missing migration does not create %s:\n%s", table, sql)
			}
		}
	})
}
