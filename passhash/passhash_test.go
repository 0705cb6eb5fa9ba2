package passhash_test

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"usersvc/passhash"
)

// b64 and ab64 write published raw keys in the forms passlib stores:
// standard base64 without padding (scrypt), and with "." for "+" (PBKDF2).
func b64(b []byte) string  { return base64.RawStdEncoding.EncodeToString(b) }
func ab64(b []byte) string { return strings.ReplaceAll(b64(b), "+", ".") }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type vector struct {
	source, kind, hash, salt, password string
}

// publishedVectors are hashes whose passwords are published with them. The
// expected strings are copied from their sources, or (marked "from hex")
// put in passlib's or Traccar's form from a published raw key.
func publishedVectors(t testing.TB) []vector {
	rfc7914scrypt1 := unhex(t, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
	rfc7914scrypt2 := unhex(t, "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")
	rfc7914pbkdf2 := unhex(t, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d")
	rfc6070pbkdf2 := unhex(t, "4b007901b765489abead49d926f721d065a429c1")
	const drepper = "Drepper's SHA-crypt specification"
	const longer = "a very much longer text to encrypt.  This one even stretches over morethan one line."
	return []vector{
		// SHA-crypt: every vector of the specification (http://www.akkadia.org/drepper/SHA-crypt.txt),
		// the one with rounds=10 as crypt writes it (rounds=1000).
		{drepper, "sha256-crypt", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "", "Hello world!"},
		{drepper, "sha256-crypt", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "", "Hello world!"},
		{drepper, "sha256-crypt", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5", "", "This is just a test"},
		{drepper, "sha256-crypt", "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1", "", longer},
		{drepper, "sha256-crypt", "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/", "", "we have a short salt string but not a short password"},
		{drepper, "sha256-crypt", "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD", "", "a short string"},
		{drepper, "sha256-crypt", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", "", "the minimum number is still observed"},
		{"libxcrypt's tests (rounds=5000 written out)", "sha256-crypt", "$5$rounds=5000$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "", "Hello world!"},
		{drepper, "sha512-crypt", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "", "Hello world!"},
		{drepper, "sha512-crypt", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "", "Hello world!"},
		{drepper, "sha512-crypt", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0", "", "This is just a test"},
		{drepper, "sha512-crypt", "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1", "", longer},
		{drepper, "sha512-crypt", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0", "", "we have a short salt string but not a short password"},
		{drepper, "sha512-crypt", "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1", "", "a short string"},
		{drepper, "sha512-crypt", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.", "", "the minimum number is still observed"},
		{"php-src's crypt tests (empty salt)", "sha512-crypt", "$6$$QMXjqd7rHQZPQ1yHsXkQqC1FBzDiVfTHXL.LaeDAeVV.IzMaV9VU4MQ8kPuZa2SOP1A0RPm772EaFYjpEJtdu.", "", "foo"},

		// md5-crypt.
		{"passlib's md5_crypt documentation", "md5-crypt", "$1$3azHgidD$SrJPt7B.9rekpmwJwtON31", "", "password"},
		{"passlib's md5_crypt documentation (4-character salt)", "md5-crypt", "$1$wu98$9UuD3hvrwehnqyF1D548N0", "", "password"},
		{"openssl passwd's manual", "md5-crypt", "$1$xxxxxxxx$UYCIxa628.9qXjpQCjM4a.", "", "password"},
		{"PHP's crypt() documentation", "md5-crypt", "$1$rasmusle$rISCgZzpwk3UhDidwXvin0", "", "rasmuslerdorf"},

		// bcrypt: Openwall crypt_blowfish's vectors; $2b$ and $2y$ name the same algorithm.
		{"crypt_blowfish", "bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "U*U"},
		{"crypt_blowfish", "bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "", "U*U*"},
		{"crypt_blowfish", "bcrypt", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "", "U*U*U"},
		{"crypt_blowfish (past 72 bytes ignored)", "bcrypt", "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", "", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored"},
		{"crypt_blowfish as $2b$", "bcrypt", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "U*U"},
		{"crypt_blowfish as $2y$", "bcrypt", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "U*U"},
		{"PHP's crypt() documentation", "bcrypt", "$2a$07$usesomesillystringfore2uDLvp1Ii2e./U9C8sBjqp8I90dH6hi", "", "rasmuslerdorf"},

		// argon2: the reference implementation's src/test.c, and its README's example
		// (the cheapest first: TestEncodeRoundTrip takes the first of each kind).
		{"argon2 reference tests", "argon2i", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8", "", "password"},
		{"argon2 reference tests", "argon2i", "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E", "", "password"},
		{"argon2 reference tests", "argon2i", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA", "", "password"},
		{"argon2 README", "argon2i", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "password"},
		{"argon2 reference tests", "argon2id", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "", "password"},
		{"argon2 reference tests", "argon2id", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "", "password"},
		{"argon2 reference tests", "argon2id", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "", "password"},

		// scrypt: passlib's documentation, RFC 7914's vectors in passlib's form. (The
		// documentation's other example, ln=16, is passlib's default: 64 MiB, and slow
		// under the race detector; the tools' test makes a fresh one at ln=14 and 15.)
		{"passlib's scrypt documentation", "scrypt", "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ", "", "password"},
		{"RFC 7914 §12 in passlib's tests (empty salt)", "scrypt", "$scrypt$ln=4,r=1,p=1$$d9ZXYjhleyA7GcpCwYoEl/FrSETjB0ro39/6P+3iFEI", "", ""},
		{"RFC 7914 §12 (from hex)", "scrypt", "$scrypt$ln=10,r=8,p=16$" + b64([]byte("NaCl")) + "$" + b64(rfc7914scrypt1), "", "password"},
		{"RFC 7914 §12 (from hex)", "scrypt", "$scrypt$ln=14,r=8,p=1$" + b64([]byte("SodiumChloride")) + "$" + b64(rfc7914scrypt2), "", "pleaseletmein"},

		// PBKDF2: passlib's documentation and tests; RFC 6070 (SHA-1) and RFC 7914 §11 (SHA-256).
		{"passlib's pbkdf2_digest documentation", "pbkdf2-sha256", "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "password"},
		{"passlib's pbkdf2_digest documentation", "pbkdf2-sha256", "$pbkdf2-sha256$8000$XAuBMIYQQogxRg$tRRlz8hYn63B9LYiCd6PRo6FMiunY9ozmMMI3srxeRE", "", "password"},
		{"passlib's tests", "pbkdf2-sha256", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ", "", "password"},
		{"passlib's tests", "pbkdf2-sha512", "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww", "", "password"},
		{"passlib's tests", "pbkdf2-sha1", "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI", "", "password"},
		{"RFC 6070 (from hex)", "pbkdf2-sha1", "$pbkdf2$4096$" + ab64([]byte("salt")) + "$" + ab64(rfc6070pbkdf2), "", "password"},
		{"RFC 7914 §11 (from hex)", "pbkdf2-sha256", "$pbkdf2-sha256$80000$" + ab64([]byte("NaCl")) + "$" + ab64(rfc7914pbkdf2), "", "Password"},

		// Traccar's PBKDF2WithHmacSHA256 is RFC 7914's PBKDF2-HMAC-SHA256, in hex.
		{"RFC 7914 §11 (from hex)", "traccar-pbkdf2-sha256", "PBKDF2WithHmacSHA256$80000$" + hex.EncodeToString(rfc7914pbkdf2), hex.EncodeToString([]byte("NaCl")), "Password"},
		{"RFC 7914 §11 (from hex, upper case)", "traccar-pbkdf2-sha256", "PBKDF2WithHmacSHA256$80000$" + strings.ToUpper(hex.EncodeToString(rfc7914pbkdf2[:24])), "4E61436C", "Password"},
	}
}

// TestPublishedVectors: each published hash is read as its kind, verifies
// with its password and not with others, and so does its stored form.
func TestPublishedVectors(t *testing.T) {
	for _, v := range publishedVectors(t) {
		t.Run(v.kind+" "+v.source, func(t *testing.T) {
			t.Parallel()
			h, err := passhash.Parse(v.hash, v.salt)
			if err != nil {
				t.Fatalf("Parse(%q): %v", v.hash, err)
			}
			if h.Kind() != v.kind {
				t.Fatalf("%s: kind %q, want %q", v.hash, h.Kind(), v.kind)
			}
			if !h.Verify(v.password) {
				t.Errorf("%s: the published password %q does not verify", v.hash, v.password)
			}
			for _, wrong := range []string{"x" + v.password, strings.ToUpper(v.password) + "!"} {
				if h.Verify(wrong) {
					t.Errorf("%s: %q verifies too", v.hash, wrong)
				}
			}
		})
	}
}

// TestEncodeRoundTrip: for every kind, Encode's form reads back with
// ParseStored (and with Parse, as an export is imported again) as the
// same kind and the same stored form, and verifies the same password.
func TestEncodeRoundTrip(t *testing.T) {
	kinds := map[string]bool{}
	for _, v := range publishedVectors(t) {
		if kinds[v.kind] {
			continue // one a kind: the others cost time and add nothing here
		}
		kinds[v.kind] = true
		t.Run(v.kind, func(t *testing.T) {
			t.Parallel()
			h, err := passhash.Parse(v.hash, v.salt)
			if err != nil {
				t.Fatal(err)
			}
			stored := h.Encode()
			if v.salt == "" && stored != v.hash {
				t.Errorf("Encode() = %q, want the hash as given %q", stored, v.hash)
			}
			if v.salt != "" && (strings.Contains(stored, v.hash) || !strings.HasPrefix(stored, "$traccar-")) {
				t.Errorf("Encode() = %q, want Traccar's stored form with the salt inside", stored)
			}
			for name, parse := range map[string]func(string) (passhash.Hash, error){
				"ParseStored": passhash.ParseStored,
				"Parse":       func(s string) (passhash.Hash, error) { return passhash.Parse(s, "") },
			} {
				back, err := parse(stored)
				if err != nil {
					t.Fatalf("%s(%q): %v", name, stored, err)
				}
				if back.Kind() != v.kind || back.Encode() != stored || !back.Verify(v.password) || back.Verify(v.password+"x") {
					t.Errorf("%s(%q): kind %q, stored %q, right %v, wrong %v", name, stored, back.Kind(), back.Encode(), back.Verify(v.password), back.Verify(v.password+"x"))
				}
			}
		})
	}
	want := []string{"bcrypt", "argon2id", "argon2i", "scrypt", "pbkdf2-sha256", "pbkdf2-sha512", "pbkdf2-sha1",
		"md5-crypt", "sha256-crypt", "sha512-crypt", "traccar-pbkdf2-sha256", "traccar-pbkdf2-sha1"}
	kinds["traccar-pbkdf2-sha1"] = true // below: no published vector
	for _, k := range want {
		if !kinds[k] {
			t.Errorf("no round trip for %s", k)
		}
	}
	if len(kinds) != len(want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}

	// Traccar's legacy form: PBKDF2-HMAC-SHA1("secret", 000102…17, 1000
	// iterations, 24 bytes), computed by Python's hashlib.
	const legacy, legacySalt = "5b2817d17b15c263fe14966913e31e519c8fc935214b6f28", "000102030405060708090a0b0c0d0e0f1011121314151617"
	h, err := passhash.Parse(legacy, legacySalt)
	if err != nil || h.Kind() != "traccar-pbkdf2-sha1" || !h.Verify("secret") || h.Verify("Secret") {
		t.Fatalf("Traccar legacy: %v, kind %q", err, h.Kind())
	}
	if got, want := h.Encode(), "$traccar-sha1$"+legacySalt+"$"+legacy; got != want {
		t.Fatalf("Encode() = %q, want %q", got, want)
	}
	back, err := passhash.ParseStored(h.Encode())
	if err != nil || back.Kind() != h.Kind() || back.Encode() != h.Encode() || !back.Verify("secret") {
		t.Fatalf("stored %q: %v", h.Encode(), err)
	}
}

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

	{"truncated bcrypt", "$2a$10$abc", "", "passwordHash: malformed bcrypt hash"},
	{"bcrypt with a newline", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n", "", "malformed bcrypt hash"},
	{"bcrypt outside its alphabet", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!", "", "malformed bcrypt hash"},
	{"bcrypt cost 99", "$2a$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "passwordHash: bcrypt cost 99 is outside 4..31"},
	{"bcrypt cost 40", "$2y$40$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "bcrypt cost 40 is outside 4..31"},
	{"bcrypt cost 3", "$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "bcrypt cost 3 is outside 4..31"},
	{"bcrypt cost not digits", "$2a$x5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "", "malformed bcrypt hash"},

	{"argon2 memory too large", "$argon2id$v=19$m=8388608,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "passwordHash: argon2 memory 8388608 KiB is above the 1048576 KiB cap"},
	{"argon2 work too large", "$argon2id$v=19$m=1048576,t=5,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 work 1048576 KiB × 5 passes is above"},
	{"argon2 time 0", "$argon2id$v=19$m=65536,t=0,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 time 0 is outside 1..100"},
	{"argon2 time 101", "$argon2i$v=19$m=64,t=101,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 time 101 is outside 1..100"},
	{"argon2 256 lanes", "$argon2id$v=19$m=65536,t=1,p=256$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "", "argon2 parallelism 256 is outside 1..255"},
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

	{"scrypt ln too large", "$scrypt$ln=30,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "passwordHash: scrypt ln 30 is outside 1..23"},
	{"scrypt ln 0", "$scrypt$ln=0,r=1,p=1$wvif8/4fg1Cq9V7L2dv73w$bJcLia1lyfQ1X2x0xflehwVXPzWIUQWWdnlGwfVzBeQ", "", "scrypt ln 0 is outside 1..23"},
	{"scrypt memory too large", "$scrypt$ln=20,r=16,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt memory 128·N·r with ln=20, r=16 is above the 1024 MiB cap"},
	{"scrypt work too large", "$scrypt$ln=20,r=8,p=8$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt work 128·N·r·p = 8192 MiB is above the 4096 MiB cap"},
	{"scrypt p too large", "$scrypt$ln=4,r=1,p=17$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "", "scrypt p 17 is outside 1..16"},
	{"scrypt missing p (passlib's malformed test)", "$scrypt$ln=10,r=1$wvif8/4fg1Cq9V7L2dv73w$bJcLia1lyfQ1X2x0xflehwVXPzWIUQWWdnlGwfVzBeQ", "", "malformed scrypt parameters"},
	{"scrypt in ab64", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD.iCs5E", "", "malformed scrypt base64"},
	{"scrypt without digest (a passlib setting)", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q", "", "malformed scrypt hash"},

	{"pbkdf2 rounds 0", "$pbkdf2-sha256$0$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "passwordHash: pbkdf2-sha256 rounds 0 are outside 1..10000000"},
	{"pbkdf2 rounds too many", "$pbkdf2-sha512$99999999$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "pbkdf2-sha512 rounds 99999999 are outside 1..10000000"},
	{"pbkdf2 zero-padded rounds (passlib's malformed test)", "$pbkdf2$01212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", "", `malformed pbkdf2-sha1 rounds "01212"`},
	{"pbkdf2 empty rounds (passlib's malformed test)", "$pbkdf2$$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", "", `malformed pbkdf2-sha1 rounds ""`},
	{"pbkdf2 trailing $ (passlib's malformed test)", "$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc$", "", "malformed pbkdf2-sha1 hash"},
	{"pbkdf2 bad base64", "$pbkdf2-sha256$1000$c2Fsd*$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "", "malformed pbkdf2-sha256 base64"},

	{"sha512-crypt rounds too many", "$6$rounds=999999999$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "", "sha512-crypt rounds 999999999 are outside 1000..10000000"},
	{"sha256-crypt rounds=10 as a stored hash", "$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", "", "sha256-crypt rounds 10 are outside 1000..10000000"},
	{"sha256-crypt rounds with a sign", "$5$rounds=+5000$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "", `malformed sha256-crypt rounds "rounds=+5000"`},
	{"sha512-crypt short hash", "$6$salt$tooshort", "", "malformed sha512-crypt hash"},
	{"sha256-crypt salt too long", "$5$saltstringsaltstring$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "", "malformed sha256-crypt salt"},
	{"md5-crypt salt too long", "$1$rasmuslerdorf$rISCgZzpwk3UhDidwXvin0", "", "malformed md5-crypt salt"},
	{"md5-crypt with rounds", "$1$rounds=5000$rasmusle$rISCgZzpwk3UhDidwXvin0", "", "malformed md5-crypt hash"},
	{"md5-crypt outside its alphabet", "$1$rasmusle$rISCgZzpwk3UhDidwXvi+0", "", "malformed md5-crypt hash"},

	{"Traccar without salt", "PBKDF2WithHmacSHA256$1000$00ff00ff00ff00ff", "", "passwordSalt: Traccar's hashes need their hex salt"},
	{"Traccar legacy without salt", "5b2817d17b15c263fe14966913e31e519c8fc935214b6f28", "", "passwordSalt: Traccar's hashes need their hex salt"},
	{"Traccar iterations not a number", "PBKDF2WithHmacSHA256$x$00ff00ff00ff00ff", "00ff", "malformed PBKDF2WithHmacSHA256 hash"},
	{"Traccar iterations 0", "PBKDF2WithHmacSHA256$0$00ff00ff00ff00ff", "00ff", "PBKDF2WithHmacSHA256 iterations 0 are outside 1..10000000"},
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

// generated is a hash made by a tool nobody here wrote.
type generated struct{ tool, kind, hash, salt string }

// debianPython is Debian's Python, where python3-passlib and python3-argon2
// are installed; a python3 earlier on PATH may be another.
const debianPython = "/usr/bin/python3"

// toolHashes hashes password with independent generators from Debian's
// packages: openssl passwd (openssl), mkpasswd (whois), htpasswd
// (apache2-utils), the argon2 command (argon2), passlib (python3-passlib,
// and python3-argon2 for its argon2) and Python's hashlib. A missing tool
// skips the test, except in CI, which installs them.
func toolHashes(t *testing.T, password string) []generated {
	t.Helper()
	run := func(stdin, name string, args ...string) string {
		t.Helper()
		path, err := exec.LookPath(name)
		if err != nil {
			const pkgs = "apt-get install whois apache2-utils argon2 python3-passlib python3-argon2 openssl"
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (%s)", name, pkgs)
			}
			t.Skipf("%s is not installed (%s)", name, pkgs)
		}
		cmd := exec.Command(path, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %q: %v", name, args, err)
		}
		return strings.TrimSpace(string(out))
	}
	py := func(code string) string {
		return run(password, debianPython, "-c", "import sys, os, base64, hashlib\npw = sys.stdin.buffer.read()\n"+code)
	}
	if py("import passlib; print('ok')") != "ok" {
		t.Fatal("passlib does not load")
	}
	_, htpasswd, _ := strings.Cut(run("", "htpasswd", "-nbBC", "5", "user", password), ":")
	hs := []generated{
		{"openssl passwd -1", "md5-crypt", run(password, "openssl", "passwd", "-1", "-salt", "Zq3.x/9a", "-stdin"), ""},
		{"openssl passwd -5", "sha256-crypt", run(password, "openssl", "passwd", "-5", "-salt", "saltSALTsalt./09", "-stdin"), ""},
		{"openssl passwd -6", "sha512-crypt", run(password, "openssl", "passwd", "-6", "-salt", "0123456789abcdef", "-stdin"), ""},
		{"mkpasswd -m sha-512", "sha512-crypt", run(password, "mkpasswd", "-m", "sha-512", "--stdin"), ""},
		{"mkpasswd -m sha-512 -R 20000", "sha512-crypt", run(password, "mkpasswd", "-m", "sha-512", "-R", "20000", "--stdin"), ""},
		{"mkpasswd -m sha256crypt -R 1000", "sha256-crypt", run(password, "mkpasswd", "-m", "sha256crypt", "-R", "1000", "--stdin"), ""},
		{"mkpasswd -m md5crypt", "md5-crypt", run(password, "mkpasswd", "-m", "md5crypt", "--stdin"), ""},
		{"mkpasswd -m bcrypt -R 5", "bcrypt", run(password, "mkpasswd", "-m", "bcrypt", "-R", "5", "--stdin"), ""},
		{"mkpasswd -m bcrypt-a -R 4", "bcrypt", run(password, "mkpasswd", "-m", "bcrypt-a", "-R", "4", "--stdin"), ""},
		{"htpasswd -nbBC 5", "bcrypt", htpasswd, ""},
		{"argon2 -id -e", "argon2id", run(password, "argon2", "somesalt", "-id", "-e"), ""},
		{"argon2 -i -e", "argon2i", run(password, "argon2", "somesalt", "-i", "-e"), ""},
		{"argon2 -id -t 2 -m 12 -p 2 -l 64", "argon2id", run(password, "argon2", "saltsaltsalt", "-id", "-t", "2", "-m", "12", "-p", "2", "-l", "64", "-e"), ""},
		{"passlib pbkdf2_sha256", "pbkdf2-sha256", py("from passlib.hash import pbkdf2_sha256 as h; print(h.hash(pw))"), ""},
		{"passlib pbkdf2_sha512", "pbkdf2-sha512", py("from passlib.hash import pbkdf2_sha512 as h; print(h.hash(pw))"), ""},
		{"passlib pbkdf2_sha1", "pbkdf2-sha1", py("from passlib.hash import pbkdf2_sha1 as h; print(h.using(rounds=29000).hash(pw))"), ""},
		{"passlib scrypt", "scrypt", py("from passlib.hash import scrypt as h; print(h.using(rounds=14).hash(pw))"), ""},
		{"passlib md5_crypt", "md5-crypt", py("from passlib.hash import md5_crypt as h; print(h.hash(pw))"), ""},
		{"passlib sha256_crypt", "sha256-crypt", py("from passlib.hash import sha256_crypt as h; print(h.using(rounds=20000).hash(pw))"), ""},
		{"passlib sha512_crypt", "sha512-crypt", py("from passlib.hash import sha512_crypt as h; print(h.using(rounds=20000).hash(pw))"), ""},
	}
	// hashlib, writing passlib's forms by hand: ab64 for PBKDF2, plain
	// unpadded base64 for scrypt (as passlib's own source writes them).
	for _, line := range strings.Split(py(`
b64 = lambda b: base64.b64encode(b).decode().rstrip('=')
ab64 = lambda b: b64(b).replace('+', '.')
for name, ident, n in (('sha256', 'pbkdf2-sha256', 32), ('sha512', 'pbkdf2-sha512', 64), ('sha1', 'pbkdf2', 20)):
    s = os.urandom(16)
    print('hashlib.pbkdf2_hmac %s' % name, '$%s$%d$%s$%s' % (ident, 29000, ab64(s), ab64(hashlib.pbkdf2_hmac(name, pw, s, 29000, n))))
s = os.urandom(16)
k = hashlib.scrypt(pw, salt=s, n=1 << 12, r=8, p=2, maxmem=64 << 20, dklen=32)
print('hashlib.scrypt', '$scrypt$ln=12,r=8,p=2$%s$%s' % (b64(s), b64(k)))
`), "\n") {
		tool, h, _ := strings.Cut(line, " $")
		kind := map[string]string{"sha256": "pbkdf2-sha256", "sha512": "pbkdf2-sha512", "sha1": "pbkdf2-sha1"}[strings.TrimPrefix(tool, "hashlib.pbkdf2_hmac ")]
		if tool == "hashlib.scrypt" {
			kind = "scrypt"
		}
		hs = append(hs, generated{tool, kind, "$" + h, ""})
	}
	// hashlib, as Traccar writes: a 24-byte salt and a 24-byte key, in hex.
	// (Traccar uses 200,000 iterations; fewer here keep the race detector's
	// run short, and the count is read from the hash either way.)
	split := func(s string) (string, string) { h, salt, _ := strings.Cut(s, " "); return h, salt }
	h256, s256 := split(py("s = os.urandom(24); print('PBKDF2WithHmacSHA256$20000$' + hashlib.pbkdf2_hmac('sha256', pw, s, 20000, 24).hex(), s.hex())"))
	h1, s1 := split(py("s = os.urandom(24); print(hashlib.pbkdf2_hmac('sha1', pw, s, 1000, 24).hex().upper(), s.hex().upper())"))
	hs = append(hs,
		generated{"hashlib as Traccar's PBKDF2WithHmacSHA256", "traccar-pbkdf2-sha256", h256, s256},
		generated{"hashlib as Traccar's legacy PBKDF2-SHA1", "traccar-pbkdf2-sha1", h1, s1})
	// passlib's argon2 needs its argon2-cffi backend (python3-argon2).
	if py("from passlib.hash import argon2; print(argon2.has_backend())") == "True" {
		hs = append(hs,
			generated{"passlib argon2 (ID)", "argon2id", py("from passlib.hash import argon2 as h; print(h.using(type='ID', memory_cost=16384).hash(pw))"), ""},
			generated{"passlib argon2 (I)", "argon2i", py("from passlib.hash import argon2 as h; print(h.using(type='I', memory_cost=8192).hash(pw))"), ""})
	} else {
		t.Log("passlib's argon2 has no backend here (Debian's python3-argon2): its hashes are not tested")
	}
	return hs
}

// TestIndependentTools: hashes made by tools nobody here wrote verify with
// the right password and not with a wrong one, and so do their stored
// forms.
func TestIndependentTools(t *testing.T) {
	const password = "correct horse battery staple é"
	const wrong = "correct horse battery staple e"
	for _, g := range toolHashes(t, password) {
		t.Run(g.tool, func(t *testing.T) {
			t.Parallel()
			h, err := passhash.Parse(g.hash, g.salt)
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", g.hash, g.salt, err)
			}
			if h.Kind() != g.kind {
				t.Fatalf("%s: kind %q, want %q", g.hash, h.Kind(), g.kind)
			}
			if !h.Verify(password) {
				t.Errorf("%s: the right password does not verify", g.hash)
			}
			if h.Verify(wrong) {
				t.Errorf("%s: a wrong password verifies", g.hash)
			}
			back, err := passhash.ParseStored(h.Encode())
			if err != nil || back.Kind() != g.kind || !back.Verify(password) {
				t.Errorf("stored form %q: %v", h.Encode(), err)
			}
		})
	}
}

// FuzzParse: no input panics, and whatever parses has a kind and a stored
// form that reads back (with ParseStored, and with Parse as an export
// imported again) as the same kind and the same stored form.
func FuzzParse(f *testing.F) {
	for _, r := range refusals {
		f.Add(r.hash, r.salt)
	}
	for _, v := range publishedVectors(f) {
		f.Add(v.hash, v.salt)
	}
	f.Add("$traccar-sha256$1$00$00000000", "")
	f.Add("$traccar-sha1$00$000000000000000000000000000000000000000000000000", "")
	f.Fuzz(func(t *testing.T, hash, salt string) {
		h, err := passhash.Parse(hash, salt)
		if err != nil {
			if h.Kind() != "" {
				t.Fatalf("an error with a kind: %q", h.Kind())
			}
			return
		}
		if h.Kind() == "" {
			t.Fatalf("%q parsed without a kind", hash)
		}
		for name, parse := range map[string]func(string) (passhash.Hash, error){
			"ParseStored": passhash.ParseStored,
			"Parse":       func(s string) (passhash.Hash, error) { return passhash.Parse(s, "") },
		} {
			back, err := parse(h.Encode())
			if err != nil || back.Kind() != h.Kind() || back.Encode() != h.Encode() {
				t.Fatalf("%q (salt %q) parsed as %s, but %s of its stored form %q: %v, %q", hash, salt, h.Kind(), name, h.Encode(), err, back.Kind())
			}
		}
	})
}
