package passhash_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"usersvc/passhash"
)

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
