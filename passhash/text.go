package passhash

import (
	"encoding/base64"
	"strings"
)

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
