package passhash_test

import (
	"strings"
	"testing"

	"usersvc/passhash"
)

// TestPBKDF2WorkCap: PBKDF2 runs its rounds once per digest-sized block of
// the key it derives, so the rounds cap alone let a 1,024-byte key cost
// 52 times the cap (SHA-1: about 40 s a check). The cap bounds rounds ×
// blocks, in every PBKDF2 spelling; one block at the cap stays accepted.
func TestPBKDF2WorkCap(t *testing.T) {
	zeros := func(n int) string { return strings.Repeat("A", (n*8+5)/6) } // n zero bytes, base64 unpadded (ab64 alike)
	hexZeros := func(n int) string { return strings.Repeat("00", n) }
	for _, tc := range []struct {
		name, hash, salt string
		want             string // "" accepted
	}{
		{"passlib SHA-1, one block at the cap", "$pbkdf2$2000000$c2FsdA$" + zeros(20), "", ""},
		{"passlib SHA-1, 1,024 bytes at the cap", "$pbkdf2$2000000$c2FsdA$" + zeros(1024), "", "pbkdf2-sha1: 2000000 rounds over a 1024-byte key (52 blocks of 20) are past the cap of 2000000 rounds × blocks"},
		{"passlib SHA-256, two blocks at half the cap", "$pbkdf2-sha256$1000000$c2FsdA$" + zeros(64), "", ""},
		{"passlib SHA-256, two blocks at half the cap + 1", "$pbkdf2-sha256$1000001$c2FsdA$" + zeros(64), "", "pbkdf2-sha256: 1000001 rounds over a 64-byte key (2 blocks of 32)"},
		{"passlib SHA-512, 65 bytes at the cap", "$pbkdf2-sha512$2000000$c2FsdA$" + zeros(65), "", "(2 blocks of 64)"},
		{"Traccar SHA-256, 1,024 bytes", "PBKDF2WithHmacSHA256$100000$" + hexZeros(1024), "00ff", "traccar-pbkdf2-sha256: 100000 rounds over a 1024-byte key (32 blocks of 32)"},
		{"Traccar legacy SHA-1 (24 bytes, 1,000 rounds)", hexZeros(24), "00ff", ""},
		{"Django SHA-256, 1,024 bytes", "pbkdf2_sha256$100000$seasalt$" + strings.Repeat("A", 1364) + "AA==", "", "django-pbkdf2-sha256: 100000 rounds over a 1024-byte key (32 blocks of 32)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := passhash.Parse(tc.hash, tc.salt)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Parse: %v; want it accepted", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Parse: %v; want an error containing %q", err, tc.want)
			}
			if tc.salt == "" {
				if _, err := passhash.ParseStored(tc.hash); (err == nil) != (tc.want == "") {
					t.Fatalf("ParseStored: %v; want the same answer as Parse", err)
				}
			}
		})
	}
}
