package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ExternalHash is a password hash made by a tool nobody here wrote.
type ExternalHash struct {
	Tool, Kind, Hash, Salt string
}

// debianPython is Debian's Python, where python3-passlib is installed (a
// python3 earlier on PATH may be another).
const debianPython = "/usr/bin/python3"

// ExternalHashes hashes password with independent generators from
// Debian's packages: openssl passwd, mkpasswd (whois), htpasswd
// (apache2-utils), the argon2 command, passlib (python3-passlib) and
// Python's hashlib (Traccar's two PBKDF2 forms, with their hex salts). A
// missing tool skips the test, except in CI (which installs them).
func ExternalHashes(t testing.TB, password string) []ExternalHash {
	t.Helper()
	run := func(stdin, name string, args ...string) string {
		t.Helper()
		path, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (CI installs whois, apache2-utils, argon2, python3-passlib)", name)
			}
			t.Skipf("%s is not installed (Debian packages whois, apache2-utils, argon2, python3-passlib)", name)
		}
		cmd := exec.Command(path, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return strings.TrimSpace(string(out))
	}
	py := func(code string) string { return run(password, debianPython, "-c", "import sys, os, hashlib\n"+code) }
	split := func(s string) (string, string) { h, salt, _ := strings.Cut(s, " "); return h, salt }
	_, bcryptHash, _ := strings.Cut(run("", "htpasswd", "-nbBC", "5", "user", password), ":")
	sha256Traccar, sha256Salt := split(py("s=os.urandom(16); k=hashlib.pbkdf2_hmac('sha256', sys.stdin.read().encode(), s, 27500, 32); print('PBKDF2WithHmacSHA256$27500$'+k.hex(), s.hex())"))
	sha1Traccar, sha1Salt := split(py("s=os.urandom(24); k=hashlib.pbkdf2_hmac('sha1', sys.stdin.read().encode(), s, 1000, 24); print(k.hex().upper(), s.hex().upper())"))
	return []ExternalHash{
		{"openssl passwd -1", "md5-crypt", run(password, "openssl", "passwd", "-1", "-stdin"), ""},
		{"openssl passwd -5", "sha256-crypt", run(password, "openssl", "passwd", "-5", "-stdin"), ""},
		{"openssl passwd -6", "sha512-crypt", run(password, "openssl", "passwd", "-6", "-stdin"), ""},
		{"mkpasswd -m sha-512 -R 20000", "sha512-crypt", run(password, "mkpasswd", "-m", "sha-512", "-R", "20000", "--stdin"), ""},
		{"mkpasswd -m md5crypt", "md5-crypt", run(password, "mkpasswd", "-m", "md5crypt", "--stdin"), ""},
		{"htpasswd -B", "bcrypt", bcryptHash, ""},
		{"argon2 -id", "argon2id", run(password, "argon2", "saltsaltsalt", "-id", "-t", "2", "-m", "12", "-p", "2", "-e"), ""},
		{"argon2 -i", "argon2i", run(password, "argon2", "saltsaltsalt", "-i", "-e"), ""},
		{"passlib pbkdf2_sha256", "pbkdf2-sha256", py("from passlib.hash import pbkdf2_sha256; print(pbkdf2_sha256.hash(sys.stdin.read()))"), ""},
		{"passlib pbkdf2_sha512", "pbkdf2-sha512", py("from passlib.hash import pbkdf2_sha512; print(pbkdf2_sha512.hash(sys.stdin.read()))"), ""},
		{"passlib pbkdf2_sha1", "pbkdf2-sha1", py("from passlib.hash import pbkdf2_sha1; print(pbkdf2_sha1.hash(sys.stdin.read()))"), ""},
		{"passlib scrypt", "scrypt", py("from passlib.hash import scrypt; print(scrypt.using(rounds=12).hash(sys.stdin.read()))"), ""},
		{"hashlib Traccar PBKDF2WithHmacSHA256", "traccar-pbkdf2-sha256", sha256Traccar, sha256Salt},
		{"hashlib Traccar legacy PBKDF2-SHA1", "traccar-pbkdf2-sha1", sha1Traccar, sha1Salt},
	}
}
