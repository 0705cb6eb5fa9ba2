package passhash_test

import (
	"strings"
	"testing"

	"usersvc/internal/testenv"
	"usersvc/passhash"
)

// TestPublishedVectors: hashes whose passwords are published with them
// (Drepper's SHA-crypt specification, the argon2 reference README,
// passlib's documentation), md5-crypt from openssl passwd -1 with the same salt, bcrypt from htpasswd.
func TestPublishedVectors(t *testing.T) {
	for _, tc := range []struct{ kind, hash, password string }{
		{"sha256-crypt", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"},
		{"sha256-crypt", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"},
		{"sha512-crypt", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
		{"sha512-crypt", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
		{"md5-crypt", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1", "Hello world!"},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "password"},
		{"pbkdf2-sha256", "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "password"},
		{"pbkdf2-sha1", "$pbkdf2$1000$c2FsdHNhbHQ$6f6/9Uv85mj94wGsyFVjzJ3HHvY", "password"},
		{"pbkdf2-sha512", "$pbkdf2-sha512$1000$c2FsdHNhbHQ$Q6v4xwJ8a9nWPp2BeEoAYYhHSo2xRmPWART17vTpSxt2q6iNp7BOozW557qqa95eNjUO4gKs0CyvJbYGGku1tA", "password"},
		{"scrypt", "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0MTIzNA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "password"},
		{"bcrypt", "$2y$04$93UTiANrYsDUzTPn.pU82OxQkG.yawZVl8U/XIXQOF1RRIRLTrG5C", "password"}, // htpasswd -nbBC 4
	} {
		h, err := passhash.Parse(tc.hash, "")
		if err != nil {
			t.Errorf("%s: %v", tc.hash, err)
			continue
		}
		if h.Kind() != tc.kind || !h.Verify(tc.password) || h.Verify(tc.password+"x") || h.Verify("") {
			t.Errorf("%s: kind %s, right %v, wrong %v", tc.hash, h.Kind(), h.Verify(tc.password), h.Verify(tc.password+"x"))
		}
		if back, err := passhash.ParseStored(h.Encode()); err != nil || !back.Verify(tc.password) {
			t.Errorf("%s: stored form %q: %v", tc.hash, h.Encode(), err)
		}
	}
}

// TestTraccar: Traccar's two forms, with the hex salt apart. The hashes
// are PBKDF2 of "secret" computed by Python's hashlib and written here
// (TestIndependentTools makes fresh ones).
func TestTraccar(t *testing.T) {
	for _, tc := range []struct{ kind, hash, salt string }{
		{"traccar-pbkdf2-sha1", "5b2817d17b15c263fe14966913e31e519c8fc935214b6f28", "000102030405060708090a0b0c0d0e0f1011121314151617"},
		{"traccar-pbkdf2-sha256", "PBKDF2WithHmacSHA256$10000$59171411b5aeefff64a9d8b33b2b4fee2d5ba877e0d31e8e9466b67850a35d51", "00112233445566778899aabbccddeeff"},
	} {
		h, err := passhash.Parse(tc.hash, tc.salt)
		if err != nil {
			t.Fatalf("%s: %v", tc.hash, err)
		}
		if h.Kind() != tc.kind || !h.Verify("secret") || h.Verify("Secret") {
			t.Fatalf("%s: kind %s, right %v", tc.hash, h.Kind(), h.Verify("secret"))
		}
		if back, err := passhash.ParseStored(h.Encode()); err != nil || !back.Verify("secret") {
			t.Fatalf("stored %s: %v", h.Encode(), err)
		}
	}
}

// TestRefusals: what is refused, and the message says why.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct{ hash, salt, want string }{
		{"", "", "empty"},
		{"$2a$04$5DCebwootqWMCp59ISrMJ.l4WvgHIVg17ZawDIrDM2IjlE64G", "", "malformed bcrypt"},
		{"$2a$99$5DCebwootqWMCp59ISrMJ.l4WvgHIVg17ZawDIrDM2IjlE64GDNQS", "", "bcrypt"},
		{"$9$abc$def", "", `unknown format "$9$"`},
		{"md5:5f4dcc3b5aa765d61d8327deb882cf99", "", "unknown format"},
		{"$argon2id$v=19$m=8388608,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "above the 262144 KiB cap"},
		{"$argon2id$v=16$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "v=19 only"},
		{"$argon2id$v=19$m=65536,t=0,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "time 0"},
		{"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$!!!", "", "base64"},
		{"$scrypt$ln=30,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "ln 30"},
		{"$scrypt$ln=20,r=32,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "MiB cap"},
		{"$pbkdf2-sha256$0$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "rounds 0"},
		{"$pbkdf2-sha256$99999999$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "rounds 99999999"},
		{"$6$rounds=999999999$salt$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "", "rounds 999999999"},
		{"$6$salt$tooshort", "", "malformed sha512-crypt"},
		{"PBKDF2WithHmacSHA256$1000$abcdef0123456789", "", "passwordSalt"},
		{"PBKDF2WithHmacSHA256$x$abcdef0123456789", "00ff", "malformed PBKDF2WithHmacSHA256"},
		{"0123456789abcdef", "00ff", "48 hex digits"},
		{"$2a$04$5DCebwootqWMCp59ISrMJ.l4WvgHIVg17ZawDIrDM2IjlE64GDNQS", "00ff", "only Traccar"},
		{"PBKDF2WithHmacSHA256$1000$abcdef0123456789", "zz", "not hex"},
		{strings.Repeat("$", 5000), "", "4,096"},
	} {
		_, err := passhash.Parse(tc.hash, tc.salt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.40q, %q): %v, want an error containing %q", tc.hash, tc.salt, err, tc.want)
		}
	}
}

// TestIndependentTools: hashes made by tools nobody here wrote verify
// with the right password and not with a wrong one, and their stored
// forms too.
func TestIndependentTools(t *testing.T) {
	const pw = "correct horse battery staple é"
	for _, h := range testenv.ExternalHashes(t, pw) {
		t.Run(h.Tool, func(t *testing.T) {
			got, err := passhash.Parse(h.Hash, h.Salt)
			if err != nil {
				t.Fatalf("%s: %v", h.Hash, err)
			}
			if got.Kind() != h.Kind || !got.Verify(pw) || got.Verify(pw[:len(pw)-2]) {
				t.Fatalf("%s: kind %s, right password %v, wrong one %v", h.Hash, got.Kind(), got.Verify(pw), got.Verify(pw[:len(pw)-2]))
			}
			back, err := passhash.ParseStored(got.Encode())
			if err != nil || !back.Verify(pw) || back.Kind() != h.Kind {
				t.Fatalf("stored form %s: %v", got.Encode(), err)
			}
		})
	}
}

// FuzzParse: no input panics, and whatever parses round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"$2a$04$5DCebwootqWMCp59ISrMJ.l4WvgHIVg17ZawDIrDM2IjlE64GDNQS", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$scrypt$ln=1,r=1,p=1$c2FsdA$FE8Vp8fw", "$pbkdf2$1$c2FsdA$6f6/9Uv85mj94wGsyFVjzJ3HHvY", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1",
		"$5$rounds=1000$s$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "PBKDF2WithHmacSHA256$1$00", "$traccar-sha1$00$00", "$traccar-sha256$1$00$0000"} {
		f.Add(s, "")
		f.Add(s, "00ff")
	}
	f.Fuzz(func(t *testing.T, hash, salt string) {
		h, err := passhash.Parse(hash, salt)
		if err != nil {
			return
		}
		if _, err := passhash.ParseStored(h.Encode()); err != nil {
			t.Fatalf("%q parsed but its stored form %q does not: %v", hash, h.Encode(), err)
		}
	})
}
