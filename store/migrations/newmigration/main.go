// Command newmigration writes the next versioned migration from the ent
// schema, for PostgreSQL and for SQLite (run it through make migration
// NAME=...). It computes the change on clean dev databases: SQLite in
// memory, and a throwaway schema on PostgreSQL (USERSVC_DEV_POSTGRES_URL,
// default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"usersvc/store/migrations"
)

func main() {
	name := flag.String("name", "", "the migration's name: lower-case letters, digits and _ (e.g. add_token_api_key_id)")
	root := flag.String("dir", "store/migrations", "the directory holding postgres/ and sqlite/")
	flag.Parse()
	if err := run(*root, *name); err != nil {
		fmt.Fprintln(os.Stderr, "newmigration:", err)
		os.Exit(1)
	}
}

func run(root, name string) error {
	if !migrations.ValidName(name) {
		return fmt.Errorf("NAME=%q: give the migration a name of lower-case letters, digits and _ (make migration NAME=add_x)", name)
	}
	pgURL := os.Getenv("USERSVC_DEV_POSTGRES_URL")
	if pgURL == "" {
		pgURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	version := time.Now().UTC().Format("20060102150405")
	wrote := false
	for _, d := range []string{dialect.Postgres, dialect.SQLite} {
		sub, err := migrations.Subdir(d)
		if err != nil {
			return err
		}
		dir, err := migrate.NewLocalDir(filepath.Join(root, sub))
		if err != nil {
			return err
		}
		dev, err := migrations.OpenDev(ctx, d, pgURL)
		if err != nil {
			return fmt.Errorf("%s dev database (PostgreSQL at USERSVC_DEV_POSTGRES_URL or 127.0.0.1:5432 is needed): %w", sub, err)
		}
		ok, err := migrations.Diff(ctx, dev, dir, version, name)
		err = errors.Join(err, dev.Close())
		if err != nil {
			return fmt.Errorf("%s: %w", sub, err)
		}
		if ok {
			wrote = true
			fmt.Printf("wrote %s\n", filepath.Join(root, sub, version+"_"+name+".sql"))
		} else {
			fmt.Printf("%s: the migrations already build the ent schema (generated in ent/migrate; ran make generate?); nothing written\n", sub)
		}
	}
	if wrote {
		fmt.Println("review the files, then commit them with the ent schema change")
	}
	return nil
}
