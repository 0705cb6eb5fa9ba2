package passhash

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

func parsePBKDF2(s, kind string) (Hash, error) {
	// $pbkdf2-sha256$ROUNDS$SALT$HASH (passlib)
	parts := strings.Split(s, "$")
	if len(parts) != 5 {
		return Hash{}, errorf("malformed %s hash (want $%s$ROUNDS$SALT$HASH)", kind, parts[1])
	}
	rounds, err := pbkdf2Rounds(kind, "rounds", parts[2])
	if err != nil {
		return Hash{}, err
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
		if _, err := pbkdf2Rounds("PBKDF2WithHmacSHA256", "iterations", it); err != nil {
			return Hash{}, err
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

// parseDjango reads Django's PBKDF2 hashers' form,
// pbkdf2_sha256$ITERATIONS$SALT$HASH (and pbkdf2_sha1$…): the salt is
// text, used as its bytes (Django's salts are letters and digits, and
// never hold "$"), and the hash is standard base64 with its padding
// (Python's base64.b64encode).
func parseDjango(s, kind string) (Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 {
		return Hash{}, errorf("malformed Django %s hash (want %s$ITERATIONS$SALT$HASH)", kind, parts[0])
	}
	rounds, err := pbkdf2Rounds(kind, "iterations", parts[1])
	if err != nil {
		return Hash{}, err
	}
	salt := parts[2]
	if salt == "" || !printableASCII(salt) {
		return Hash{}, errorf("malformed %s salt (want printable ASCII text without $)", kind)
	}
	if !inAlphabet(parts[3], b64Alphabet+"=") {
		return Hash{}, errorf("malformed %s base64 (want standard base64 with its padding)", kind)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(parts[3])
	if err != nil {
		return Hash{}, errorf("malformed %s base64 (want standard base64 with its padding)", kind)
	}
	if err := checkKey(kind, key, []byte(salt), 1); err != nil {
		return Hash{}, err
	}
	return Hash{kind: kind, raw: s, salt: []byte(salt), key: key, rounds: rounds}, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// pbkdf2Rounds reads a PBKDF2 iteration count (called word in kind's
// format) and checks it against the cap.
func pbkdf2Rounds(kind, word, s string) (int, error) {
	n, ok := number(s)
	if !ok {
		return 0, errorf("malformed %s %s %q", kind, word, s)
	}
	if n < 1 || n > MaxPBKDF2Rounds {
		return 0, errorf("%s %s %d are outside 1..%d", kind, word, n, MaxPBKDF2Rounds)
	}
	return n, nil
}

// pbkdf2Digest is the digest size of each PBKDF2 kind's HMAC.
var pbkdf2Digest = map[string]int{
	"pbkdf2-sha1": 20, "traccar-pbkdf2-sha1": 20, "django-pbkdf2-sha1": 20,
	"pbkdf2-sha256": 32, "traccar-pbkdf2-sha256": 32, "django-pbkdf2-sha256": 32,
	"pbkdf2-sha512": 64,
}

// withinWork refuses a PBKDF2 hash whose work is past the rounds cap.
// PBKDF2 runs its rounds once for each digest-sized block of the key it
// derives, so a key longer than the digest multiplies the work: 2,000,000
// rounds of a 1,024-byte SHA-1 key are 52 times the cap. The cap bounds
// rounds × blocks; every producer named in docs/import.md writes one
// block (Traccar's 24-byte SHA-1 keys two, at 1,000 rounds).
func withinWork(h Hash, err error) (Hash, error) {
	size := pbkdf2Digest[h.kind]
	if err != nil || size == 0 {
		return h, err
	}
	blocks := (len(h.key) + size - 1) / size
	if h.rounds*blocks > MaxPBKDF2Rounds {
		return Hash{}, errorf("%s: %d rounds over a %d-byte key (%d blocks of %d) are past the cap of %d rounds × blocks",
			h.kind, h.rounds, len(h.key), blocks, size, MaxPBKDF2Rounds)
	}
	return h, nil
}
