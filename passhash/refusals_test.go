package passhash_test

import (
	"strings"
	"testing"

	"usersvc/passhash"
)

// refusals are hashes that are refused, with a part of the message that
// says why.
var refusals = []struct{ name, hash, salt, want string }{
	{"empty", "", "", "passwordHash: empty"},
	{"too long", strings.Repeat("$", 5000), "", "longer than 4096 characters"},
	{"unknown prefix", "$9$abc$def", "", `passwordHash: unknown format "$9$"`},
	{"unknown scheme", "{SSHA}abc", "", `passwordHash: unknown format "{SSHA}abc"`},
	{"argon2d", "$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "", `unknown format "$argon2d$"`},
	{"bcrypt $2x$ (crypt_blowfish's buggy mode)", "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", `unknown format "$2x$"`},
	{"unsalted hex digest", "5f4dcc3b5aa765d61d8327deb882cf99", "", "unknown format: 32 hex digits"},
	{"scrypt in mkpasswd's $7$ form", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", "", `unknown format "$7$"`},
	{"text around a hash", " $2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "unknown format"},

	// Just above each cap (capsAdmitted has the same at the cap): refused, with the cap in the message.
	{"bcrypt cost 16", "$2a$16$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "bcrypt cost 16 is outside 4..15"},
	{"bcrypt cost 31", "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "bcrypt cost 31 is outside 4..15"},
	{"argon2 memory 256 MiB + 1 KiB", "$argon2id$v=19$m=262145,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 memory 262145 KiB is above the 262144 KiB cap"},
	{"argon2 1 GiB (the old cap)", "$argon2id$v=19$m=1048576,t=1,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 memory 1048576 KiB is above the 262144 KiB cap"},
	{"argon2 17 lanes", "$argon2id$v=19$m=65536,t=1,p=17$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 parallelism 17 is outside 1..16"},
	{"scrypt ln 22", "$scrypt$ln=22,r=1,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt ln 22 is outside 1..21"},
	{"scrypt 288 MiB", "$scrypt$ln=18,r=9,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt memory 128·N·r with ln=18, r=9 is above the 256 MiB cap"},
	{"scrypt work 512 MiB", "$scrypt$ln=17,r=8,p=4$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt work 128·N·r·p = 512 MiB is above the 256 MiB cap"},
	{"pbkdf2 2,000,001 rounds", "$pbkdf2-sha256$2000001$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "pbkdf2-sha256 rounds 2000001 are outside 1..2000000"},
	{"Traccar 2,000,001 iterations", "PBKDF2WithHmacSHA256$2000001$00ff00ff00ff00ff", "00ff", "PBKDF2WithHmacSHA256 iterations 2000001 are outside 1..2000000"},
	{"Django 2,000,001 iterations", "pbkdf2_sha256$2000001$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "", "django-pbkdf2-sha256 iterations 2000001 are outside 1..2000000"},
	{"sha512-crypt 1,000,001 rounds", "$6$rounds=1000001$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "", "sha512-crypt rounds 1000001 are outside 1000..1000000"},

	// Django's form, malformed.
	{"Django missing a part", "pbkdf2_sha256$1000$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "", "malformed Django django-pbkdf2-sha256 hash"},
	{"Django zero-padded iterations", "pbkdf2_sha256$01000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "", `malformed django-pbkdf2-sha256 iterations "01000"`},
	{"Django empty salt", "pbkdf2_sha256$1000$$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "", "malformed django-pbkdf2-sha256 salt"},
	{"Django salt with a space", "pbkdf2_sha256$1000$sea salt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "", "malformed django-pbkdf2-sha256 salt"},
	{"Django hash unpadded", "pbkdf2_sha256$1000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c", "", "malformed django-pbkdf2-sha256 base64"},
	{"Django hash in ab64", "pbkdf2_sha256$1000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y.i7c=", "", "malformed django-pbkdf2-sha256 base64"},
	{"Django with a line break", "pbkdf2_sha256$1000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6Qvc\nhSJ0h8Y+i7c=", "", "malformed django-pbkdf2-sha256 base64"},
	{"Django sha512 (no such Django hasher)", "pbkdf2_sha512$1000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=", "", "unknown format"},

	{"truncated bcrypt", "$2a$10$abc", "", "passwordHash: malformed bcrypt hash"},
	{"bcrypt with a newline", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n", "", "malformed bcrypt hash"},
	{"bcrypt outside its alphabet", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!", "", "malformed bcrypt hash"},
	{"bcrypt cost 99", "$2a$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "passwordHash: bcrypt cost 99 is outside 4..15"},
	{"bcrypt cost 40", "$2y$40$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "bcrypt cost 40 is outside 4..15"},
	{"bcrypt cost 3", "$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "bcrypt cost 3 is outside 4..15"},
	{"bcrypt cost not digits", "$2a$x5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "malformed bcrypt hash"},

	{"argon2 memory too large", "$argon2id$v=19$m=8388608,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "passwordHash: argon2 memory 8388608 KiB is above the 262144 KiB cap"},
	{"argon2 work too large", "$argon2id$v=19$m=262144,t=5,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 work 262144 KiB × 5 passes is above the 1048576 KiB·passes cap (256 MiB × 4)"},
	{"argon2 time 0", "$argon2id$v=19$m=65536,t=0,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 time 0 is outside 1..10"},
	{"argon2 time 11", "$argon2i$v=19$m=64,t=11,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 time 11 is outside 1..10"},
	{"argon2 256 lanes", "$argon2id$v=19$m=65536,t=1,p=256$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 parallelism 256 is outside 1..16"},
	{"argon2 memory below 8 KiB a lane", "$argon2id$v=19$m=16,t=1,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "below 8 KiB for each of 4 lanes"},
	{"argon2 version 16", "$argon2id$v=16$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", `version "v=16" is not supported (v=19 only)`},
	{"argon2 without v= (the reference's 1.0 vector)", "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$6ckCB0tnVFMaOgvlGeW69ASzDOabPwGsO/ISKZYBCaM", "", "without v= is Argon2 version 1.0 (v=16); only v=19"},
	{"argon2 parameters out of order twice", "$argon2i$v=19$m=65536,m=65536,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "malformed argon2i parameters"},
	{"argon2 extra parameter", "$argon2i$v=19$m=65536,t=2,p=1,keyid=x$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "malformed argon2i parameters"},
	{"argon2 leading zero", "$argon2i$v=19$m=065536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "malformed argon2i parameters"},
	{"argon2 bad base64", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$!!!", "", "malformed argon2i base64"},
	{"argon2 padded base64", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ=$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "malformed argon2i base64"},
	{"argon2 line break in base64", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNh\nbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "malformed argon2i base64"},
	{"argon2 short salt", "$argon2i$v=19$m=65536,t=2,p=4$c2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2i salt of 4 bytes is outside 8..1024"},
	{"argon2 short hash", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$AAA", "", "argon2i hash of 2 bytes is outside 4..1024"},
	{"argon2 missing hash", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ", "", "malformed argon2id hash"},

	{"scrypt ln too large", "$scrypt$ln=30,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "passwordHash: scrypt ln 30 is outside 1..21"},
	{"scrypt ln 0", "$scrypt$ln=0,r=1,p=1$wvif8/4fg1Cq9V7L2dv73w$bJcLia1lyfQ1X2x0xflehwVXPzWIUQWWdnlGwfVzBeQ", "", "scrypt ln 0 is outside 1..21"},
	{"scrypt memory too large", "$scrypt$ln=20,r=16,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt memory 128·N·r with ln=20, r=16 is above the 256 MiB cap"},
	{"scrypt work too large", "$scrypt$ln=20,r=8,p=8$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt memory 128·N·r with ln=20, r=8 is above the 256 MiB cap"},
	{"scrypt p too large", "$scrypt$ln=4,r=1,p=17$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt p 17 is outside 1..16"},
	{"scrypt missing p (passlib's malformed test)", "$scrypt$ln=10,r=1$wvif8/4fg1Cq9V7L2dv73w$bJcLia1lyfQ1X2x0xflehwVXPzWIUQWWdnlGwfVzBeQ", "", "malformed scrypt parameters"},
	{"scrypt in ab64", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD.iCs5E", "", "malformed scrypt base64"},
	{"scrypt without digest (a passlib setting)", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q", "", "malformed scrypt hash"},

	{"pbkdf2 rounds 0", "$pbkdf2-sha256$0$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "passwordHash: pbkdf2-sha256 rounds 0 are outside 1..2000000"},
	{"pbkdf2 rounds too many", "$pbkdf2-sha512$99999999$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "pbkdf2-sha512 rounds 99999999 are outside 1..2000000"},
	{"pbkdf2 zero-padded rounds (passlib's malformed test)", "$pbkdf2$01212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", "", `malformed pbkdf2-sha1 rounds "01212"`},
	{"pbkdf2 empty rounds (passlib's malformed test)", "$pbkdf2$$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", "", `malformed pbkdf2-sha1 rounds ""`},
	{"pbkdf2 trailing $ (passlib's malformed test)", "$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc$", "", "malformed pbkdf2-sha1 hash"},
	{"pbkdf2 bad base64", "$pbkdf2-sha256$1000$c2Fsd*$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "malformed pbkdf2-sha256 base64"},

	{"sha512-crypt rounds too many", "$6$rounds=999999999$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "", "sha512-crypt rounds 999999999 are outside 1000..1000000"},
	{"sha256-crypt rounds=10 as a stored hash", "$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", "", "sha256-crypt rounds 10 are outside 1000..1000000"},
	{"sha256-crypt rounds with a sign", "$5$rounds=+5000$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "", `malformed sha256-crypt rounds "rounds=+5000"`},
	{"sha512-crypt short hash", "$6$salt$tooshort", "", "malformed sha512-crypt hash"},
	{"sha256-crypt salt too long", "$5$saltstringsaltstring$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "", "malformed sha256-crypt salt"},
	{"md5-crypt salt too long", "$1$rasmuslerdorf$rISCgZzpwk3UhDidwXvin0", "", "malformed md5-crypt salt"},
	{"md5-crypt with rounds", "$1$rounds=5000$rasmusle$rISCgZzpwk3UhDidwXvin0", "", "malformed md5-crypt hash"},
	{"md5-crypt outside its alphabet", "$1$rasmusle$rISCgZzpwk3UhDidwXvi+0", "", "malformed md5-crypt hash"},

	{"Traccar without salt", "PBKDF2WithHmacSHA256$1000$00ff00ff00ff00ff", "", "passwordSalt: Traccar's hashes need their hex salt"},
	{"Traccar legacy without salt", "5b2817d17b15c263fe14966913e31e519c8fc935214b6f28", "", "passwordSalt: Traccar's hashes need their hex salt"},
	{"Traccar iterations not a number", "PBKDF2WithHmacSHA256$x$00ff00ff00ff00ff", "00ff", "malformed PBKDF2WithHmacSHA256 hash"},
	{"Traccar iterations 0", "PBKDF2WithHmacSHA256$0$00ff00ff00ff00ff", "00ff", "PBKDF2WithHmacSHA256 iterations 0 are outside 1..2000000"},
	{"Traccar odd hex", "PBKDF2WithHmacSHA256$1000$00ff00ff00ff00f", "00ff", "malformed Traccar hash"},
	{"Traccar short hash", "PBKDF2WithHmacSHA256$1000$00ff", "00ff", "traccar-pbkdf2-sha256 hash of 2 bytes is outside 4..1024"},
	{"Traccar legacy of the wrong length", "0123456789abcdef", "00ff", "a legacy Traccar hash is 48 hex digits (24 bytes), not 16"},
	{"salt not hex", "PBKDF2WithHmacSHA256$1000$00ff00ff00ff00ff", "zz", "passwordSalt: want an even number of hex digits"},
	{"salt of odd length", "PBKDF2WithHmacSHA256$1000$00ff00ff00ff00ff", "abc", "passwordSalt: want an even number of hex digits"},
	{"salt with bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "00ff", "passwordSalt: only Traccar's hashes"},
	{"salt with a stored Traccar form", "$traccar-sha1$00ff$5b2817d17b15c263fe14966913e31e519c8fc935214b6f28", "00ff", "passwordSalt: only Traccar's hashes"},
	{"stored sha1 without salt", "$traccar-sha1$$5b2817d17b15c263fe14966913e31e519c8fc935214b6f28", "", "malformed $traccar-sha1$ hash"},
	{"stored sha256 missing a part", "$traccar-sha256$1000$00ff", "", "malformed $traccar-sha256$ hash"},
}

// TestRefusals: what is refused, with a message that says why.
func TestRefusals(t *testing.T) {
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			h, err := passhash.Parse(tc.hash, tc.salt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%.60q, %q) = %q, %v; want an error containing %q", tc.hash, tc.salt, h.Kind(), err, tc.want)
			}
			if h.Verify("") || h.Verify("password") {
				t.Errorf("a refused hash verifies")
			}
			if tc.salt == "" {
				if _, err := passhash.ParseStored(tc.hash); err == nil {
					t.Errorf("ParseStored(%.60q) accepted it", tc.hash)
				}
			}
		})
	}
	// Traccar's forms as Traccar keeps them are not stored forms.
	if _, err := passhash.ParseStored("PBKDF2WithHmacSHA256$1000$00ff00ff00ff00ff"); err == nil || !strings.Contains(err.Error(), "passwordSalt") {
		t.Errorf("ParseStored(PBKDF2WithHmacSHA256$…) = %v, want a passwordSalt error", err)
	}
}

// TestIsBcrypt: by prefix alone.
func TestIsBcrypt(t *testing.T) {
	for s, want := range map[string]bool{"$2a$x": true, "$2b$x": true, "$2y$x": true, "$2x$x": false, "$2$x": false, "": false, "$argon2id$": false} {
		if passhash.IsBcrypt(s) != want {
			t.Errorf("IsBcrypt(%q) = %v", s, !want)
		}
	}
}

// TestLongPasswordCryptFamily: md5-crypt's and SHA-crypt's work grows with
// the square of the password's length, so Verify considers passwords of
// up to 511 bytes (libxcrypt's limit) and no longer ones.
func TestLongPasswordCryptFamily(t *testing.T) {
	for _, tc := range []struct {
		source, hash string
		length       int
		want         bool
	}{
		// mkpasswd -m sha512crypt -S saltsalt -R 5000 (libxcrypt), 511 x's on standard input.
		{"mkpasswd", "$6$rounds=5000$saltsalt$JAV3aVyW8E1GiN.RBWNCuKunpF/l5jUawTna3MV8gb6VI4f7Oa6rd727mrkQuMnYSu8l64vcVSrgSX5LCXOrp/", 511, true},
		// passlib's sha512_crypt (which has no limit) of 512 x's; libxcrypt refuses to make it.
		{"passlib", "$6$saltsalt$fT49uKbSUSRrYiHN1bQ1pmKC0NXh/SrLex1wly9iyVSPa33SNv4bsCkGkNX2h94JsJv15C07N56GkTea3XEkw.", 512, false},
	} {
		h, err := passhash.Parse(tc.hash, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Verify(strings.Repeat("x", tc.length)); got != tc.want {
			t.Errorf("%s, %d bytes: Verify = %v, want %v", tc.source, tc.length, got, tc.want)
		}
	}
}

// TestCapsAdmitted: at each cap, a hash parses (Parse and ParseStored
// alike); just above, refusals has it refused.
func TestCapsAdmitted(t *testing.T) {
	for _, h := range []string{
		"$2a$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$argon2id$v=19$m=262144,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=65536,t=10,p=16$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$scrypt$ln=21,r=1,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE",
		"$scrypt$ln=18,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE",
		"$scrypt$ln=17,r=8,p=2$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE",
		"$pbkdf2-sha512$2000000$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M",
		"pbkdf2_sha256$2000000$seasalt$YIWkt6M1JFXrHg5s0jZjBSc7C2Cz6QvchSJ0h8Y+i7c=",
		"$6$rounds=1000000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
	} {
		if _, err := passhash.Parse(h, ""); err != nil {
			t.Errorf("Parse(%q): %v", h, err)
		}
		if _, err := passhash.ParseStored(h); err != nil {
			t.Errorf("ParseStored(%q): %v", h, err)
		}
	}
	if _, err := passhash.Parse("PBKDF2WithHmacSHA256$2000000$00ff00ff00ff00ff", "00ff"); err != nil {
		t.Errorf("Traccar at the cap: %v", err)
	}
}

// TestWeight: a check weighs its cores (argon2's lanes) or its memory in
// 64 MiB slots (argon2's m, scrypt's 128·N·r), whichever is more; every
// other kind one slot.
func TestWeight(t *testing.T) {
	for h, want := range map[string]int{
		"$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG":         4, // 64 MiB, 4 lanes
		"$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8": 1,
		"$argon2id$v=19$m=262144,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG":        4, // 256 MiB, one lane
		"$argon2id$v=19$m=65537,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG":         2, // 64 MiB + 1 KiB
		"$scrypt$ln=10,r=8,p=16$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE":           1, // 1 MiB
		"$scrypt$ln=18,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE":            4, // 256 MiB
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW":                        1,
	} {
		p, err := passhash.ParseStored(h)
		if err != nil || p.Weight() != want {
			t.Errorf("%s: Weight() = %d, %v; want %d", h, p.Weight(), err, want)
		}
	}
}
