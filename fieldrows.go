package usersvc

import (
	"strings"
	"time"
)

// The row makers of the field table (fields.go): one per kind of field,
// and the answers the rows give.

func readOnly(name string, value func(d *Document) any, decode func(d *draft, v any) error) *Field {
	if decode == nil {
		decode = func(*draft, any) error { return nil } // ignored
	}
	return &Field{Name: name, Access: ReadOnly, Nullable: name == "lastLogin", decode: decode, value: value,
		clear: func(*draft) {}}
}

func requiredText(name string, max int, ptr func(u *User) *string, value func(d *Document) any, extra func(u *User) error) *Field {
	return &Field{
		Name: name, Access: SelfWritable, MaxLength: max, omit: omitRequired,
		decode: func(d *draft, v any) error {
			s, ok := v.(string)
			if !ok {
				return mustBe(name, "a string")
			}
			*ptr(d.u) = nfc(s)
			return nil
		},
		check: func(u *User) error {
			s := *ptr(u)
			if strings.TrimSpace(s) == "" {
				return FieldErrorf(EInvalid, name, "Field %q must not be empty.", name)
			}
			if err := checkText(name, s, max); err != nil {
				return err
			}
			if err := checkVisible(name, s); err != nil {
				return err
			}
			if extra != nil {
				return extra(u)
			}
			return nil
		},
		value: value,
	}
}

// emailMayBeEmpty lets the email row take "" from a user who signs in
// with a userName (an identity provider need not give an address); the
// body must still name it, and any other value is checked as before.
func emailMayBeEmpty(f *Field) *Field {
	check := f.check
	f.check = func(u *User) error {
		if u.Email == "" && u.UserName != nil {
			return nil
		}
		return check(u)
	}
	return f
}

func optionalText(name string, access Access, max int, ptr func(u *User) **string, value func(d *Document) any) *Field {
	return &Field{
		Name: name, Access: access, Nullable: true, MaxLength: max,
		decode: func(d *draft, v any) error {
			s, ok := v.(string)
			if !ok {
				return mustBe(name, "a string")
			}
			*ptr(d.u) = &s
			return nil
		},
		clear: func(d *draft) { *ptr(d.u) = nil },
		check: func(u *User) error {
			if s := *ptr(u); s != nil {
				return checkText(name, *s, max)
			}
			return nil
		},
		value: value,
	}
}

func optionalTime(name string, access Access, ptr func(u *User) **time.Time, value func(d *Document) any, check func(u *User) error) *Field {
	return &Field{
		Name: name, Access: access, Nullable: true,
		decode: func(d *draft, v any) error {
			t, err := asTime(name, v)
			if err != nil {
				return err
			}
			*ptr(d.u) = &t
			return nil
		},
		clear: func(d *draft) { *ptr(d.u) = nil },
		check: check,
		value: value,
	}
}

// mustBe is the answer to a value of the wrong type. The messages are
// whole literals so that the message catalog (messages.go) can hold them.
func mustBe(field, what string) error {
	format := map[string]string{
		"a string":              "Field %q must be a string.",
		"a boolean":             "Field %q must be a boolean.",
		"an integer":            "Field %q must be an integer.",
		"an object of strings":  "Field %q must be an object of strings.",
		"an array of strings":   "Field %q must be an array of strings.",
		"an RFC 3339 timestamp": "Field %q must be an RFC 3339 timestamp.",
		"an object":             "Field %q must be an object.",
	}[what]
	return FieldErrorf(EInvalid, field, format, field)
}

// checkRange checks an integer field's range, from 0 to max.
func checkRange(field string, n, max int64) error {
	if n < 0 || n > max {
		return FieldErrorf(EInvalid, field, "Field %q must be between 0 and %d.", field, max)
	}
	return nil
}
