package passhash_test

import (
	"encoding/base64"
	"encoding/hex"
	"os"
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
	return append([]vector{
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
	}, djangoVectors(t)...)
}

// djangoVectors are Django's PBKDF2 hashes that passlib wrote
// (testdata/django.sh made testdata/django.txt: password, tab, hash).
func djangoVectors(t testing.TB) []vector {
	b, err := os.ReadFile("testdata/django.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []vector
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		pw, h, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("testdata/django.txt: %q has no tab", line)
		}
		kind := "django-pbkdf2-sha256"
		if strings.HasPrefix(h, "pbkdf2_sha1$") {
			kind = "django-pbkdf2-sha1"
		}
		out = append(out, vector{"passlib's django_pbkdf2 (testdata/django.sh)", kind, h, "", pw})
	}
	return out
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
		"django-pbkdf2-sha256", "django-pbkdf2-sha1", "md5-crypt", "sha256-crypt", "sha512-crypt", "traccar-pbkdf2-sha256", "traccar-pbkdf2-sha1"}
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
