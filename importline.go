package usersvc

import (
	"errors"
	"strings"
	"time"
	"unicode"

	"usersvc/jsonpatch"
)

// What an import line may hold (docs/import.md, "The line format"): at
// most MaxImportLine bytes, the document POST /api/users takes, decoded by
// the strict reader REST bodies use and checked as a create body is, plus
// the import-only fields. Reading lines is package moving's.

// MaxImportLine is the longest line an import reads; a longer one fails
// alone.
const MaxImportLine = 1 << 20

// importOnly are the fields a line may have besides the document's: the
// id to keep, a hash instead of a password, and the server-kept times.
var importOnly = []string{"id", "passwordHash", "passwordSalt", "creation", "modification", "lastLogin", "deletedAt"}

// ImportUser is one import line, read and checked (ParseImportLine), for
// ImportUsers. Only ParseImportLine makes one, so every user ImportUsers
// saves was decided as a create body is (decideCreate) and its hash
// checked against passhash's formats and caps.
type ImportUser struct {
	n int64
	// u is the user the line describes, as created; its password, if the
	// line gave one in clear, is password (hashed when written).
	u        *User
	password *string
	idGiven  bool
	// doc is the line's document (without the import-only fields), decoded
	// again over the stored user in upsert mode.
	doc map[string]any
}

// NewImportFailure is line n's failure for err: its field, code and
// English message.
func NewImportFailure(n int64, err error) ImportFailure {
	var e *Error
	field := ""
	if errors.As(err, &e) {
		field = e.Field
	}
	return ImportFailure{Line: n, Field: field, Code: ErrorCode(err), Message: ErrorMessage(err, "en")}
}

// ParseImportLine reads and checks line number n as CreateUser checks its
// body, plus the import-only fields. Its error is the line's failure
// (NewImportFailure).
func (s *Service) ParseImportLine(line []byte, n int64) (*ImportUser, error) {
	// The reader REST bodies go through (rest.readJSON): a duplicated key,
	// invalid UTF-8 or a lone surrogate escape is refused, never repaired.
	v, err := jsonpatch.Parse(line)
	if err != nil {
		return nil, JSONError(err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, Errorf(EInvalid, "The user must be a JSON object.")
	}
	extra := map[string]any{}
	for _, k := range importOnly {
		if val, ok := doc[k]; ok {
			extra[k] = val
			delete(doc, k)
		}
	}
	now := s.now()
	l := &ImportUser{n: n, doc: doc}
	id := NewUserID()
	if v, ok := extra["id"]; ok && v != nil {
		sid, ok := v.(string)
		if !ok || !importableID(sid) {
			return nil, FieldErrorf(EInvalid, "id", "An id is 1 to 64 bytes of printable text without spaces, /, ?, # or %s, and not countries, timeZones, import or export.", "%")
		}
		id, l.idGiven = sid, true
	}
	u, password, err := decideCreate(doc, id, now) // as CreateUser decides its body
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name     string
		dst      **time.Time
		required bool
	}{{"creation", nil, true}, {"modification", nil, true}, {"lastLogin", &u.LastLogin, false}, {"deletedAt", &u.DeletedAt, false}} {
		val, ok := extra[f.name]
		if !ok || val == nil && !f.required {
			continue
		}
		t, err := asTime(f.name, val)
		if err != nil {
			return nil, err
		}
		switch f.name {
		case "creation":
			u.Creation = t
		case "modification":
			u.Modification = t
		default:
			*f.dst = &t
		}
	}
	hash, _ := extra["passwordHash"].(string)
	salt, _ := extra["passwordSalt"].(string)
	switch {
	case extra["passwordHash"] != nil && hash == "":
		return nil, FieldErrorf(EInvalid, "passwordHash", "Field %q must be a non-empty string.", "passwordHash")
	case extra["passwordSalt"] != nil && (salt == "" || hash == ""):
		return nil, FieldErrorf(EInvalid, "passwordSalt", "Field %q must be a non-empty string, with passwordHash.", "passwordSalt")
	case hash != "" && password != nil:
		return nil, FieldErrorf(EInvalid, "passwordHash", "Give password or passwordHash, not both.")
	case hash != "":
		h, err := parseImportedHash(hash, salt)
		if err != nil {
			// passhash names the field in its text; the failure names it
			// apart (the command prints "line N: field: message").
			field, msg, ok := strings.Cut(err.Error(), ": ")
			if !ok || field != "passwordHash" && field != "passwordSalt" {
				field, msg = "passwordHash", err.Error()
			}
			return nil, FieldErrorf(EInvalid, field, "%s", msg)
		}
		u.PasswordHash, u.PasswordSource = h, ImportedHashDigest(h)
	}
	l.u, l.password = u, password
	return l, nil
}

// reservedIDs are words the REST routes use in a user id's place.
var reservedIDs = map[string]bool{"countries": true, "timeZones": true, "import": true, "export": true}

// importableID reports whether an imported id can name a user in a URL
// path and on every database: 1 to 64 bytes of printable UTF-8, no space,
// and none of / ? # % (which a client would have to escape in a path).
func importableID(id string) bool {
	if !possibleID(id) || strings.ContainsAny(id, "/?#%") || reservedIDs[id] {
		return false
	}
	for _, r := range id {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
