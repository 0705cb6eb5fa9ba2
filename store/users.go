package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/predicate"
	"usersvc/ent/user"
)

// User loads one user: one statement built from userTable. In a
// transaction on PostgreSQL, forUpdate locks the row; SQLite needs no row
// lock, as its write lock is taken at BEGIN IMMEDIATE.
func (s *Store) User(ctx context.Context, id string, forUpdate bool) (*usersvc.User, error) {
	q := userSQLOf[s.dialect]
	if forUpdate && s.tx != nil {
		return s.readUser(ctx, q.byIDForUpdate, id)
	}
	return s.readUser(ctx, q.byID, id)
}

// CountUsers counts every user, deleted ones included.
func (s *Store) CountUsers(ctx context.Context) (_ int, err error) {
	defer internal(&err)
	return s.c().User.Query().Count(ctx)
}

func saveErr(err error) error {
	var (
		pqErr     *pq.Error
		sqliteErr *sqlite.Error
	)
	if ent.IsConstraintError(err) || errors.As(err, &pqErr) && pqErr.Code == "23505" || // unique_violation
		errors.As(err, &sqliteErr) && sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return usersvc.ErrSignInTaken()
	}
	return err
}

// UserBySignInKey finds a user by their sign-in key (usersvc.SignInKey,
// the email_key column): one statement (reads.go).
func (s *Store) UserBySignInKey(ctx context.Context, key string) (*usersvc.User, error) {
	return s.readUser(ctx, userSQLOf[s.dialect].byEmail, key)
}

// ListUsers answers one page in (creation, id) order and, when asked, the
// filter's total: one query, and a count after it only when the page does
// not show the total (pageTotal).
func (s *Store) ListUsers(ctx context.Context, q usersvc.ListQuery) (_ []*usersvc.User, _ int, err error) {
	defer internal(&err)
	preds := s.userPredicates(q.Filter)
	// ent builds the page's query (its predicates are functions of a
	// selector); the columns and the scan are userTable's.
	page := entsql.Dialect(s.dialect).Select(userSQLOf[s.dialect].columns...).From(entsql.Table(user.Table))
	for _, p := range preds {
		p(page)
	}
	if c := q.After; c != nil {
		if q.Desc {
			user.Or(user.CreationLT(c.Creation), user.And(user.CreationEQ(c.Creation), user.IDLT(c.ID)))(page)
		} else {
			user.Or(user.CreationGT(c.Creation), user.And(user.CreationEQ(c.Creation), user.IDGT(c.ID)))(page)
		}
	}
	if q.Desc {
		page.OrderBy(entsql.Desc(user.FieldCreation), entsql.Desc(user.FieldID))
	} else {
		page.OrderBy(user.FieldCreation, user.FieldID)
	}
	page.Limit(q.Limit)
	if q.Offset > 0 {
		page.Offset(q.Offset)
	}
	query, args := page.Query()
	// Not s.query: SQLite would keep a prepared statement per page shape.
	rows, err := s.c().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := make([]*usersvc.User, 0, q.Limit)
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if !q.Count {
		return out, 0, nil
	}
	total, known := pageTotal(q, len(out))
	if !known {
		if total, err = s.c().User.Query().Where(preds...).Count(ctx); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// pageTotal is the filter's total when the page itself shows it: a page
// from the start of the order (no cursor) that is not full holds every
// match from its offset on, so the total is the offset plus its users
// (when it holds any: an empty page past the end says nothing of how far
// before it the matches end). A userName eq lookup is then one statement.
func pageTotal(q usersvc.ListQuery, n int) (total int, known bool) {
	if q.After != nil || q.Limit <= 0 || n >= q.Limit || n == 0 && q.Offset > 0 {
		return 0, false
	}
	return q.Offset + n, true
}

// userPredicates is f as predicates on the users table.
func (s *Store) userPredicates(f usersvc.UserFilter) []predicate.User {
	var preds []predicate.User
	if f.Deleted {
		preds = append(preds, user.DeletedAtNotNil())
	} else {
		preds = append(preds, user.DeletedAtIsNil())
	}
	if f.OnlyID != "" {
		preds = append(preds, user.ID(f.OnlyID))
	}
	if f.Provisioned {
		preds = append(preds, user.UserNameNotNil())
	}
	if f.Email != nil {
		// email_key is the sign-in key: a user's email's only when they
		// have no userName.
		preds = append(preds, user.Or(user.And(user.UserNameIsNil(), user.EmailKey(usersvc.EmailKey(*f.Email))),
			user.And(user.UserNameNotNil(), user.EmailEqualFold(*f.Email))))
	}
	if f.Group != nil {
		preds = append(preds, user.Group(*f.Group))
	}
	if f.Role != nil {
		preds = append(preds, user.RoleEQ(user.Role(*f.Role)))
	}
	if f.Disabled != nil {
		preds = append(preds, user.Disabled(*f.Disabled))
	}
	if f.Search != nil && *f.Search != "" {
		preds = append(preds, user.Or(user.NameContainsFold(*f.Search), user.EmailKeyContains(strings.ToLower(*f.Search)),
			user.EmailContainsFold(*f.Search)))
	}
	if f.Where != nil {
		preds = append(preds, condPredicate(s.dialect, f.Where))
	}
	return preds
}

// CountActiveAdmins counts admins that can act at now (not deleted, not
// disabled, valid_from ≤ now < valid_until, absent bounds open), other than
// except. On PostgreSQL lock takes their row locks, so two concurrent
// demotions cannot both see the other as the remaining admin.
func (s *Store) CountActiveAdmins(ctx context.Context, except string, now time.Time, lock bool) (_ int, err error) {
	defer internal(&err)
	q := s.c().User.Query().Where(user.RoleEQ(user.RoleAdmin), user.DeletedAtIsNil(), user.Disabled(false), user.IDNEQ(except),
		user.Or(user.ValidFromIsNil(), user.ValidFromLTE(now)),
		user.Or(user.ValidUntilIsNil(), user.ValidUntilGT(now)))
	if lock && s.tx != nil && s.dialect == dialect.Postgres {
		ids, err := q.ForUpdate().IDs(ctx)
		return len(ids), err
	}
	return q.Count(ctx)
}
