package usersvc

import (
	"net/mail"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones work on machines without system tzdata
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Length limits, in characters (runes) unless said otherwise.
const (
	MaxNameLen            = 200
	MaxEmailLen           = 254
	MaxCountryLen         = 100
	MaxTimeZoneLen        = 64
	MaxDescriptionLen     = 2000
	MaxMessageLen         = 2000
	MaxDisabledMessageLen = 500
	MaxGroupLen           = 200
	MaxDeviceIDLen        = 200
	MaxTags               = 100
	MaxTagKeyLen          = 100
	MaxTagValueLen        = 1000
	MaxPrivileges         = 100
	MaxPrivilegeLen       = 100
	MinPasswordLen        = 8
	MaxPasswordBytes      = 72 // bcrypt's limit
	MaxAdminDevices       = 1_000_000
	MaxDailyQuota         = 1_000_000_000
	MaxAPIKeyLabelLen     = 100
)

// LoadLocation resolves an IANA time zone name. The zone database is embedded
// (time/tzdata), so this works without system tzdata. Names such as "Local"
// are refused: they mean different things on different machines.
//
// Loaded zones are cached: time.LoadLocation reads the zone database each
// time, which dominated the cost of validating a user. Only valid names
// are cached, so the cache holds at most the few hundred real zones.
func LoadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "" || name == "Local" || len(name) > MaxTimeZoneLen {
		return nil, FieldErrorf(EInvalid, "timeZone", "Invalid time zone.")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, FieldErrorf(EInvalid, "timeZone", "Invalid time zone.")
	}
	locations.Store(name, loc)
	return loc, nil
}

var locations sync.Map // zone name -> *time.Location

// ValidateEmail checks that s is one bare address, no display name.
func ValidateEmail(s string) error {
	if s == "" || len(s) > MaxEmailLen || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return FieldErrorf(EInvalid, "email", "Invalid email.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return FieldErrorf(EInvalid, "email", "Invalid email.")
	}
	return nil
}

// EmailKey is the form emails are compared in: unique case-insensitively,
// after Unicode normalization (NFC), so the composed and decomposed
// spellings of "é" are one address. Characters that merely look alike
// (Latin "a" and Cyrillic "а") are different characters and so different
// addresses; invisible and bidirectional control characters are refused
// in emails (checkVisible), so two addresses cannot differ by one.
func EmailKey(email string) string { return strings.ToLower(nfc(email)) }

// nfc is s in Unicode normalization form C; text that is not UTF-8 is
// left as it is (checkText refuses it).
func nfc(s string) string {
	if !utf8.ValidString(s) || norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// checkVisible refuses, in the required text fields (name, email, country,
// time zone), control characters and invisible format characters
// (Unicode Cf: zero-width spaces, bidirectional overrides and isolates,
// the byte-order mark): text that shows the same but compares different,
// or shows in another order than it is stored (U+202E). Zero-width
// joiner and non-joiner stay allowed outside emails: names in Persian,
// Indic scripts and emoji sequences need them.
func checkVisible(field, s string) error {
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) && (field == "email" || r != '\u200c' && r != '\u200d') {
			return FieldErrorf(EInvalid, field, "Field %q must not contain control or invisible characters (U+%04X).", field, r)
		}
	}
	return nil
}

// Validate checks every rule a stored user must satisfy: each field's own
// rules (the field table's checks), in document order.
func Validate(u *User) error {
	for _, f := range fields {
		if f.check != nil {
			if err := f.check(u); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkTags(u *User) error {
	if len(u.Tags) > MaxTags {
		return FieldErrorf(EInvalid, "tags", "Field %q has too many entries (at most %d).", "tags", MaxTags)
	}
	for k, v := range u.Tags {
		if k == "" {
			return FieldErrorf(EInvalid, "tags", "Tag names must not be empty.")
		}
		if err := checkText("tags", k, MaxTagKeyLen); err != nil {
			return err
		}
		if err := checkText("tags", v, MaxTagValueLen); err != nil {
			return err
		}
	}
	return nil
}

func checkPrivileges(u *User) error {
	if len(u.Privileges) > MaxPrivileges {
		return FieldErrorf(EInvalid, "privileges", "Field %q has too many entries (at most %d).", "privileges", MaxPrivileges)
	}
	seen := make(map[string]bool, len(u.Privileges))
	for _, p := range u.Privileges {
		if strings.TrimSpace(p) == "" {
			return FieldErrorf(EInvalid, "privileges", "Privileges must be non-empty strings.")
		}
		if err := checkText("privileges", p, MaxPrivilegeLen); err != nil {
			return err
		}
		if seen[p] {
			return FieldErrorf(EInvalid, "privileges", "Privilege %q is listed twice.", p)
		}
		seen[p] = true
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(p string) error {
	if utf8.RuneCountInString(p) < MinPasswordLen || len(p) > MaxPasswordBytes {
		return FieldErrorf(EInvalid, "password", "Password must be at least %d characters and at most %d bytes long.", MinPasswordLen, MaxPasswordBytes)
	}
	return nil
}

// validText is text every database stores and compares: valid UTF-8
// without NUL.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func checkText(field, s string, max int) error {
	if !validText(s) {
		return FieldErrorf(EInvalid, field, "Field %q must be valid text.", field)
	}
	if utf8.RuneCountInString(s) > max {
		return FieldErrorf(EInvalid, field, "Field %q is too long (at most %d characters).", field, max)
	}
	return nil
}
