package usersvc_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"usersvc"
	"usersvc/internal/testenv"
)

// hashLog counts the slow hashes a service runs (usersvc.SetHashHook).
type hashLog struct {
	mu  sync.Mutex
	ops []string
	// block, when set, is called inside the hash's slot before it counts.
	block func()
}

func (l *hashLog) hook(op string, cost int) {
	if l.block != nil {
		l.block()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cost > 0 {
		op = fmt.Sprintf("%s %d", op, cost)
	}
	l.ops = append(l.ops, op)
}

// take returns the hashes counted since the last take.
func (l *hashLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := l.ops
	l.ops = nil
	return ops
}

func count(ops []string, op string) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

// argon2Hash is an argon2id PHC string of password, at small parameters.
func argon2Hash(password string) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func bcryptHash(t testing.TB, password string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// importUser imports one user with a password hash and fails the test if
// the line is refused.
func importUser(t *testing.T, svc *usersvc.Service, id, email, hash string) {
	t.Helper()
	line := fmt.Sprintf(`{"id":%q,"passwordHash":%q,`+importDoc+"}\n", id, hash, email)
	if counts, fails := importAll(t, svc, line, usersvc.ImportOptions{}); counts.Created != 1 {
		t.Fatalf("import %s: %+v %+v", id, counts, fails)
	}
}

// storeHash puts a hash in a user's row as it is, as an import under
// older, wider caps did.
func storeHash(t *testing.T, e *testenv.Env, id, hash string) {
	t.Helper()
	u, err := e.Store.User(context.Background(), id, false)
	if err != nil {
		t.Fatal(err)
	}
	after := u.Clone()
	after.PasswordHash = hash
	after.Version = u.Version + 1
	if ok, err := e.Store.SaveUser(context.Background(), &usersvc.UserSave{User: after, Version: u.Version,
		Entry: &usersvc.AuditEntry{UserID: id, At: e.Clock.Now(), Actor: "test", Action: "import", Patch: []usersvc.PatchOperation{}}}); err != nil || !ok {
		t.Fatalf("store the hash: %v, %v", ok, err)
	}
}

func signInCtx() context.Context {
	return usersvc.WithClientAddr(context.Background(), "192.0.2.7")
}

// TestImportRefusesAboveCaps: a line whose hash costs more than the caps
// is refused with the cap in its message, and nothing is stored.
func TestImportRefusesAboveCaps(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		before := userCount(t, e)
		for i, tc := range []struct{ hash, want string }{
			{"$2a$16$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "bcrypt cost 16 is outside 4..15"},
			{"$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "bcrypt cost 31 is outside 4..15"},
			{"$argon2id$v=19$m=1048576,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "above the 262144 KiB cap"},
			{"$scrypt$ln=20,r=8,p=1$c2FsdA$FE8Vp8fwcNY9jOZ1Bw2dENy7rSGNBAiIrAbe5qNp2IE", "above the 256 MiB cap"},
			{"$pbkdf2-sha256$10000000$c2FsdA$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M", "outside 1..2000000"},
			{"$6$rounds=5000000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "outside 1000..1000000"},
		} {
			line := fmt.Sprintf(`{"id":"capped-%d","passwordHash":%q,`+importDoc+"}\n", i, tc.hash, fmt.Sprintf("capped%d@example.com", i))
			counts, fails := importAll(t, e.Svc, line, usersvc.ImportOptions{})
			if counts.Created != 0 || len(fails) != 1 || !strings.Contains(fails[0].Message, tc.want) {
				t.Errorf("%.20s…: %+v %+v; want refused with %q", tc.hash, counts, fails, tc.want)
			}
		}
		if n := userCount(t, e); n != before {
			t.Fatalf("%d users, want %d", n, before)
		}
	})
}

// TestWrongPasswordCostsTheSame: a wrong password takes a native
// account's check time on every path. A native account runs its bcrypt
// comparison at the configured cost; every other path (unknown email,
// imported bcrypt of a lower cost, imported argon2, a stored hash above
// today's caps, which is never computed at its own cost) runs its own
// check, if any, then waits out the rest of the native check's time
// (the pad); before the process has timed a native check, it compares
// with the dummy hash instead. The wait asked for is checked, not
// measured: the native time is set, and each path must ask for that time
// less what its own check took.
func TestWrongPasswordCostsTheSame(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		const pw = "correct horse battery"
		e.Svc.BcryptCost = 6 // above the imported bcrypt's 4
		log := &hashLog{}
		usersvc.SetHashHook(e.Svc, log.hook)
		var pads []time.Duration
		usersvc.SetPadHook(e.Svc, func(d time.Duration) { pads = append(pads, d) })
		sys := usersvc.SystemContext(context.Background())
		p := pw
		if _, err := e.Svc.CreateUser(sys, usersvc.NewUserInput{Name: "N", Email: "native@example.com", Country: "ES", TimeZone: "UTC", Password: &p}.Document()); err != nil {
			t.Fatal(err)
		}
		importUser(t, e.Svc, "imp-bcrypt", "bcrypt4@example.com", bcryptHash(t, pw, 4))
		importUser(t, e.Svc, "imp-argon2", "argon2@example.com", argon2Hash(pw))
		importUser(t, e.Svc, "imp-capped", "capped@example.com", bcryptHash(t, pw, 4))
		storeHash(t, e, "imp-capped", "$2a$16$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")
		log.take()
		wrong := func(email string) []string {
			t.Helper()
			pads = nil
			if _, err := e.Svc.Login(signInCtx(), email, pw+"!"); usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
				t.Fatalf("%s: %v, want the sign-in failure", email, err)
			}
			return log.take()
		}
		// Before any native check was timed: the dummy's comparison.
		if ops := wrong("nobody@example.com"); len(ops) != 1 || ops[0] != "compare 6" || len(pads) != 0 {
			t.Errorf("first unknown email: hashes %q, pads %v; want the dummy's compare at cost 6 and no pad", ops, pads)
		}
		const native = 10 * time.Second // far above any real check here: every path pads
		for _, tc := range []struct {
			email string
			own   []string // the account's own check
			pad   bool
		}{
			{"native@example.com", []string{"compare 6"}, false},
			{"nobody@example.com", nil, true},
			{"bcrypt4@example.com", []string{"compare 4"}, true},
			{"argon2@example.com", []string{"verify argon2id"}, true},
			{"capped@example.com", nil, true},
		} {
			usersvc.SetNativeCheckTime(e.Svc, native)
			ops := wrong(tc.email)
			if !slices.Equal(ops, tc.own) {
				t.Errorf("%s: hashes %q, want %q", tc.email, ops, tc.own)
			}
			switch {
			case !tc.pad && len(pads) != 0:
				t.Errorf("%s: padded %v, want no pad", tc.email, pads)
			case tc.pad && (len(pads) != 1 || pads[0] <= native-2*time.Second || pads[0] > native):
				t.Errorf("%s: pads %v, want one of the native %v less the own check's time", tc.email, pads, native)
			}
		}
	})
}

// TestDjangoHashSignsIn: Django's pbkdf2_sha256$… hashes (made by passlib,
// passhash/testdata/django.sh) import, sign in, and are upgraded.
func TestDjangoHashSignsIn(t *testing.T) {
	b, err := os.ReadFile("passhash/testdata/django.txt")
	if err != nil {
		t.Fatal(err)
	}
	testenv.ForEachDB(t, func(t *testing.T, db testenv.DB) {
		e := testenv.Start(t, db)
		for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			pw, hash, _ := strings.Cut(line, "\t")
			if len(pw) < usersvc.MinPasswordLen {
				continue // the vector of the empty password: no sign-in sends one
			}
			id, email := fmt.Sprintf("dj-%d", i), fmt.Sprintf("dj%d@example.com", i)
			importUser(t, e.Svc, id, email, hash)
			if _, err := e.Svc.Login(signInCtx(), email, pw+"x"); usersvc.ErrorCode(err) != usersvc.EUnauthenticated {
				t.Fatalf("%s, wrong password: %v", hash, err)
			}
			if _, err := e.Svc.Login(signInCtx(), email, pw); err != nil {
				t.Fatalf("%s: %v", hash, err)
			}
			if u, err := e.Store.User(context.Background(), id, false); err != nil || !passhashIsBcrypt(u.PasswordHash) {
				t.Fatalf("%s: not upgraded (%v)", hash, err)
			}
		}
	})
}

func passhashIsBcrypt(s string) bool { return strings.HasPrefix(s, "$2a$") }
