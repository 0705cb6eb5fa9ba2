package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/group"
	"usersvc/ent/groupmember"
)

// Groups and their memberships. Reads are hand-written: a group comes
// with its members (users not deleted) in the same statement, as one JSON
// array from a subquery; writes go through ent in the caller's
// transaction.

// groupSQL is one dialect's group statements.
type groupSQL struct {
	// columns is a group's select list (scanGroup's order), from
	// user_groups g.
	columns string
	// byID, byIDForUpdate read one group; ofUsers reads users' groups
	// (user_id first); the users are the first parameter (see usersArg).
	byID, byIDForUpdate, ofUsers string
	// usersByID reads users by id (the first parameter, see usersArg).
	usersByID, usersByIDForUpdate string
	ph                            func(i int) string
}

func newGroupSQL(d string) *groupSQL {
	q := &groupSQL{ph: func(i int) string { return "?" + strconv.Itoa(i) }}
	members := `SELECT json_group_array(m.user_id) FROM group_members m JOIN users ON users.id = m.user_id ` +
		`WHERE m.group_id = g.id AND ` + userLive
	inUsers := "IN (SELECT value FROM json_each(?1))"
	if d == dialect.Postgres {
		q.ph = func(i int) string { return "$" + strconv.Itoa(i) }
		members = `SELECT COALESCE(json_agg(m.user_id), '[]'::json) FROM group_members m JOIN users ON users.id = m.user_id ` +
			`WHERE m.group_id = g.id AND ` + userLive
		inUsers = "= ANY($1::text[])"
	}
	q.columns = "g.id, g.display_name, g.external_id, g.scim, g.version, g.created, g.modified, (" + members + ")"
	q.byID = "SELECT " + q.columns + " FROM user_groups g WHERE g.id = " + q.ph(1)
	q.byIDForUpdate = q.byID
	if d == dialect.Postgres {
		q.byIDForUpdate += " FOR UPDATE OF g" // SQLite's write lock is taken at BEGIN IMMEDIATE
	}
	q.ofUsers = "SELECT gm.user_id, " + q.columns + " FROM group_members gm JOIN user_groups g ON g.id = gm.group_id " +
		"JOIN users ON users.id = gm.user_id WHERE gm.user_id " + inUsers + " AND " + userLive +
		" ORDER BY gm.user_id, g.display_name_key, g.id"
	q.usersByID, q.usersByIDForUpdate = usersByIDSQL(d, inUsers)
	return q
}

var groupSQLOf = map[string]*groupSQL{
	dialect.Postgres: newGroupSQL(dialect.Postgres),
	dialect.SQLite:   newGroupSQL(dialect.SQLite),
}

// scanGroup reads one row of q.columns (after any leading targets).
func scanGroup(rows *sql.Rows, lead ...any) (*usersvc.Group, error) {
	g := &usersvc.Group{}
	var ext sql.NullString
	var members, scim []byte
	if err := rows.Scan(append(lead, &g.ID, &g.DisplayName, &ext, &scim, &g.Version, &g.Created, &g.Modified, &members)...); err != nil {
		return nil, err
	}
	var err error
	if g.SCIM, err = decodeSCIM(scim); err != nil {
		return nil, err
	}
	g.ExternalID = nullString(ext)
	g.Created, g.Modified = g.Created.UTC(), g.Modified.UTC()
	if err := json.Unmarshal(members, &g.Members); err != nil {
		return nil, err
	}
	if g.Members == nil {
		g.Members = []string{}
	}
	slices.Sort(g.Members)
	return g, nil
}

// Group reads one group with its members; forUpdate, in a transaction,
// locks its row (PostgreSQL; SQLite's transactions hold the write lock).
func (s *Store) Group(ctx context.Context, id string, forUpdate bool) (_ *usersvc.Group, err error) {
	defer internal(&err)
	q := groupSQLOf[s.dialect]
	text := q.byID
	if forUpdate && s.tx != nil {
		text = q.byIDForUpdate
	}
	rows, err := s.c().QueryContext(ctx, text, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, usersvc.Errorf(usersvc.ENotFound, "Group not found.")
	}
	g, err := scanGroup(rows)
	if err != nil {
		return nil, err
	}
	return g, rows.Close()
}

// Groups answers one page of q and the filter's total: the page's
// statement (none for a count of 0) and the count's.
func (s *Store) Groups(ctx context.Context, q usersvc.GroupQuery) (_ []*usersvc.Group, _ int, err error) {
	defer internal(&err)
	gs := groupSQLOf[s.dialect]
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" = "+gs.ph(len(args)))
	}
	f := q.Filter
	if f.DisplayName != nil {
		add("g.display_name_key", usersvc.GroupNameKey(*f.DisplayName))
	}
	if f.ExternalID != nil {
		add("g.external_id", *f.ExternalID)
	}
	if f.ID != nil {
		add("g.id", *f.ID)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	total, err := s.count(ctx, "SELECT count(*) FROM user_groups g"+cond, args...)
	if err != nil {
		return nil, 0, err
	}
	out := []*usersvc.Group{}
	if *q.Count == 0 || q.Offset >= int64(total) {
		return out, total, nil
	}
	n := len(args)
	rows, err := s.c().QueryContext(ctx, "SELECT "+gs.columns+" FROM user_groups g"+cond+
		" ORDER BY g.display_name_key, g.id LIMIT "+gs.ph(n+1)+" OFFSET "+gs.ph(n+2), append(args, *q.Count, q.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, g)
	}
	return out, total, rows.Err()
}

// GroupsOfUsers lists each user's groups, members included: one
// statement. Deleted users are in no group.
func (s *Store) GroupsOfUsers(ctx context.Context, userIDs []string) (_ map[string][]*usersvc.Group, err error) {
	defer internal(&err)
	users, err := s.usersArg(userIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.c().QueryContext(ctx, groupSQLOf[s.dialect].ofUsers, users)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]*usersvc.Group, len(userIDs))
	for rows.Next() {
		var uid string
		g, err := scanGroup(rows, &uid)
		if err != nil {
			return nil, err
		}
		out[uid] = append(out[uid], g)
	}
	return out, rows.Err()
}

// UsersByID reads the users with these ids, deleted ones too, in id
// order: one statement; forUpdate, in a transaction, locks their rows.
func (s *Store) UsersByID(ctx context.Context, ids []string, forUpdate bool) (_ []*usersvc.User, err error) {
	defer internal(&err)
	arg, err := s.usersArg(ids)
	if err != nil {
		return nil, err
	}
	q := groupSQLOf[s.dialect]
	text := q.usersByID
	if forUpdate && s.tx != nil {
		text = q.usersByIDForUpdate
	}
	rows, err := s.c().QueryContext(ctx, text, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*usersvc.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SaveGroup saves one decided group write (usersvc.GroupSave) in one
// transaction (the caller's, when in one): the group row guarded by its
// version, then its memberships.
func (s *Store) SaveGroup(ctx context.Context, w *usersvc.GroupSave) (saved bool, err error) {
	defer internal(&err)
	err = s.transact(ctx, func(t *Store) error {
		saved = false // InTx may run this again
		ok, err := t.saveGroupRow(ctx, w)
		if err != nil || !ok {
			return groupSaveErr(err)
		}
		c, id := t.c(), w.Group.ID
		if len(w.Leave) > 0 && !w.Delete {
			if _, err := c.GroupMember.Delete().Where(groupmember.GroupID(id), groupmember.UserIDIn(w.Leave...)).Exec(ctx); err != nil {
				return err
			}
		}
		if len(w.Join) > 0 {
			b := make([]*ent.GroupMemberCreate, len(w.Join))
			for i, uid := range w.Join {
				b[i] = c.GroupMember.Create().SetGroupID(id).SetUserID(uid)
			}
			if err := c.GroupMember.CreateBulk(b...).Exec(ctx); err != nil {
				return err
			}
		}
		saved = true
		return nil
	})
	return saved, err
}

// saveGroupRow inserts, updates (guarded by w.Version) or deletes
// (likewise, its memberships first) the group's row.
func (t *Store) saveGroupRow(ctx context.Context, w *usersvc.GroupSave) (bool, error) {
	g, c := w.Group, t.c()
	switch {
	case w.Create:
		_, err := c.Group.Create().SetID(g.ID).SetDisplayName(g.DisplayName).SetDisplayNameKey(usersvc.GroupNameKey(g.DisplayName)).
			SetNillableExternalID(g.ExternalID).SetScim(g.SCIM).SetVersion(g.Version).SetCreated(g.Created).SetModified(g.Modified).Save(ctx)
		return err == nil, err
	case w.Delete:
		if _, err := c.GroupMember.Delete().Where(groupmember.GroupID(g.ID)).Exec(ctx); err != nil {
			return false, err
		}
		n, err := c.Group.Delete().Where(group.ID(g.ID), group.Version(w.Version)).Exec(ctx)
		return n == 1, err
	}
	u := c.Group.Update().Where(group.ID(g.ID), group.Version(w.Version)).
		SetDisplayName(g.DisplayName).SetDisplayNameKey(usersvc.GroupNameKey(g.DisplayName)).
		SetVersion(g.Version).SetModified(g.Modified)
	if g.ExternalID != nil {
		u.SetExternalID(*g.ExternalID)
	} else {
		u.ClearExternalID()
	}
	if g.SCIM != nil {
		u.SetScim(g.SCIM)
	} else {
		u.ClearScim()
	}
	n, err := u.Save(ctx)
	return n == 1, err
}

// groupSaveErr is a taken displayName's conflict (the only unique key a
// group write can break: members are checked and locked by the group's
// row).
func groupSaveErr(err error) error {
	var (
		pqErr     *pq.Error
		sqliteErr *sqlite.Error
	)
	if errors.As(err, &pqErr) && pqErr.Code == "23505" || errors.As(err, &sqliteErr) && sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
		ent.IsConstraintError(err) {
		e := usersvc.FieldErrorf(usersvc.EConflict, "displayName", "A group with this displayName already exists.")
		e.Reason = usersvc.RUnique
		return e
	}
	return err
}

// count runs a statement answering one number.
func (s *Store) count(ctx context.Context, q string, args ...any) (int, error) {
	rows, err := s.c().QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Close()
}
