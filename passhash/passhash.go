// Package passhash reads and verifies password hashes made by other
// systems, so that users moved in keep their passwords until their first
// sign-in replaces the hash with the service's own (bcrypt).
//
// # Formats
//
// Parse reads, and Kind names:
//
//	bcrypt                 $2a$, $2b$, $2y$ (one algorithm; compared as $2a$)
//	argon2id, argon2i      PHC strings, $argon2id$v=19$m=…,t=…,p=…$SALT$HASH (standard base64, unpadded)
//	scrypt                 passlib's $scrypt$ln=…,r=…,p=…$SALT$HASH (standard base64, unpadded: passlib
//	                       writes scrypt with b64s_encode, not with the "ab64" of its PBKDF2 hashes)
//	pbkdf2-sha256,         passlib's $pbkdf2-sha256$ROUNDS$SALT$HASH, $pbkdf2-sha512$…, $pbkdf2$… (SHA-1),
//	pbkdf2-sha512,         salt and hash in passlib's "ab64": standard base64 with "." for "+", unpadded
//	pbkdf2-sha1
//	django-pbkdf2-sha256,  Django's pbkdf2_sha256$ITERATIONS$SALT$HASH and pbkdf2_sha1$…: the salt as
//	django-pbkdf2-sha1     text (its bytes are the salt), the hash in standard base64 with padding
//	md5-crypt              $1$SALT$HASH (Poul-Henning Kamp's)
//	sha256-crypt,          $5$[rounds=N$]SALT$HASH, $6$[rounds=N$]SALT$HASH (Ulrich Drepper's SHA-crypt)
//	sha512-crypt
//	traccar-pbkdf2-sha256  Traccar's PBKDF2WithHmacSHA256$ITERATIONS$HEXHASH, with its hex salt apart
//	traccar-pbkdf2-sha1    Traccar's legacy unprefixed 48 hex digits: PBKDF2-HMAC-SHA1, 1,000 iterations,
//	                       24 bytes, with its hex salt apart
//
// Traccar (org.traccar.helper.Hashing) keeps the salt in a column of its
// own and always writes 24-byte hashes and salts; the hash length here is
// the hex hash's length / 2, so longer PBKDF2WithHmacSHA256 keys verify
// as well. Encode writes Traccar's two forms with the salt inside, as
// $traccar-sha256$ITERATIONS$HEXSALT$HEXHASH and $traccar-sha1$HEXSALT$HEXHASH,
// so that one column holds every kind; ParseStored reads every form that
// Encode writes. Nothing is guessed: a hash that is not exactly one of
// these, or whose parameters are outside the caps (caps.go), is refused with a
// message that says why.
//
// # Libraries
//
// golang.org/x/crypto (bcrypt, argon2, scrypt) and the standard library
// (crypto/pbkdf2, crypto/md5, crypto/sha256, crypto/sha512). md5-crypt and
// SHA-crypt are written here (crypt.go) from Drepper's
// specification and PHK's original, and tested against the
// specification's published vectors and against hashes made by openssl,
// mkpasswd (libxcrypt) and passlib. The Go module that would have served,
// github.com/GehirnInc/crypt, fails to verify any SHA-crypt hash that has
// rounds= and a salt shorter than 16 characters (its issue #9, open since
// 2021, in its last release of 2023), which the specification's own
// vectors show. crypt(3) clamps rounds outside 1,000..999,999,999 and
// reads at most 16 characters of salt (8 for md5-crypt), so a string that
// no crypt(3) could have written (rounds below 1,000, a rounds number with
// a sign or a leading zero, a longer salt) is refused rather than stored
// to never match.
//
// The caps on every cost parameter are in caps.go.
package passhash

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Hash is a parsed password hash. The zero Hash verifies nothing.
type Hash struct {
	kind string
	// raw is the hash as given, for the formats stored as given.
	raw string
	// For the derived-key formats: the salt, the key (for the crypt(3)
	// family, the checksum as written), and parameters.
	salt, key    []byte
	rounds       int    // PBKDF2, Traccar, SHA-crypt
	memory, time uint32 // argon2 (and lanes)
	lanes        uint8
	logN, r, p   int // scrypt
}

// Kind names the format: bcrypt, argon2id, argon2i, scrypt, pbkdf2-sha256,
// pbkdf2-sha512, pbkdf2-sha1, django-pbkdf2-sha256, django-pbkdf2-sha1, md5-crypt, sha256-crypt, sha512-crypt,
// traccar-pbkdf2-sha256 or traccar-pbkdf2-sha1.
func (h Hash) Kind() string { return h.kind }

// IsBcrypt reports whether s is a bcrypt hash by its prefix ($2a$, $2b$
// or $2y$).
func IsBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("passwordHash: "+format, args...)
}

func saltErrorf(format string, args ...any) error {
	return fmt.Errorf("passwordSalt: "+format, args...)
}

// Parse checks an imported hash and returns it parsed. salt is Traccar's
// separate hex salt (its users' salt column); it must be empty for every
// other format. Parse also reads every form that Encode writes.
func Parse(hash, salt string) (Hash, error) {
	if len(hash) > MaxHashLen {
		return Hash{}, errorf("longer than %d characters", MaxHashLen)
	}
	traccar := strings.HasPrefix(hash, "PBKDF2WithHmacSHA256$") || hash != "" && isHex(hash)
	if salt != "" && !traccar {
		return Hash{}, saltErrorf("only Traccar's hashes (PBKDF2WithHmacSHA256$… or the legacy 48 hex digits) take a separate salt")
	}
	if !traccar {
		return ParseStored(hash)
	}
	if isHex(hash) && len(hash) != 2*traccarLegacyKeyLen {
		if salt == "" {
			return Hash{}, errorf("unknown format: %d hex digits (Traccar's legacy hash is %d, with its salt in passwordSalt)", len(hash), 2*traccarLegacyKeyLen)
		}
		return Hash{}, errorf("a legacy Traccar hash is %d hex digits (%d bytes), not %d", 2*traccarLegacyKeyLen, traccarLegacyKeyLen, len(hash))
	}
	if salt == "" {
		return Hash{}, saltErrorf("Traccar's hashes need their hex salt (the salt column of Traccar's users)")
	}
	return withinWork(parseTraccar(hash, salt))
}

// ParseStored reads a hash as Encode wrote it: every format that Parse
// reads without a salt, and Traccar's with their salt inside
// ($traccar-sha256$ITERATIONS$HEXSALT$HEXHASH, $traccar-sha1$HEXSALT$HEXHASH).
func ParseStored(s string) (Hash, error) { return withinWork(parseStored(s)) }

func parseStored(s string) (Hash, error) {
	switch {
	case s == "":
		return Hash{}, errorf("empty")
	case len(s) > MaxHashLen:
		return Hash{}, errorf("longer than %d characters", MaxHashLen)
	case IsBcrypt(s):
		return parseBcrypt(s)
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2(s, "argon2id")
	case strings.HasPrefix(s, "$argon2i$"):
		return parseArgon2(s, "argon2i")
	case strings.HasPrefix(s, "$scrypt$"):
		return parseScrypt(s)
	case strings.HasPrefix(s, "$pbkdf2-sha256$"):
		return parsePBKDF2(s, "pbkdf2-sha256")
	case strings.HasPrefix(s, "$pbkdf2-sha512$"):
		return parsePBKDF2(s, "pbkdf2-sha512")
	case strings.HasPrefix(s, "$pbkdf2$"):
		return parsePBKDF2(s, "pbkdf2-sha1")
	case strings.HasPrefix(s, "pbkdf2_sha256$"):
		return parseDjango(s, "django-pbkdf2-sha256")
	case strings.HasPrefix(s, "pbkdf2_sha1$"):
		return parseDjango(s, "django-pbkdf2-sha1")
	case strings.HasPrefix(s, "$1$"):
		return parseCrypt(s, "md5-crypt")
	case strings.HasPrefix(s, "$5$"):
		return parseCrypt(s, "sha256-crypt")
	case strings.HasPrefix(s, "$6$"):
		return parseCrypt(s, "sha512-crypt")
	case strings.HasPrefix(s, "$traccar-sha256$"):
		parts := strings.Split(s, "$")
		if len(parts) != 5 || parts[3] == "" {
			return Hash{}, errorf("malformed $traccar-sha256$ hash (want $traccar-sha256$ITERATIONS$HEXSALT$HEXHASH)")
		}
		return parseTraccar("PBKDF2WithHmacSHA256$"+parts[2]+"$"+parts[4], parts[3])
	case strings.HasPrefix(s, "$traccar-sha1$"):
		parts := strings.Split(s, "$")
		if len(parts) != 4 || parts[2] == "" || !isHex(parts[3]) || len(parts[3]) != 2*traccarLegacyKeyLen {
			return Hash{}, errorf("malformed $traccar-sha1$ hash (want $traccar-sha1$HEXSALT$ and %d hex digits)", 2*traccarLegacyKeyLen)
		}
		return parseTraccar(parts[3], parts[2])
	case strings.HasPrefix(s, "PBKDF2WithHmacSHA256$") || isHex(s):
		return Parse(s, "") // Traccar's forms as Traccar keeps them: refused without their salt
	}
	return Hash{}, errorf("unknown format %q", formatName(s))
}

// formatName is what an unknown hash is called in its error: up to its
// second "$" for a $…$ form, else its first 12 bytes.
func formatName(s string) string {
	if s[0] == '$' {
		if i := strings.IndexByte(s[1:], '$'); i >= 0 && i < 16 {
			return s[:i+2]
		}
	}
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// Encode returns the form to store, which ParseStored reads back: the hash
// as given for every format but Traccar's, which carry their salt inside.
func (h Hash) Encode() string {
	switch h.kind {
	case "traccar-pbkdf2-sha256":
		return fmt.Sprintf("$traccar-sha256$%d$%x$%x", h.rounds, h.salt, h.key)
	case "traccar-pbkdf2-sha1":
		return fmt.Sprintf("$traccar-sha1$%x$%x", h.salt, h.key)
	}
	return h.raw
}

// Verify reports whether password is the one hashed. The derived key (for
// bcrypt, the whole recomputed string; for the crypt(3) family, the
// checksum) is compared in constant time.
func (h Hash) Verify(password string) bool {
	switch h.kind {
	case "bcrypt":
		return bcrypt.CompareHashAndPassword([]byte("$2a$"+h.raw[4:]), []byte(password)) == nil
	case "argon2id":
		return equal(argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.lanes, uint32(len(h.key))), h.key)
	case "argon2i":
		return equal(argon2.Key([]byte(password), h.salt, h.time, h.memory, h.lanes, uint32(len(h.key))), h.key)
	case "scrypt":
		k, err := scrypt.Key([]byte(password), h.salt, 1<<h.logN, h.r, h.p, len(h.key))
		return err == nil && equal(k, h.key)
	case "pbkdf2-sha1", "traccar-pbkdf2-sha1", "django-pbkdf2-sha1":
		return h.pbkdf2(sha1.New, password)
	case "pbkdf2-sha256", "traccar-pbkdf2-sha256", "django-pbkdf2-sha256":
		return h.pbkdf2(sha256.New, password)
	case "pbkdf2-sha512":
		return h.pbkdf2(sha512.New, password)
	case "md5-crypt", "sha256-crypt", "sha512-crypt":
		return len(password) <= MaxCryptPasswordLen && equal([]byte(h.cryptChecksum([]byte(password))), h.key)
	}
	return false
}

func (h Hash) pbkdf2(fn func() hash.Hash, password string) bool {
	k, err := pbkdf2.Key(fn, password, h.salt, h.rounds, len(h.key))
	return err == nil && equal(k, h.key)
}

func equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func parseBcrypt(s string) (Hash, error) {
	// $2a$CC$ then 22 characters of salt and 31 of hash.
	if len(s) < 7 || s[6] != '$' || !inAlphabet(s[4:6], "0123456789") {
		return Hash{}, errorf("malformed bcrypt hash (want $2a$, two digits of cost, $ and 53 characters)")
	}
	if cost := int(s[4]-'0')*10 + int(s[5]-'0'); cost < MinBcryptCost || cost > MaxBcryptCost {
		return Hash{}, errorf("bcrypt cost %d is outside %d..%d", cost, MinBcryptCost, MaxBcryptCost)
	}
	if len(s) != 60 || !inAlphabet(s[7:], bcryptAlphabet) {
		return Hash{}, errorf("malformed bcrypt hash (want 53 characters after the cost, not %d)", len(s)-7)
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return Hash{}, errorf("malformed bcrypt hash: %v", err)
	}
	return Hash{kind: "bcrypt", raw: s}, nil
}
