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
// these, or whose parameters are outside the caps below, is refused with a
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
// # Caps
//
// A sign-in must not be made to burn a core or a gigabyte by an imported
// line, so every cost parameter is checked before anything is stored:
//
//	bcrypt cost        4..31 (bcrypt.MinCost..bcrypt.MaxCost; each step doubles the time, and cost 16
//	                   already takes seconds)
//	argon2             memory ≤ 1,048,576 KiB (1 GiB); time 1..100; lanes 1..255 and memory ≥ 8 KiB a
//	                   lane (the reference's minimum); memory × time ≤ 4,194,304 KiB (libsodium's
//	                   costliest preset, 1 GiB × 4 passes); salt ≥ 8 bytes (the reference's minimum)
//	scrypt             ln 1..23 (N = 2^ln); r ≥ 1; p 1..16; memory 128·N·r ≤ 1 GiB; 128·N·r·p ≤ 4 GiB
//	PBKDF2             1..10,000,000 rounds (passlib's and Traccar's alike)
//	SHA-crypt          rounds 1,000..10,000,000 (the specification allows 999,999,999)
//	crypt(3) family    Verify considers passwords of at most 511 bytes (libxcrypt's limit, which
//	                   Debian's and Fedora's crypt(3) enforce): SHA-crypt's work grows with the
//	                   square of the password's length (md5-crypt's with its length)
//	derived keys       4..1,024 bytes; salts at most 1,024 bytes; a hash at most 4,096 characters
//
// The costliest hash these caps admit takes about ten seconds to verify
// on this project's machines (argon2 at 1 GiB × 4 passes, scrypt at 4 GiB
// of work; SHA-crypt at ten million rounds and PBKDF2 at ten million
// take a few); the usual parameters take milliseconds. bcrypt is the
// exception: its range is the library's, and cost 31 would take days.
package passhash

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// The caps (see the package comment).
const (
	MinBcryptCost = bcrypt.MinCost // 4
	MaxBcryptCost = bcrypt.MaxCost // 31

	MaxArgon2MemoryKiB = 1 << 20 // 1 GiB
	MaxArgon2Time      = 100
	MaxArgon2Lanes     = 255
	MaxArgon2Work      = 4 << 20 // memory (KiB) × time
	MinArgon2SaltLen   = 8

	MaxScryptLogN   = 23 // 128·2^23 bytes is 1 GiB at r = 1
	MaxScryptP      = 16
	MaxScryptMemory = 1 << 30 // bytes: 128·N·r
	MaxScryptWork   = 4 << 30 // bytes: 128·N·r·p

	MaxPBKDF2Rounds = 10_000_000

	MinCryptRounds      = 1_000
	MaxCryptRounds      = 10_000_000
	MaxCryptPasswordLen = 511

	MinKeyLen  = 4
	MaxKeyLen  = 1024
	MaxSaltLen = 1024
	MaxHashLen = 4096
)

// Traccar's legacy form: PBKDF2-HMAC-SHA1 at 1,000 iterations, 24 bytes.
const (
	traccarLegacyRounds = 1000
	traccarLegacyKeyLen = 24
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
// pbkdf2-sha512, pbkdf2-sha1, md5-crypt, sha256-crypt, sha512-crypt,
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
	return parseTraccar(hash, salt)
}

// ParseStored reads a hash as Encode wrote it: every format that Parse
// reads without a salt, and Traccar's with their salt inside
// ($traccar-sha256$ITERATIONS$HEXSALT$HEXHASH, $traccar-sha1$HEXSALT$HEXHASH).
func ParseStored(s string) (Hash, error) {
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
	case "pbkdf2-sha1", "traccar-pbkdf2-sha1":
		return h.pbkdf2(sha1.New, password)
	case "pbkdf2-sha256", "traccar-pbkdf2-sha256":
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

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number reads a decimal number as the tools write it: digits only, no
// sign, no leading zero, at most 18 digits.
func number(s string) (int, bool) {
	if s == "" || len(s) > 18 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

const (
	b64Alphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	cryptAlphabet  = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func inAlphabet(s, alphabet string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// unb64 decodes unpadded standard base64, refusing any byte outside the
// alphabet (Go's decoder would skip line breaks).
func unb64(s string) ([]byte, bool) {
	if !inAlphabet(s, b64Alphabet) {
		return nil, false
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}

// unab64 decodes passlib's "ab64" (standard base64 with "." for "+",
// unpadded). Like passlib's ab64_decode it takes "+" as well.
func unab64(s string) ([]byte, bool) {
	return unb64(strings.ReplaceAll(s, ".", "+"))
}

func checkKey(kind string, key, salt []byte, minSalt int) error {
	if len(key) < MinKeyLen || len(key) > MaxKeyLen {
		return errorf("%s hash of %d bytes is outside %d..%d", kind, len(key), MinKeyLen, MaxKeyLen)
	}
	if len(salt) < minSalt || len(salt) > MaxSaltLen {
		return errorf("%s salt of %d bytes is outside %d..%d", kind, len(salt), minSalt, MaxSaltLen)
	}
	return nil
}

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

// params reads "k=v,k=v" with exactly the names given, each once.
func params(s string, names ...string) (map[string]int, bool) {
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, isNum := number(v)
		if _, dup := out[k]; !ok || !isNum || dup {
			return nil, false
		}
		out[k] = n
	}
	if len(out) != len(names) {
		return nil, false
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, false
		}
	}
	return out, true
}

func parseArgon2(s, kind string) (Hash, error) {
	// $argon2id$v=19$m=65536,t=3,p=4$SALT$HASH
	parts := strings.Split(s, "$")
	switch {
	case len(parts) == 5 && strings.HasPrefix(parts[2], "m="):
		return Hash{}, errorf("%s hash without v= is Argon2 version 1.0 (v=16); only v=19 is supported", kind)
	case len(parts) != 6:
		return Hash{}, errorf("malformed %s hash (want $%s$v=19$m=…,t=…,p=…$SALT$HASH)", kind, kind)
	case parts[2] != "v=19":
		return Hash{}, errorf("%s version %q is not supported (v=19 only)", kind, parts[2])
	}
	p, ok := params(parts[3], "m", "t", "p")
	if !ok {
		return Hash{}, errorf("malformed %s parameters %q (want m=…,t=…,p=…)", kind, parts[3])
	}
	m, t, lanes := p["m"], p["t"], p["p"]
	switch {
	case m > MaxArgon2MemoryKiB:
		return Hash{}, errorf("argon2 memory %d KiB is above the %d KiB cap", m, MaxArgon2MemoryKiB)
	case t < 1 || t > MaxArgon2Time:
		return Hash{}, errorf("argon2 time %d is outside 1..%d", t, MaxArgon2Time)
	case lanes < 1 || lanes > MaxArgon2Lanes:
		return Hash{}, errorf("argon2 parallelism %d is outside 1..%d", lanes, MaxArgon2Lanes)
	case m < 8*lanes:
		return Hash{}, errorf("argon2 memory %d KiB is below 8 KiB for each of %d lanes", m, lanes)
	case m*t > MaxArgon2Work:
		return Hash{}, errorf("argon2 work %d KiB × %d passes is above the %d KiB·passes cap (1 GiB × 4)", m, t, MaxArgon2Work)
	}
	salt, ok1 := unb64(parts[4])
	key, ok2 := unb64(parts[5])
	if !ok1 || !ok2 {
		return Hash{}, errorf("malformed %s base64 (want standard base64 without padding)", kind)
	}
	if err := checkKey(kind, key, salt, MinArgon2SaltLen); err != nil {
		return Hash{}, err
	}
	return Hash{kind: kind, raw: s, salt: salt, key: key, memory: uint32(m), time: uint32(t), lanes: uint8(lanes)}, nil
}

func parseScrypt(s string) (Hash, error) {
	// $scrypt$ln=16,r=8,p=1$SALT$HASH (passlib)
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return Hash{}, errorf("malformed scrypt hash (want $scrypt$ln=…,r=…,p=…$SALT$HASH)")
	}
	p, ok := params(parts[2], "ln", "r", "p")
	if !ok {
		return Hash{}, errorf("malformed scrypt parameters %q (want ln=…,r=…,p=…)", parts[2])
	}
	ln, r, par := p["ln"], p["r"], p["p"]
	switch {
	case ln < 1 || ln > MaxScryptLogN:
		return Hash{}, errorf("scrypt ln %d is outside 1..%d", ln, MaxScryptLogN)
	case r < 1:
		return Hash{}, errorf("scrypt r %d is below 1", r)
	case par < 1 || par > MaxScryptP:
		return Hash{}, errorf("scrypt p %d is outside 1..%d", par, MaxScryptP)
	case r > MaxScryptMemory>>(7+ln):
		return Hash{}, errorf("scrypt memory 128·N·r with ln=%d, r=%d is above the %d MiB cap", ln, r, MaxScryptMemory>>20)
	case 128<<ln*r*par > MaxScryptWork:
		return Hash{}, errorf("scrypt work 128·N·r·p = %d MiB is above the %d MiB cap", 128<<ln*r*par>>20, MaxScryptWork>>20)
	}
	salt, ok1 := unb64(parts[3])
	key, ok2 := unb64(parts[4])
	if !ok1 || !ok2 {
		return Hash{}, errorf("malformed scrypt base64 (want standard base64 without padding)")
	}
	if err := checkKey("scrypt", key, salt, 0); err != nil {
		return Hash{}, err
	}
	return Hash{kind: "scrypt", raw: s, salt: salt, key: key, logN: ln, r: r, p: par}, nil
}

func parsePBKDF2(s, kind string) (Hash, error) {
	// $pbkdf2-sha256$ROUNDS$SALT$HASH (passlib)
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return Hash{}, errorf("malformed %s hash (want $%s$ROUNDS$SALT$HASH)", kind, parts[1])
	}
	rounds, ok := number(parts[2])
	if !ok {
		return Hash{}, errorf("malformed %s rounds %q", kind, parts[2])
	}
	if rounds < 1 || rounds > MaxPBKDF2Rounds {
		return Hash{}, errorf("%s rounds %d are outside 1..%d", kind, rounds, MaxPBKDF2Rounds)
	}
	salt, ok1 := unab64(parts[3])
	key, ok2 := unab64(parts[4])
	if !ok1 || !ok2 {
		return Hash{}, errorf("malformed %s base64 (want passlib's ab64: standard base64 with . for +, unpadded)", kind)
	}
	if err := checkKey(kind, key, salt, 0); err != nil {
		return Hash{}, err
	}
	return Hash{kind: kind, raw: s, salt: salt, key: key, rounds: rounds}, nil
}

func parseCrypt(s, kind string) (Hash, error) {
	// $1$SALT$HASH, $5$[rounds=N$]SALT$HASH, $6$[rounds=N$]SALT$HASH
	parts := strings.Split(s, "$")
	hashLen, saltLen, rounds := 22, 8, 5000 // SHA-crypt's default rounds
	switch kind {
	case "sha256-crypt":
		hashLen, saltLen = 43, 16
	case "sha512-crypt":
		hashLen, saltLen = 86, 16
	}
	if len(parts) == 5 && kind != "md5-crypt" && strings.HasPrefix(parts[2], "rounds=") {
		n, ok := number(strings.TrimPrefix(parts[2], "rounds="))
		if !ok {
			return Hash{}, errorf("malformed %s rounds %q", kind, parts[2])
		}
		if n < MinCryptRounds || n > MaxCryptRounds {
			return Hash{}, errorf("%s rounds %d are outside %d..%d", kind, n, MinCryptRounds, MaxCryptRounds)
		}
		rounds, parts = n, append(parts[:2], parts[3:]...)
	}
	if len(parts) != 4 {
		return Hash{}, errorf("malformed %s hash (want %sSALT$HASH)", kind, s[:3])
	}
	if salt := parts[2]; len(salt) > saltLen || strings.HasPrefix(salt, "rounds=") {
		return Hash{}, errorf("malformed %s salt %q (at most %d characters)", kind, salt, saltLen)
	}
	if len(parts[3]) != hashLen || !inAlphabet(parts[3], cryptAlphabet) {
		return Hash{}, errorf("malformed %s hash (want %d characters of ./0-9A-Za-z after the salt)", kind, hashLen)
	}
	return Hash{kind: kind, raw: s, salt: []byte(parts[2]), key: []byte(parts[3]), rounds: rounds}, nil
}

// parseTraccar reads Traccar's two forms: PBKDF2WithHmacSHA256$ITERATIONS$HEX
// or the legacy 48 hex digits, each with its hex salt.
func parseTraccar(s, saltHex string) (Hash, error) {
	if len(saltHex) > 2*MaxSaltLen || len(saltHex)%2 != 0 || !isHex(saltHex) {
		return Hash{}, saltErrorf("want an even number of hex digits, at most %d", 2*MaxSaltLen)
	}
	salt, _ := hex.DecodeString(saltHex)
	h := Hash{kind: "traccar-pbkdf2-sha1", salt: salt, rounds: traccarLegacyRounds}
	keyHex := s
	if rest, ok := strings.CutPrefix(s, "PBKDF2WithHmacSHA256$"); ok {
		it, k, ok := strings.Cut(rest, "$")
		n, isNum := number(it)
		if !ok || !isNum {
			return Hash{}, errorf("malformed PBKDF2WithHmacSHA256 hash (want PBKDF2WithHmacSHA256$ITERATIONS$HEXHASH)")
		}
		if n < 1 || n > MaxPBKDF2Rounds {
			return Hash{}, errorf("PBKDF2WithHmacSHA256 iterations %d are outside 1..%d", n, MaxPBKDF2Rounds)
		}
		h.kind, h.rounds, keyHex = "traccar-pbkdf2-sha256", n, k
	}
	if len(keyHex)%2 != 0 || !isHex(keyHex) {
		return Hash{}, errorf("malformed Traccar hash: want an even number of hex digits")
	}
	h.key, _ = hex.DecodeString(keyHex)
	if err := checkKey(h.kind, h.key, h.salt, 1); err != nil {
		return Hash{}, err
	}
	return h, nil
}
