package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"usersvc"
	"usersvc/ent"
	"usersvc/ent/predicate"
	"usersvc/ent/user"
)

// User loads one user: one statement (reads.go). In a transaction on
// PostgreSQL, forUpdate locks the row; SQLite needs no row lock, as its
// write lock is taken at BEGIN IMMEDIATE.
func (s *Store) User(ctx context.Context, id string, forUpdate bool) (*usersvc.User, error) {
	q := readQueriesOf[s.dialect]
	if forUpdate && s.tx != nil && s.dialect == dialect.Postgres {
		return s.readUser(ctx, q.userByIDForUpdate, id)
	}
	return s.readUser(ctx, q.userByID, id)
}

// CountUsers counts every user, deleted ones included.
func (s *Store) CountUsers(ctx context.Context) (_ int, err error) {
	defer internal(&err)
	return s.c().User.Query().Count(ctx)
}

func saveErr(err error) error {
	var pqErr *pq.Error
	if ent.IsConstraintError(err) || errors.As(err, &pqErr) && pqErr.Code == "23505" { // unique_violation
		return usersvc.FieldErrorf(usersvc.EConflict, "email", "Email already in use.")
	}
	return err
}

// CreateUser inserts u.
func (s *Store) CreateUser(ctx context.Context, u *usersvc.User) (err error) {
	defer internal(&err)
	_, err = s.c().User.Create().
		SetID(u.ID).SetName(u.Name).SetEmail(u.Email).SetEmailKey(usersvc.EmailKey(u.Email)).
		SetCountry(u.Country).SetTimeZone(u.TimeZone).
		SetNillableDescription(u.Description).SetNillableMessage(u.Message).
		SetDisabled(u.Disabled).SetNillableDisabledMessage(u.DisabledMessage).
		SetTags(u.Tags).SetPrivileges(u.Privileges).
		SetNillableGroup(u.Group).SetNillableDeviceID(u.DeviceID).SetAdminDevices(u.AdminDevices).
		SetNillableValidFrom(u.From).SetNillableValidUntil(u.Expires).
		SetCreation(u.Creation).SetModification(u.Modification).SetNillableLastLogin(u.LastLogin).
		SetPasswordHash(u.PasswordHash).SetRole(user.Role(u.Role)).SetNillableDeletedAt(u.DeletedAt).
		SetVersion(u.Version).SetNillableDailyQuota(u.DailyQuota).
		Save(ctx)
	return saveErr(err)
}

// UpdateUser writes every field of u.
func (s *Store) UpdateUser(ctx context.Context, u *usersvc.User) (err error) {
	defer internal(&err)
	n, err := s.updateUser(ctx, u, nil)
	if err != nil {
		return err
	}
	if n == 0 {
		return usersvc.Errorf(usersvc.ENotFound, "User not found.")
	}
	return nil
}

// updateUser writes every field of u, when ifVersion is set only if the
// stored version is *ifVersion, and returns the rows it changed.
func (s *Store) updateUser(ctx context.Context, u *usersvc.User, ifVersion *int64) (int, error) {
	// A bulk update by id is one UPDATE; UpdateOne would read the row back.
	upd := s.c().User.Update().Where(user.ID(u.ID))
	if ifVersion != nil {
		upd.Where(user.Version(*ifVersion))
	}
	upd.
		SetName(u.Name).SetEmail(u.Email).SetEmailKey(usersvc.EmailKey(u.Email)).
		SetCountry(u.Country).SetTimeZone(u.TimeZone).
		SetDisabled(u.Disabled).SetTags(u.Tags).SetPrivileges(u.Privileges).
		SetAdminDevices(u.AdminDevices).SetModification(u.Modification).
		SetPasswordHash(u.PasswordHash).SetRole(user.Role(u.Role)).SetVersion(u.Version)
	optStr := func(v *string, set func(string) *ent.UserUpdate, clear func() *ent.UserUpdate) {
		if v != nil {
			set(*v)
		} else {
			clear()
		}
	}
	optTime := func(v *time.Time, set func(time.Time) *ent.UserUpdate, clear func() *ent.UserUpdate) {
		if v != nil {
			set(*v)
		} else {
			clear()
		}
	}
	optStr(u.Description, upd.SetDescription, upd.ClearDescription)
	optStr(u.Message, upd.SetMessage, upd.ClearMessage)
	optStr(u.DisabledMessage, upd.SetDisabledMessage, upd.ClearDisabledMessage)
	optStr(u.Group, upd.SetGroup, upd.ClearGroup)
	optStr(u.DeviceID, upd.SetDeviceID, upd.ClearDeviceID)
	optTime(u.From, upd.SetValidFrom, upd.ClearValidFrom)
	optTime(u.Expires, upd.SetValidUntil, upd.ClearValidUntil)
	optTime(u.LastLogin, upd.SetLastLogin, upd.ClearLastLogin)
	optTime(u.DeletedAt, upd.SetDeletedAt, upd.ClearDeletedAt)
	if u.DailyQuota != nil {
		upd.SetDailyQuota(*u.DailyQuota)
	} else {
		upd.ClearDailyQuota()
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return 0, saveErr(err)
	}
	return n, nil
}

func toDomain(u *ent.User) *usersvc.User {
	tags := u.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	privs := u.Privileges
	if privs == nil {
		privs = []string{}
	}
	return &usersvc.User{
		ID: u.ID, Name: u.Name, Email: u.Email, Country: u.Country, TimeZone: u.TimeZone,
		Description: u.Description, Message: u.Message, Disabled: u.Disabled,
		DisabledMessage: u.DisabledMessage, Tags: tags, Privileges: privs,
		Group: u.Group, DeviceID: u.DeviceID, AdminDevices: u.AdminDevices,
		From: utcPtr(u.ValidFrom), Expires: utcPtr(u.ValidUntil),
		Creation: u.Creation.UTC(), Modification: u.Modification.UTC(), LastLogin: utcPtr(u.LastLogin),
		Role: usersvc.Role(u.Role), DeletedAt: utcPtr(u.DeletedAt), Version: u.Version,
		PasswordHash: u.PasswordHash, DailyQuota: u.DailyQuota,
	}
}

// UserByEmail finds a user by the lower-cased email: one statement (reads.go).
func (s *Store) UserByEmail(ctx context.Context, emailKey string) (*usersvc.User, error) {
	return s.readUser(ctx, readQueriesOf[s.dialect].userByEmail, emailKey)
}

// ListUsers answers one page in (creation, id) order and, when asked, the
// filter's total: one query, or two with the count, whatever the page size.
func (s *Store) ListUsers(ctx context.Context, q usersvc.ListQuery) (_ []*usersvc.User, _ int, err error) {
	defer internal(&err)
	var preds []predicate.User
	f := q.Filter
	if f.Deleted {
		preds = append(preds, user.DeletedAtNotNil())
	} else {
		preds = append(preds, user.DeletedAtIsNil())
	}
	if f.OnlyID != "" {
		preds = append(preds, user.ID(f.OnlyID))
	}
	if f.Email != nil {
		preds = append(preds, user.EmailKey(usersvc.EmailKey(*f.Email)))
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
		preds = append(preds, user.Or(user.NameContainsFold(*f.Search), user.EmailKeyContains(strings.ToLower(*f.Search))))
	}
	total := 0
	if q.Count {
		if total, err = s.c().User.Query().Where(preds...).Count(ctx); err != nil {
			return nil, 0, err
		}
	}
	page := s.c().User.Query().Where(preds...)
	if c := q.After; c != nil {
		if q.Desc {
			page = page.Where(user.Or(user.CreationLT(c.Creation), user.And(user.CreationEQ(c.Creation), user.IDLT(c.ID))))
		} else {
			page = page.Where(user.Or(user.CreationGT(c.Creation), user.And(user.CreationEQ(c.Creation), user.IDGT(c.ID))))
		}
	}
	if q.Desc {
		page = page.Order(ent.Desc(user.FieldCreation), ent.Desc(user.FieldID))
	} else {
		page = page.Order(ent.Asc(user.FieldCreation), ent.Asc(user.FieldID))
	}
	rows, err := page.Limit(q.Limit).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*usersvc.User, len(rows))
	for i, r := range rows {
		out[i] = toDomain(r)
	}
	return out, total, nil
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
