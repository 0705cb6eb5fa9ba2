package usersvc

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode"

	"usersvc/jsonpatch"
	"usersvc/passhash"
)

// One import line: read (at most MaxImportLine bytes), decoded by the
// strict reader REST bodies use, and checked as a create body is, plus
// the import-only fields; and the rule that says when a re-import's hash
// replaces a stored password.

// readLine reads one line (without its newline) of at most MaxImportLine
// bytes; of a longer one it reads and drops the rest. size is the bytes
// consumed.
func readLine(br *bufio.Reader) (line []byte, size int64, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		if !tooLong {
			if len(line)+len(chunk) > MaxImportLine+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), size, tooLong, err
	}
}

func importFailure(n int64, err error) ImportFailure {
	var e *Error
	field := ""
	if errors.As(err, &e) {
		field = e.Field
	}
	return ImportFailure{Line: n, Field: field, Code: ErrorCode(err), Message: ErrorMessage(err, "en")}
}

// parseImportLine reads and checks a line as CreateUser checks its body,
// plus the import-only fields.
func (s *Service) parseImportLine(line []byte, n int64) (*importLine, error) {
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
	l := &importLine{n: n, doc: doc}
	u := &User{ID: NewUserID(), Role: RoleUser, Tags: map[string]string{}, Privileges: []string{}, Creation: now, Modification: now, Version: 1}
	if id, ok := extra["id"]; ok && id != nil {
		sid, ok := id.(string)
		if !ok || !importableID(sid) {
			return nil, FieldErrorf(EInvalid, "id", "An id is 1 to 64 bytes of printable text without spaces, /, ?, # or %s, and not countries, timeZones, import or export.", "%")
		}
		u.ID, l.idGiven = sid, true
	}
	d, err := decodeBody(doc, u, true)
	if err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := validateUser(d); err != nil {
		return nil, err
	}
	u = d.u
	u.DeletedAt = nil
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
	case hash != "" && d.password != nil:
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
	l.u, l.password = u, d.password
	return l, nil
}

// parseImportedHash checks an imported hash and returns its stored form.
// A hash this service exported (Traccar's with the salt inside) reads back
// without a salt.
func parseImportedHash(hash, salt string) (string, error) {
	h, err := passhash.Parse(hash, salt)
	if err != nil && salt == "" {
		if back, err2 := passhash.ParseStored(hash); err2 == nil {
			return back.Encode(), nil
		}
	}
	if err != nil {
		return "", err
	}
	return h.Encode(), nil
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

// ImportedHashDigest is what a user keeps of the hash an import gave it
// (User.PasswordSource): the SHA-256 of its stored form, in hex. It tells
// a re-import whether a line's hash is new in the source without keeping
// the legacy hash itself after a sign-in upgraded it.
func ImportedHashDigest(stored string) string {
	sum := sha256.Sum256([]byte(stored))
	return hex.EncodeToString(sum[:])
}

// takesImportedHash reports whether an upsert line whose hash has digest
// source replaces before's password (docs/import.md, "When a re-import
// replaces a password"): only when the last import gave before another
// hash (the source changed it since), or when before has no password at
// all. So running a file again never undoes a sign-in's upgrade nor a
// password changed here, and a password no import gave is kept.
func takesImportedHash(before *User, source string) bool {
	if before.PasswordSource != "" {
		return before.PasswordSource != source
	}
	return before.PasswordHash == ""
}
