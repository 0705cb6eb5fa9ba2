// Package passhash reads and verifies password hashes made by other
// systems, so that users moved in keep their passwords until their first
// sign-in replaces the hash with the service's own (bcrypt).
//
// Formats (Parse): bcrypt ($2a$, $2b$, $2y$); argon2id and argon2i in PHC
// form; scrypt and PBKDF2 (SHA-1, SHA-256, SHA-512) in passlib's modular
// crypt form; md5-crypt ($1$), sha256-crypt ($5$) and sha512-crypt ($6$);
// Traccar's PBKDF2WithHmacSHA256 form and its legacy unprefixed
// PBKDF2-HMAC-SHA1, both with a separate hex salt. Verification uses
// golang.org/x/crypto (bcrypt, argon2, scrypt), the standard library
// (crypto/pbkdf2) and github.com/GehirnInc/crypt for the crypt(3) family
// (a small, widely used implementation of Drepper's SHA-crypt and PHK's
// md5-crypt; the published vectors are in the tests).
//
// Parameters are checked before anything is stored: a sign-in must not be
// made to burn a core or a gigabyte by an imported line. The caps:
//
//	bcrypt cost              4 to 31 (the library's range)
//	argon2 memory            at most 262,144 KiB (256 MiB); time 1 to 64; lanes 1 to 64
//	scrypt                   N = 2^ln with ln 1 to 20, r 1 to 32, p 1 to 16, 128·N·r at most 256 MiB
//	PBKDF2                   1 to 2,000,000 rounds
//	sha256/sha512-crypt      1,000 to 1,000,000 rounds
//	derived keys             4 to 512 bytes; salts 1 to 1,024 bytes
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
	"strconv"
	"strings"

	"github.com/GehirnInc/crypt/md5_crypt"
	"github.com/GehirnInc/crypt/sha256_crypt"
	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Caps on parameters (see the package comment).
const (
	MaxArgon2MemoryKiB = 262_144
	MaxArgon2Time      = 64
	MaxArgon2Lanes     = 64
	MaxScryptLogN      = 20
	MaxScryptR         = 32
	MaxScryptP         = 16
	MaxScryptBytes     = 256 << 20
	MaxPBKDF2Rounds    = 2_000_000
	MinCryptRounds     = 1_000
	MaxCryptRounds     = 1_000_000
	minKeyLen, maxKey  = 4, 512
	maxSaltLen         = 1024
)

// Hash is a parsed password hash.
type Hash struct {
	kind string
	// raw is the hash as given, for the formats stored as given.
	raw string
	// For the derived-key formats: the salt, the key, and parameters.
	salt, key           []byte
	rounds              int
	memory, time, lanes uint32 // argon2
	logN, r, p          int    // scrypt
}

// Kind names the format: bcrypt, argon2id, argon2i, scrypt, pbkdf2-sha1,
// pbkdf2-sha256, pbkdf2-sha512, md5-crypt, sha256-crypt, sha512-crypt,
// traccar-pbkdf2-sha256 or traccar-pbkdf2-sha1.
func (h Hash) Kind() string { return h.kind }

// IsBcrypt reports whether s is a bcrypt hash by its prefix.
func IsBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("passwordHash: "+format, args...)
}

// Parse reads an imported hash. salt is Traccar's separate hex salt (its
// passwordSalt field); it must be empty for every other format.
func Parse(s, salt string) (Hash, error) {
	if len(s) > 4096 {
		return Hash{}, errorf("longer than 4,096 characters")
	}
	traccar := strings.HasPrefix(s, "PBKDF2WithHmacSHA256$") || isHex(s) && s != ""
	if salt != "" && !traccar {
		return Hash{}, fmt.Errorf("passwordSalt: only Traccar's hashes (PBKDF2WithHmacSHA256$… or legacy hex) take a separate salt")
	}
	if traccar {
		return parseTraccar(s, salt)
	}
	return ParseStored(s)
}

// ParseStored reads a hash as Encode wrote it: every format Parse reads,
// Traccar's with their salt inside ($traccar-sha256$ITER$SALT$HASH,
// $traccar-sha1$SALT$HASH, both hex).
func ParseStored(s string) (Hash, error) {
	switch {
	case s == "":
		return Hash{}, errorf("empty")
	case len(s) > 4096:
		return Hash{}, errorf("longer than 4,096 characters")
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
		if len(parts) != 5 {
			return Hash{}, errorf("malformed $traccar-sha256$ hash")
		}
		return parseTraccar("PBKDF2WithHmacSHA256$"+parts[2]+"$"+parts[4], parts[3])
	case strings.HasPrefix(s, "$traccar-sha1$"):
		parts := strings.Split(s, "$")
		if len(parts) != 4 {
			return Hash{}, errorf("malformed $traccar-sha1$ hash")
		}
		return parseTraccar(parts[3], parts[2])
	}
	prefix := s
	if i := strings.IndexByte(s[min(1, len(s)):], '$'); s[0] == '$' && i >= 0 {
		prefix = s[:i+2]
	} else if len(prefix) > 12 {
		prefix = prefix[:12] + "…"
	}
	return Hash{}, errorf("unknown format %q", prefix)
}

// Encode is the form to store: Parse's input for every format but
// Traccar's, which carry their salt inside (see ParseStored).
func (h Hash) Encode() string {
	switch h.kind {
	case "traccar-pbkdf2-sha256":
		return fmt.Sprintf("$traccar-sha256$%d$%x$%x", h.rounds, h.salt, h.key)
	case "traccar-pbkdf2-sha1":
		return fmt.Sprintf("$traccar-sha1$%x$%x", h.salt, h.key)
	}
	return h.raw
}

// Verify reports whether password is the one hashed, comparing the
// derived keys in constant time.
func (h Hash) Verify(password string) bool {
	switch h.kind {
	case "bcrypt":
		return bcrypt.CompareHashAndPassword([]byte(h.raw), []byte(password)) == nil
	case "argon2id":
		return equal(argon2.IDKey([]byte(password), h.salt, h.time, h.memory, uint8(h.lanes), uint32(len(h.key))), h.key)
	case "argon2i":
		return equal(argon2.Key([]byte(password), h.salt, h.time, h.memory, uint8(h.lanes), uint32(len(h.key))), h.key)
	case "scrypt":
		k, err := scrypt.Key([]byte(password), h.salt, 1<<h.logN, h.r, h.p, len(h.key))
		return err == nil && equal(k, h.key)
	case "pbkdf2-sha1", "traccar-pbkdf2-sha1":
		return h.pbkdf2(sha1.New, password)
	case "pbkdf2-sha256", "traccar-pbkdf2-sha256":
		return h.pbkdf2(sha256.New, password)
	case "pbkdf2-sha512":
		return h.pbkdf2(sha512.New, password)
	case "md5-crypt":
		return md5_crypt.New().Verify(h.raw, []byte(password)) == nil
	case "sha256-crypt":
		return sha256_crypt.New().Verify(h.raw, []byte(password)) == nil
	case "sha512-crypt":
		return sha512_crypt.New().Verify(h.raw, []byte(password)) == nil
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

func checkKey(what string, key, salt []byte) error {
	if len(key) < minKeyLen || len(key) > maxKey {
		return errorf("%s hash of %d bytes (4 to 512)", what, len(key))
	}
	if len(salt) < 1 || len(salt) > maxSaltLen {
		return errorf("%s salt of %d bytes (1 to 1,024)", what, len(salt))
	}
	return nil
}

func parseBcrypt(s string) (Hash, error) {
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil || len(s) != 60 {
		return Hash{}, errorf("malformed bcrypt hash")
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return Hash{}, errorf("bcrypt cost %d is outside 4..31", cost)
	}
	return Hash{kind: "bcrypt", raw: s}, nil
}

// params reads "k=v,k=v" into ints, each of the names exactly once.
func params(s string, names ...string) (map[string]int, bool) {
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, false
		}
		if _, dup := out[k]; dup {
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

var b64 = base64.RawStdEncoding

func parseArgon2(s, kind string) (Hash, error) {
	// $argon2id$v=19$m=65536,t=3,p=4$SALT$HASH
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[2] != "v=19" {
		if len(parts) == 6 && strings.HasPrefix(parts[2], "v=") {
			return Hash{}, errorf("%s version %s is not supported (v=19 only)", kind, parts[2][2:])
		}
		return Hash{}, errorf("malformed %s hash", kind)
	}
	p, ok := params(parts[3], "m", "t", "p")
	if !ok {
		return Hash{}, errorf("malformed %s parameters %q", kind, parts[3])
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Hash{}, errorf("malformed %s base64", kind)
	}
	switch {
	case p["m"] > MaxArgon2MemoryKiB:
		return Hash{}, errorf("argon2 memory %d KiB is above the %d KiB cap", p["m"], MaxArgon2MemoryKiB)
	case p["t"] < 1 || p["t"] > MaxArgon2Time:
		return Hash{}, errorf("argon2 time %d is outside 1..%d", p["t"], MaxArgon2Time)
	case p["p"] < 1 || p["p"] > MaxArgon2Lanes:
		return Hash{}, errorf("argon2 parallelism %d is outside 1..%d", p["p"], MaxArgon2Lanes)
	case p["m"] < 8*p["p"]:
		return Hash{}, errorf("argon2 memory %d KiB is below 8 KiB a lane", p["m"])
	}
	if err := checkKey(kind, key, salt); err != nil {
		return Hash{}, err
	}
	return Hash{kind: kind, raw: s, salt: salt, key: key, memory: uint32(p["m"]), time: uint32(p["t"]), lanes: uint32(p["p"])}, nil
}

// ab64 is passlib's "adapted base64": the standard alphabet with "." for
// "+", unpadded.
func ab64(s string) ([]byte, error) {
	return b64.DecodeString(strings.ReplaceAll(s, ".", "+"))
}

func parseScrypt(s string) (Hash, error) {
	// $scrypt$ln=16,r=8,p=1$SALT$HASH (passlib)
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return Hash{}, errorf("malformed scrypt hash")
	}
	p, ok := params(parts[2], "ln", "r", "p")
	if !ok {
		return Hash{}, errorf("malformed scrypt parameters %q", parts[2])
	}
	salt, err1 := ab64(parts[3])
	key, err2 := ab64(parts[4])
	if err1 != nil || err2 != nil {
		return Hash{}, errorf("malformed scrypt base64")
	}
	switch {
	case p["ln"] < 1 || p["ln"] > MaxScryptLogN:
		return Hash{}, errorf("scrypt ln %d is outside 1..%d", p["ln"], MaxScryptLogN)
	case p["r"] < 1 || p["r"] > MaxScryptR:
		return Hash{}, errorf("scrypt r %d is outside 1..%d", p["r"], MaxScryptR)
	case p["p"] < 1 || p["p"] > MaxScryptP:
		return Hash{}, errorf("scrypt p %d is outside 1..%d", p["p"], MaxScryptP)
	case 128*(1<<p["ln"])*p["r"] > MaxScryptBytes:
		return Hash{}, errorf("scrypt memory 128·N·r = %d bytes is above the %d MiB cap", 128*(1<<p["ln"])*p["r"], MaxScryptBytes>>20)
	}
	if err := checkKey("scrypt", key, salt); err != nil {
		return Hash{}, err
	}
	return Hash{kind: "scrypt", raw: s, salt: salt, key: key, logN: p["ln"], r: p["r"], p: p["p"]}, nil
}

func parsePBKDF2(s, kind string) (Hash, error) {
	// $pbkdf2-sha256$ROUNDS$SALT$HASH (passlib)
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return Hash{}, errorf("malformed %s hash", kind)
	}
	rounds, err := strconv.Atoi(parts[2])
	if err != nil {
		return Hash{}, errorf("malformed %s rounds %q", kind, parts[2])
	}
	if rounds < 1 || rounds > MaxPBKDF2Rounds {
		return Hash{}, errorf("%s rounds %d are outside 1..%d", kind, rounds, MaxPBKDF2Rounds)
	}
	salt, err1 := ab64(parts[3])
	key, err2 := ab64(parts[4])
	if err1 != nil || err2 != nil {
		return Hash{}, errorf("malformed %s base64", kind)
	}
	if err := checkKey(kind, key, salt); err != nil {
		return Hash{}, err
	}
	return Hash{kind: kind, raw: s, salt: salt, key: key, rounds: rounds}, nil
}

// cryptAlphabet is crypt(3)'s base64 alphabet.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func parseCrypt(s, kind string) (Hash, error) {
	// $1$SALT$HASH, $5$[rounds=N$]SALT$HASH, $6$[rounds=N$]SALT$HASH
	parts := strings.Split(s, "$")
	want := map[string]int{"md5-crypt": 22, "sha256-crypt": 43, "sha512-crypt": 86}[kind]
	if len(parts) == 5 && kind != "md5-crypt" && strings.HasPrefix(parts[2], "rounds=") {
		n, err := strconv.Atoi(strings.TrimPrefix(parts[2], "rounds="))
		if err != nil {
			return Hash{}, errorf("malformed %s rounds %q", kind, parts[2])
		}
		if n < MinCryptRounds || n > MaxCryptRounds {
			return Hash{}, errorf("%s rounds %d are outside %d..%d", kind, n, MinCryptRounds, MaxCryptRounds)
		}
		parts = append(parts[:2], parts[3:]...)
	}
	if len(parts) != 4 || len(parts[2]) > 16 || len(parts[3]) != want {
		return Hash{}, errorf("malformed %s hash", kind)
	}
	for _, c := range []byte(parts[3]) {
		if !strings.ContainsRune(cryptAlphabet, rune(c)) {
			return Hash{}, errorf("malformed %s hash", kind)
		}
	}
	return Hash{kind: kind, raw: s}, nil
}

func parseTraccar(s, saltHex string) (Hash, error) {
	if saltHex == "" {
		return Hash{}, fmt.Errorf("passwordSalt: Traccar's hashes need their hex salt (tc_users.salt)")
	}
	salt, err := hex.DecodeString(saltHex)
	if err != nil {
		return Hash{}, fmt.Errorf("passwordSalt: not hex")
	}
	h := Hash{kind: "traccar-pbkdf2-sha1", salt: salt, rounds: 1000}
	keyHex := s
	if rest, ok := strings.CutPrefix(s, "PBKDF2WithHmacSHA256$"); ok {
		it, k, ok := strings.Cut(rest, "$")
		n, err := strconv.Atoi(it)
		if !ok || err != nil {
			return Hash{}, errorf("malformed PBKDF2WithHmacSHA256 hash (PBKDF2WithHmacSHA256$ITERATIONS$HEX)")
		}
		if n < 1 || n > MaxPBKDF2Rounds {
			return Hash{}, errorf("PBKDF2WithHmacSHA256 iterations %d are outside 1..%d", n, MaxPBKDF2Rounds)
		}
		h.kind, h.rounds, keyHex = "traccar-pbkdf2-sha256", n, k
	} else if len(s) != 48 {
		return Hash{}, errorf("a legacy Traccar hash is 48 hex digits (24 bytes), not %d", len(s))
	}
	if h.key, err = hex.DecodeString(keyHex); err != nil {
		return Hash{}, errorf("malformed Traccar hash: not hex")
	}
	if err := checkKey(h.kind, h.key, h.salt); err != nil {
		return Hash{}, err
	}
	return h, nil
}
