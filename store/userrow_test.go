package store

import (
	"slices"
	"testing"

	"usersvc/ent/migrate"
)

// TestUserTableMatchesSchema: userTable spells every column of ent's
// generated users table, in its order, and nothing else; so a column
// added to the schema fails here until reads and saves carry it.
func TestUserTableMatchesSchema(t *testing.T) {
	var schema, ours []string
	for _, c := range migrate.UsersTable.Columns {
		schema = append(schema, c.Name)
	}
	for _, c := range userTable {
		ours = append(ours, c.name)
	}
	if !slices.Equal(ours, schema) {
		t.Fatalf("userTable columns %v\nent's users table %v", ours, schema)
	}
	for _, c := range userTable {
		if c.value == nil {
			t.Errorf("column %s has no value to save", c.name)
		}
		if c.target == nil && c.name != "email_key" { // email_key is derived from email, never read back
			t.Errorf("column %s is never read", c.name)
		}
	}
}
