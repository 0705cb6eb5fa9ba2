package passhash

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
)

// The crypt(3) family, written here from the published descriptions:
// SHA-crypt from Ulrich Drepper's specification
// (https://www.akkadia.org/drepper/SHA-crypt.txt, whose test vectors the
// tests carry) and md5-crypt from Poul-Henning Kamp's FreeBSD original.
// Each function returns the checksum, the part of the string after the
// salt, for the caller to compare in constant time.

// shaCrypt is SHA-crypt's checksum of password with salt (at most 16
// bytes) and rounds (1,000 to 999,999,999): newHash is sha256.New for $5$,
// sha512.New for $6$.
func shaCrypt(newHash func() hash.Hash, password, salt []byte, rounds int) string {
	h := newHash()
	// Digest B: password, salt, password.
	h.Write(password)
	h.Write(salt)
	h.Write(password)
	b := h.Sum(nil)

	// Digest A: password, salt, B for each byte of the password, then for
	// each bit of the password's length B (1) or the password (0).
	h.Reset()
	h.Write(password)
	h.Write(salt)
	h.Write(repeat(b, len(password)))
	for n := len(password); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(password)
		}
	}
	a := h.Sum(nil)

	// P: the digest of the password once for each of its bytes, as long
	// as the password.
	h.Reset()
	for range len(password) {
		h.Write(password)
	}
	p := repeat(h.Sum(nil), len(password))

	// S: the digest of the salt 16 + A[0] times, as long as the salt.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	s := repeat(h.Sum(nil), len(salt))

	a = cryptRounds(h, a, p, s, rounds)

	// The bytes are written in the specification's order, three at a time.
	var out []byte
	if len(a) == sha256.Size {
		for _, t := range sha256Order {
			out = b64From24(out, a[t[0]], a[t[1]], a[t[2]], 4)
		}
		return string(b64From24(out, 0, a[31], a[30], 3))
	}
	for _, t := range sha512Order {
		out = b64From24(out, a[t[0]], a[t[1]], a[t[2]], 4)
	}
	return string(b64From24(out, 0, 0, a[63], 2))
}

var sha256Order = [...][3]int{
	{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
	{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
}

var sha512Order = [...][3]int{
	{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
	{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
	{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
	{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
	{62, 20, 41},
}

// md5Crypt is md5-crypt's checksum of password with salt (at most 8
// bytes).
func md5Crypt(password, salt []byte) string {
	alt := md5.New()
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	b := alt.Sum(nil)

	h := md5.New()
	h.Write(password)
	h.Write([]byte("$1$"))
	h.Write(salt)
	h.Write(repeat(b, len(password)))
	// For each bit of the password's length: a zero byte (1) or the
	// password's first byte (0), as the original does.
	for n := len(password); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(password[:1])
		}
	}
	final := h.Sum(nil)

	final = cryptRounds(h, final, password, salt, 1000)

	var out []byte
	for _, t := range [...][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = b64From24(out, final[t[0]], final[t[1]], final[t[2]], 4)
	}
	return string(b64From24(out, 0, 0, final[11], 2))
}

// repeat is seq repeated to n bytes.
func repeat(seq []byte, n int) []byte {
	out := make([]byte, n)
	for i := 0; i < n; i += len(seq) {
		copy(out[i:], seq)
	}
	return out
}

// b64From24 appends n characters of crypt's base64 for the 24 bits
// b2 b1 b0, least significant first.
func b64From24(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for range n {
		dst = append(dst, cryptAlphabet[w&0x3f])
		w >>= 6
	}
	return dst
}

// cryptChecksum is the checksum of password for a parsed crypt(3) hash.
func (h Hash) cryptChecksum(password []byte) string {
	switch h.kind {
	case "md5-crypt":
		return md5Crypt(password, h.salt)
	case "sha256-crypt":
		return shaCrypt(sha256.New, password, h.salt, h.rounds)
	default:
		return shaCrypt(sha512.New, password, h.salt, h.rounds)
	}
}

// cryptRounds is the stretching loop MD5-crypt and SHA-crypt share: each
// round hashes the previous digest a and the password p (in an order that
// alternates), with the salt bytes s on rounds not divisible by 3 and p
// again on rounds not divisible by 7. It returns the last digest.
func cryptRounds(h hash.Hash, a, p, s []byte, rounds int) []byte {
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(a)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(a)
		} else {
			h.Write(p)
		}
		a = h.Sum(a[:0])
	}
	return a
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
