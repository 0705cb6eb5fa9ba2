package usersvc

import (
	"time"
)

// This file is the user's field table: one descriptor per field of the
// public document, in the document's order. Who may write a field, how a
// body's value decodes, what leaving it out does, how it validates, its
// limits and how two values compare all come from here: decoding
// (input.go), validation (validate.go), the write path (write.go), change
// detection and history (changes.go, DiffPatch), authorization (policy.go)
// and the REST envelope (Value) read the table and list no field
// themselves. Adding a field: docs/architecture.md, "Adding a field".

// Access says who may change a field of the user document.
type Access int

// Field access levels (see the table in the README).
const (
	// SelfWritable fields may be changed by the user themselves and by admins.
	SelfWritable Access = iota
	// AdminWritable fields may be changed by admins only.
	AdminWritable
	// AdminUndelete is deletedAt: admins may only set it back to null.
	AdminUndelete
	// ReadOnly fields are never written through the API. A body may carry
	// them (the public examples send whole documents back); they are
	// ignored, except id, which must name the target.
	ReadOnly
)

// omission says what a replace does with a field its body leaves out.
type omission int

const (
	// omitClears: the field goes back to its empty value (null, false,
	// 0, no entries). For AdminWritable fields only when an admin writes:
	// a user's body that leaves them out keeps them.
	omitClears omission = iota
	// omitKeeps: the stored value stays (password, role, deletedAt).
	omitKeeps
	// omitRequired: the body must name the field, with a value.
	omitRequired
)

// Field describes one field of the user document.
type Field struct {
	// Name is the field's name in the document and in every API.
	Name string
	// Access says who may write it.
	Access Access
	// Nullable says the document may hold null for it.
	Nullable bool
	// WriteOnly fields (password) are always null in the document.
	WriteOnly bool
	// MaxLength is the longest text value in characters (text fields),
	// MaxItems the most entries (tags, privileges), Min/Max the range of
	// an integer; 0 where it does not apply.
	MaxLength, MaxItems int
	Min, Max            int64

	omit omission
	// object: the value is a JSON object (scim), not a scalar.
	object bool
	// decode reads a body's non-null value into d.
	decode func(d *draft, v any) error
	// clear is what null, or leaving the field out where that clears,
	// does; nil for fields that ignore both.
	clear func(d *draft)
	// check validates the field's value in a user; nil when its type
	// says everything.
	check func(u *User) error
	// value is the field's value in the document, for comparing two
	// users, for the history's patches and for the REST envelope. A
	// required text is a *string into d, so that reading it allocates
	// nothing (equalValues and jsonValue read *string through).
	value func(d *Document) any
}

// fields is the field table, in document order.
var fields = []*Field{
	readOnly("id", func(d *Document) any { return &d.ID }, func(dr *draft, v any) error {
		s, ok := v.(string)
		if !ok {
			return mustBe("id", "a string")
		}
		dr.id = &s
		return nil
	}),
	requiredText("name", MaxNameLen, func(u *User) *string { return &u.Name }, func(d *Document) any { return &d.Name }, nil),
	emailMayBeEmpty(requiredText("email", MaxEmailLen, func(u *User) *string { return &u.Email }, func(d *Document) any { return &d.Email },
		func(u *User) error { return ValidateEmail(u.Email) })),
	{
		Name: "userName", Access: AdminWritable, Nullable: true, MaxLength: MaxUserNameLen,
		decode: func(d *draft, v any) error {
			s, ok := v.(string)
			if !ok {
				return mustBe("userName", "a string")
			}
			s = nfc(s)
			d.u.UserName = &s
			return nil
		},
		clear: func(d *draft) { d.u.UserName = nil },
		check: checkUserName,
		value: func(d *Document) any { return d.UserName },
	},
	requiredText("country", MaxCountryLen, func(u *User) *string { return &u.Country }, func(d *Document) any { return &d.Country }, nil),
	requiredText("timeZone", MaxTimeZoneLen, func(u *User) *string { return &u.TimeZone }, func(d *Document) any { return &d.TimeZone },
		func(u *User) error { _, err := LoadLocation(u.TimeZone); return err }),
	optionalText("description", SelfWritable, MaxDescriptionLen, func(u *User) **string { return &u.Description }, func(d *Document) any { return d.Description }),
	optionalText("message", AdminWritable, MaxMessageLen, func(u *User) **string { return &u.Message }, func(d *Document) any { return d.Message }),
	{
		Name: "disabled", Access: AdminWritable,
		decode: func(d *draft, v any) error {
			b, ok := v.(bool)
			if !ok {
				return mustBe("disabled", "a boolean")
			}
			d.u.Disabled = b
			return nil
		},
		clear: func(d *draft) { d.u.Disabled = false },
		value: func(d *Document) any { return d.Disabled },
	},
	optionalText("disabledMessage", AdminWritable, MaxDisabledMessageLen, func(u *User) **string { return &u.DisabledMessage }, func(d *Document) any { return d.DisabledMessage }),
	{
		Name: "tags", Access: AdminWritable, MaxItems: MaxTags,
		decode: func(d *draft, v any) error {
			tags := map[string]string{}
			switch t := v.(type) {
			case map[string]any:
				for k, tv := range t {
					s, ok := tv.(string)
					if !ok {
						return mustBe("tags", "an object of strings")
					}
					tags[k] = s
				}
			case map[string]string:
				for k, s := range t {
					tags[k] = s
				}
			default:
				return mustBe("tags", "an object of strings")
			}
			d.u.Tags = tags
			return nil
		},
		clear: func(d *draft) { d.u.Tags = map[string]string{} },
		check: checkTags,
		value: func(d *Document) any { return d.Tags },
	},
	{
		Name: "privileges", Access: AdminWritable, MaxItems: MaxPrivileges,
		decode: func(d *draft, v any) error {
			privs := []string{}
			switch t := v.(type) {
			case []any:
				for _, pv := range t {
					s, ok := pv.(string)
					if !ok {
						return mustBe("privileges", "an array of strings")
					}
					privs = append(privs, s)
				}
			case []string:
				privs = append(privs, t...)
			default:
				return mustBe("privileges", "an array of strings")
			}
			d.u.Privileges = privs
			return nil
		},
		clear: func(d *draft) { d.u.Privileges = []string{} },
		check: checkPrivileges,
		value: func(d *Document) any { return d.Privileges },
	},
	optionalText("group", AdminWritable, MaxGroupLen, func(u *User) **string { return &u.Group }, func(d *Document) any { return d.Group }),
	optionalText("deviceId", AdminWritable, MaxDeviceIDLen, func(u *User) **string { return &u.DeviceID }, func(d *Document) any { return d.DeviceID }),
	{
		Name: "adminDevices", Access: AdminWritable, Min: 0, Max: MaxAdminDevices,
		decode: func(d *draft, v any) error {
			n, ok := asInt(v)
			if !ok {
				return mustBe("adminDevices", "an integer")
			}
			d.u.AdminDevices = n
			return nil
		},
		clear: func(d *draft) { d.u.AdminDevices = 0 },
		check: func(u *User) error { return checkRange("adminDevices", int64(u.AdminDevices), MaxAdminDevices) },
		value: func(d *Document) any { return d.AdminDevices },
	},
	optionalTime("from", AdminWritable, func(u *User) **time.Time { return &u.From }, func(d *Document) any { return d.From },
		func(u *User) error {
			if u.From != nil && u.Expires != nil && u.From.After(*u.Expires) {
				return FieldErrorf(EInvalid, "from", "Field \"from\" must not be after \"expires\".")
			}
			return nil
		}),
	optionalTime("expires", AdminWritable, func(u *User) **time.Time { return &u.Expires }, func(d *Document) any { return d.Expires }, nil),
	{
		Name: "password", Access: SelfWritable, Nullable: true, WriteOnly: true, omit: omitKeeps,
		decode: func(d *draft, v any) error {
			s, ok := v.(string)
			if !ok {
				return mustBe("password", "a string")
			}
			d.password = &s
			return nil
		},
		clear: func(d *draft) {}, // null keeps the password
		value: func(*Document) any { return nil },
	},
	readOnly("creation", func(d *Document) any { return &d.Creation }, nil),
	readOnly("modification", func(d *Document) any { return &d.Modification }, nil),
	readOnly("lastLogin", func(d *Document) any { return d.LastLogin }, nil),
	{
		Name: "role", Access: AdminWritable, omit: omitKeeps,
		decode: func(d *draft, v any) error {
			s, ok := v.(string)
			if !ok || !Role(s).Valid() {
				return errBadRole("role")
			}
			d.u.Role = Role(s)
			return nil
		},
		clear: func(d *draft) {}, // null keeps the role
		check: func(u *User) error {
			if !u.Role.Valid() {
				return errBadRole("role")
			}
			return nil
		},
		value: func(d *Document) any { return d.Role },
	},
	{
		Name: "deletedAt", Access: AdminUndelete, Nullable: true, omit: omitKeeps,
		decode: func(d *draft, v any) error {
			t, err := asTime("deletedAt", v)
			if err != nil {
				return err
			}
			d.u.DeletedAt = &t
			return nil
		},
		clear: func(d *draft) { d.u.DeletedAt = nil },
		value: func(d *Document) any { return d.DeletedAt },
	},
	{
		Name: "dailyQuota", Access: AdminWritable, Nullable: true, Min: 0, Max: MaxDailyQuota,
		decode: func(d *draft, v any) error {
			n, ok := asInt(v)
			if !ok {
				return mustBe("dailyQuota", "an integer")
			}
			q := int64(n)
			d.u.DailyQuota = &q
			return nil
		},
		clear: func(d *draft) { d.u.DailyQuota = nil },
		check: func(u *User) error {
			if u.DailyQuota == nil {
				return nil
			}
			return checkRange("dailyQuota", *u.DailyQuota, MaxDailyQuota)
		},
		value: func(d *Document) any { return d.DailyQuota },
	},
	{
		Name: "scim", Access: AdminWritable, Nullable: true, object: true,
		decode: func(d *draft, v any) error {
			m, err := decodeSCIM(v)
			if err != nil {
				return err
			}
			d.u.SCIM = m
			return nil
		},
		clear: func(d *draft) { d.u.SCIM = nil },
		check: checkSCIM,
		value: func(d *Document) any { return d.SCIM },
	},
}

// fieldIndex finds a descriptor by name.
var fieldIndex = func() map[string]*Field {
	m := make(map[string]*Field, len(fields))
	for _, f := range fields {
		m[f.Name] = f
	}
	return m
}()

// fieldNamed returns the descriptor of the document field name, or nil.
func fieldNamed(name string) *Field { return fieldIndex[name] }

// FieldTable returns a copy of the field table, in the document's order
// (the table itself cannot be changed from outside the package).
func FieldTable() []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		out[i] = *f
	}
	return out
}

// Writable reports whether the field can be written through the API by
// anyone (the fields of a write body).
func (f *Field) Writable() bool { return f.Access != ReadOnly }

// Value is the field's value in the document d, as the API shows it: a
// *string (never nil for a required text, pointing into d), bool, int,
// Role, map[string]string, []string or *int64, and nil for a write-only
// field (the password).
func (f *Field) Value(d *Document) any { return f.value(d) }

// scalar reports whether the field's value is a JSON scalar (text, number,
// boolean, null): every field but the containers, which are the fields
// with an item limit (tags, privileges) and the object scim.
func (f *Field) scalar() bool { return f.MaxItems == 0 && !f.object }
