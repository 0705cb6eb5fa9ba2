package usersvc

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// UserFilter narrows a user list. Nil fields do not filter.
type UserFilter struct {
	// Email matches exactly, case-insensitively.
	Email *string
	Group *string
	Role  *Role
	// Disabled matches the disabled flag.
	Disabled *bool
	// Deleted lists soft-deleted users instead of live ones (admins only).
	Deleted bool
	// Search matches a case-insensitive substring of name or email.
	Search *string
	// OnlyID restricts the list to one user (what non-admins get).
	OnlyID string
	// Provisioned lists only users with a userName (SCIM's /Users:
	// Provisioned; deleted users are out unless Deleted).
	Provisioned bool
	// Where is a condition on top of the rest (filter.go), nil for none.
	Where *Cond
}

// Cursor is a position in the (creation, id) order.
type Cursor struct {
	Creation time.Time
	ID       string
}

// ListQuery is one page request.
type ListQuery struct {
	Filter UserFilter
	After  *Cursor
	Desc   bool
	Limit  int
	// Count asks for the number of users matching Filter as well: a
	// count over every match, so only when someone will read it.
	Count bool
	// Offset skips that many users of the order first (SCIM's pages).
	Offset int
}

// UserPage is one page of users.
type UserPage struct {
	Users      []*User
	TotalCount int
	NextCursor *string
	// Cursors holds each user's cursor, for Relay edges.
	Cursors []string
}

// EncodeCursor makes the opaque cursor of a user.
func EncodeCursor(u *User) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(u.Creation.UnixMicro(), 10) + ":" + u.ID))
}

func decodeCursor(s string) (*Cursor, error) {
	bad := FieldErrorf(EInvalid, "after", "Invalid cursor.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	ts, id, ok := strings.Cut(string(b), ":")
	micros, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || !possibleID(id) {
		return nil, bad
	}
	// A legal position is a time both databases store: years 1 to 9999
	// (PostgreSQL refused a time before 4713 BC with a 500; SQLite
	// compared a year-10000 text wrongly and restarted the list).
	at := time.UnixMicro(micros).UTC()
	if at.Year() < 1 || at.Year() > 9999 {
		return nil, bad
	}
	return &Cursor{Creation: at, ID: id}, nil
}

// ListUsers answers a page of users in a stable order (creation, then id;
// newest first when desc). Admins see everyone (deleted users only with the
// deleted filter); other callers see only themselves. withTotal asks for
// TotalCount too (GraphQL asks when totalCount is selected; REST and the
// command line never show it): with 100,000 users the count costs more
// than the page.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, first *int64, after *string, desc, withTotal bool) (*UserPage, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	q := ListQuery{Filter: f, Desc: desc, Limit: n + 1, Count: withTotal}
	if after != nil && *after != "" {
		if q.After, err = decodeCursor(*after); err != nil {
			return nil, err
		}
	}
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	if f.Search != nil && len(*f.Search) > MaxNameLen {
		return nil, FieldErrorf(EInvalid, "search", "Field %q is too long (at most %d characters).", "search", MaxNameLen)
	}
	if err := Authorize(actor, ActionList, nil, s.now()); err != nil {
		return nil, err
	}
	if only := listScope(actor); only != "" {
		q.Filter.OnlyID = only
	}
	users, total, err := s.reads().ListUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	page := &UserPage{Users: users, TotalCount: total}
	if len(users) > n {
		page.Users = users[:n]
		c := EncodeCursor(users[n-1])
		page.NextCursor = &c
	}
	for _, u := range page.Users {
		page.Cursors = append(page.Cursors, EncodeCursor(u))
	}
	return page, nil
}

// checkFilter refuses filter values no user can match and no database can
// compare: text that is not valid UTF-8 or holds a NUL, and unknown roles.
func checkFilter(f UserFilter) error {
	for _, t := range []struct {
		name string
		val  *string
	}{{"email", f.Email}, {"group", f.Group}, {"search", f.Search}} {
		if t.val != nil && !validText(*t.val) {
			return FieldErrorf(EInvalid, t.name, "Field %q must be valid text.", t.name)
		}
	}
	if f.Role != nil && !f.Role.Valid() {
		return errBadRole("role")
	}
	return nil
}

// SearchUsers answers the page of users matching f that starts offset
// users into the (creation, id) order, at most limit of them (0: only
// the total), with TotalCount: SCIM's list (OffsetPage gives offset and
// limit). Who sees whom is ListUsers' rule.
func (s *Service) SearchUsers(ctx context.Context, f UserFilter, offset, limit int) (*UserPage, error) {
	actor, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if f.Where != nil {
		if err := checkCond(f.Where); err != nil {
			return nil, err
		}
	}
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	if err := Authorize(actor, ActionList, nil, s.now()); err != nil {
		return nil, err
	}
	if only := listScope(actor); only != "" {
		f.OnlyID = only
	}
	users, total, err := s.reads().ListUsers(ctx, ListQuery{Filter: f, Limit: limit, Offset: offset, Count: true})
	if err != nil {
		return nil, err
	}
	return &UserPage{Users: users, TotalCount: total}, nil
}
