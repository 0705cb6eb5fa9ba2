package usersvc

import (
	"crypto/sha256"
	"encoding/hex"

	"usersvc/passhash"
)

// Imported password hashes (docs/import.md, "Password hashes" and "When a
// re-import replaces a password"): which hashes a line may hold (the
// formats and caps of package passhash), what a user keeps of one, and
// which hash wins when a file is imported again.

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
