// Package usersvc holds the domain of the user service: the user document,
// its validation, who may read and write what, JSON Patch application,
// authentication and usage metering, and the typed errors every transport
// reports. It depends on no transport and on no storage engine: those live
// in the graph, rest and store packages, which adapt to this one.
package usersvc

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"strings"
	"time"
)

// Role is a user's role.
type Role string

// Roles.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// User is a stored user. Optional text fields are nil when unset so that the
// document can say null; Tags and Privileges are never nil once normalized.
type User struct {
	ID    string
	Name  string
	Email string
	// UserName, when set, is the name the user signs in with instead of
	// their email, and makes them one of SCIM's /Users (docs/scim.md).
	UserName        *string
	Country         string
	TimeZone        string
	Description     *string
	Message         *string
	Disabled        bool
	DisabledMessage *string
	Tags            map[string]string
	Privileges      []string
	Group           *string
	DeviceID        *string
	AdminDevices    int
	From            *time.Time
	Expires         *time.Time
	Creation        time.Time
	Modification    time.Time
	LastLogin       *time.Time
	Role            Role
	DeletedAt       *time.Time
	// DailyQuota overrides the default daily request quota when set.
	DailyQuota *int64
	// SCIM holds the attributes an identity provider sent over SCIM that
	// have no field of their own (emails, name parts, title, the
	// enterprise extension, externalId...): a JSON object, nil when none.
	// Values are never changed in place; a write replaces the map.
	SCIM map[string]any
	// Version grows by one on every change that is saved. It is the ETag.
	Version int64
	// PasswordHash is the bcrypt hash of the password, "" when none is set.
	// It never leaves the service.
	PasswordHash string
	// PasswordSource is the digest of the hash the last import gave the
	// user ("" when none did): see ImportedHashDigest.
	PasswordSource string
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// errBadRole is the answer to a role that is not one.
func errBadRole(field string) error {
	return FieldErrorf(EInvalid, field, "Field %q must be \"user\" or \"admin\".", field)
}

// IsAdmin reports whether u has the admin role.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Clone returns a deep copy of u.
func (u *User) Clone() *User {
	c := *u
	c.Tags = make(map[string]string, len(u.Tags))
	for k, v := range u.Tags {
		c.Tags[k] = v
	}
	c.Privileges = append([]string{}, u.Privileges...)
	if u.DailyQuota != nil {
		q := *u.DailyQuota
		c.DailyQuota = &q
	}
	return &c
}

// Document is the public JSON form of a user: exactly the fields a REST GET
// answers with, in the public API's order. It is also the document a JSON
// Patch applies to. Password is always null.
type Document struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Email           string            `json:"email"`
	UserName        *string           `json:"userName"`
	Country         string            `json:"country"`
	TimeZone        string            `json:"timeZone"`
	Description     *string           `json:"description"`
	Message         *string           `json:"message"`
	Disabled        bool              `json:"disabled"`
	DisabledMessage *string           `json:"disabledMessage"`
	Tags            map[string]string `json:"tags"`
	Privileges      []string          `json:"privileges"`
	Group           *string           `json:"group"`
	DeviceID        *string           `json:"deviceId"`
	AdminDevices    int               `json:"adminDevices"`
	From            *string           `json:"from"`
	Expires         *string           `json:"expires"`
	Password        *string           `json:"password"`
	Creation        string            `json:"creation"`
	Modification    string            `json:"modification"`
	LastLogin       *string           `json:"lastLogin"`
	Role            Role              `json:"role"`
	DeletedAt       *string           `json:"deletedAt"`
	DailyQuota      *int64            `json:"dailyQuota"`
	SCIM            map[string]any    `json:"scim"`
}

// FormatTime renders an instant as the API does: RFC 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}

// Document renders u in its public form.
func (u *User) Document() *Document {
	tags := u.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	privs := u.Privileges
	if privs == nil {
		privs = []string{}
	}
	return &Document{
		ID: u.ID, Name: u.Name, Email: u.Email, UserName: u.UserName, Country: u.Country, TimeZone: u.TimeZone,
		Description: u.Description, Message: u.Message, Disabled: u.Disabled,
		DisabledMessage: u.DisabledMessage, Tags: tags, Privileges: privs,
		Group: u.Group, DeviceID: u.DeviceID, AdminDevices: u.AdminDevices,
		From: formatTimePtr(u.From), Expires: formatTimePtr(u.Expires),
		Creation: FormatTime(u.Creation), Modification: FormatTime(u.Modification),
		LastLogin: formatTimePtr(u.LastLogin), Role: u.Role, DeletedAt: formatTimePtr(u.DeletedAt),
		DailyQuota: u.DailyQuota, SCIM: u.SCIM,
	}
}

// documentMap renders u as a generic JSON value (numbers as json.Number), the
// form JSON Patch and merge patch work on.
func (u *User) documentMap() (map[string]any, error) {
	b, err := json.Marshal(u.Document())
	if err != nil {
		return nil, err
	}
	return DecodeSCIM(b)
}

// Now is the service's clock precision: instants are kept to the microsecond,
// which both SQLite and PostgreSQL store exactly.
func truncTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// NewUserID returns a fresh opaque user id: "usr-" and 16 base32 characters.
func NewUserID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "usr-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
