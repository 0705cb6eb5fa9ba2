package store

import (
	"context"

	entsql "entgo.io/ent/dialect/sql"

	"usersvc"
	"usersvc/ent/user"
)

// ExplainUsers is PostgreSQL's plan of the list query of f (its ids), with
// sequential scans off, so that a usable index shows.
func (s *Store) ExplainUsers(ctx context.Context, f usersvc.UserFilter) ([]string, error) {
	q := entsql.Dialect(s.dialect).Select(user.FieldID).From(entsql.Table(user.Table))
	for _, p := range s.userPredicates(f) {
		p(q)
	}
	text, args := q.Query()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
		return nil, err
	}
	defer conn.ExecContext(ctx, "RESET enable_seqscan") //nolint:errcheck // the connection goes back to the pool
	rows, err := conn.QueryContext(ctx, "EXPLAIN "+text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	plan := []string{text}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		plan = append(plan, line)
	}
	return plan, rows.Err()
}
